"""A programme's session plan (the *déroulé*), as the HR platform sends it in ProgrammeDefined.

The plan is the framed sequence of themed sessions every pair of the programme follows, with
the cadence, the programme's dates and the follow-up rules (stall threshold, feedback, pulse
check-ins). Every
text a person reads exists in French and English. Omitting ``sessions`` gives the default
déroulé of six sessions (:func:`default_planned_sessions`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from binome_shared.contracts.moments import CommandDay, TimeZoneName
from binome_shared.contracts.values import LocalisedText

SESSION_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

MAX_PLANNED_SESSIONS = 24
"""Longest déroulé; session numbers in commands and events go from 1 to this."""


class SequencePolicy(StrEnum):
    """Whether the themed sessions must be held in the order of the plan."""

    STRICT = "strict"
    """Session *n* can be reported held only once every earlier session is held or skipped."""
    FREE = "free"
    """Sessions may be held in any order."""


class PlannedSession(BaseModel):
    """One themed session of the déroulé; its position is its place in the plan's list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(
        pattern=SESSION_KEY_PATTERN,
        max_length=64,
        description=(
            "Stable identifier of the session within the plan (lower-case letters, digits, "
            "'-' and '_'); commands from calendar tools name the session by this key."
        ),
        examples=["kick-off", "social-networks"],
    )
    title: LocalisedText = Field(
        description="Short title of the session's theme.",
        examples=[
            {
                "fr": "Réseaux sociaux et marque personnelle",
                "en": "Social networks and personal brand",
            }
        ],
    )
    description: LocalisedText = Field(
        description="What the session covers, in a sentence or two.",
        examples=[
            {
                "fr": "Tour d'horizon de LinkedIn et des réseaux utiles au dirigeant.",
                "en": "A tour of LinkedIn and the networks that matter to an executive.",
            }
        ],
    )
    duration_minutes: int | None = Field(
        default=None,
        ge=15,
        le=480,
        description="Length of this session; null means the plan's session_duration_minutes.",
        examples=[90, None],
    )
    skippable: bool = Field(
        default=True,
        description=(
            "Whether HR or the pair may skip this session; the kick-off and the review "
            "usually may not."
        ),
        examples=[True, False],
    )


class FeedbackSettings(BaseModel):
    """Which feedback the programme asks of both sides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_each_session: bool = Field(
        default=True,
        description="Ask both sides for a rating and a comment after every held session.",
        examples=[True],
    )
    end_of_programme: bool = Field(
        default=True,
        description="Ask both sides for a final rating and comment once the pair completes.",
        examples=[True],
    )
    fit_question_after_first_session: bool = Field(
        default=True,
        description=(
            "Ask 'is this pair a good fit?' with the feedback on the pair's first held "
            "session; a 'no' raises a fit concern so that the pair can be re-formed."
        ),
        examples=[True],
    )
    comment_max_length: int = Field(
        default=2000,
        ge=1,
        le=10000,
        description="Longest accepted feedback comment, in characters.",
        examples=[2000],
    )
    request_delay_hours: int = Field(
        default=2,
        ge=0,
        le=168,
        description="How long after a held session the feedback request is sent.",
        examples=[2],
    )


class PulseSettings(BaseModel):
    """The rhythm of pulse check-ins: each member of a running pair is asked "on track / we
    need help" this many days after the pair's start, then at every interval, until the pair
    ends (added in DefineProgramme 1.3; a plan without it gets these defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True,
        description="Ask the pairs for pulse check-ins at all.",
        examples=[True],
    )
    first_after_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description=(
            "Days from the pair's start (its formation, or the programme's first day if later) "
            "to the first check-in."
        ),
        examples=[30],
    )
    every_days: int = Field(
        default=60,
        ge=7,
        le=365,
        description="Days between one check-in and the next.",
        examples=[60],
    )


def default_planned_sessions() -> tuple[PlannedSession, ...]:
    """The default déroulé: six themed sessions from kick-off to review."""
    return (
        PlannedSession(
            key="kick-off",
            title=LocalisedText(fr="Lancement et objectifs", en="Kick-off and objectives"),
            description=LocalisedText(
                fr=(
                    "Faire connaissance, poser les règles du binôme et fixer des objectifs "
                    "précis des deux côtés."
                ),
                en=(
                    "Get to know each other, agree the pair's ground rules and set precise "
                    "objectives on both sides."
                ),
            ),
            skippable=False,
        ),
        PlannedSession(
            key="social-networks",
            title=LocalisedText(
                fr="Réseaux sociaux et marque personnelle",
                en="Social networks and personal brand",
            ),
            description=LocalisedText(
                fr=(
                    "LinkedIn et les réseaux utiles au dirigeant : profil, prise de parole, "
                    "veille et bonnes pratiques."
                ),
                en=(
                    "LinkedIn and the networks that matter to an executive: profile, "
                    "posting, monitoring and good practice."
                ),
            ),
        ),
        PlannedSession(
            key="collaborative-tools",
            title=LocalisedText(fr="Outils collaboratifs", en="Collaborative tools"),
            description=LocalisedText(
                fr=(
                    "Messagerie d'équipe, documents partagés, visioconférence : travailler "
                    "autrement avec ses équipes."
                ),
                en=(
                    "Team chat, shared documents, video calls: new ways of working with "
                    "one's teams."
                ),
            ),
        ),
        PlannedSession(
            key="generative-ai",
            title=LocalisedText(fr="IA générative", en="Generative AI"),
            description=LocalisedText(
                fr=(
                    "Comprendre et essayer les assistants d'IA générative, leurs usages et "
                    "leurs limites."
                ),
                en=(
                    "Understand and try generative AI assistants, what they are good for "
                    "and where they fall short."
                ),
            ),
        ),
        PlannedSession(
            key="cybersecurity-data",
            title=LocalisedText(fr="Cybersécurité et données", en="Cybersecurity and data"),
            description=LocalisedText(
                fr=(
                    "Hygiène numérique, hameçonnage, protection des données personnelles et "
                    "de l'entreprise."
                ),
                en=("Digital hygiene, phishing, protecting personal and company data."),
            ),
        ),
        PlannedSession(
            key="review",
            title=LocalisedText(fr="Bilan et suites", en="Review and next steps"),
            description=LocalisedText(
                fr=("Faire le point sur les objectifs des deux côtés et décider de la suite."),
                en="Review both sides' objectives and decide what comes next.",
            ),
            skippable=False,
        ),
    )


class SessionPlan(BaseModel):
    """A programme's déroulé and follow-up rules, instantiated for every pair it forms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions: tuple[PlannedSession, ...] = Field(
        default_factory=default_planned_sessions,
        min_length=1,
        max_length=MAX_PLANNED_SESSIONS,
        description=(
            "The themed sessions in the order they are meant to be held; omitted means the "
            "default déroulé of six sessions."
        ),
        examples=[
            [
                {
                    "key": "kick-off",
                    "title": {"fr": "Lancement et objectifs", "en": "Kick-off and objectives"},
                    "description": {
                        "fr": "Faire connaissance et fixer des objectifs précis.",
                        "en": "Get to know each other and set precise objectives.",
                    },
                    "duration_minutes": None,
                    "skippable": False,
                }
            ]
        ],
    )
    cadence_weeks: int = Field(
        default=3,
        ge=1,
        le=12,
        description="Intended gap between sessions, in weeks; gives each session a target date.",
        examples=[3],
    )
    session_duration_minutes: int = Field(
        default=60,
        ge=15,
        le=480,
        description="Default length of a session, in minutes.",
        examples=[60],
    )
    sequence_policy: SequencePolicy = Field(
        default=SequencePolicy.STRICT,
        description="Whether sessions must be held in the plan's order.",
        examples=[SequencePolicy.STRICT],
    )
    mentor_training_required: bool = Field(
        default=False,
        description=(
            "The mentor must have completed the programme's training before any session is "
            "scheduled."
        ),
        examples=[True],
    )
    stall_after_weeks: int = Field(
        default=6,
        ge=2,
        le=52,
        description=(
            "A pair with no session held for this many weeks is reported stalled; must be "
            "longer than the cadence."
        ),
        examples=[6],
    )
    starts_on: CommandDay = Field(
        description="First day of the programme (inclusive) in the programme's time zone.",
        examples=["2025-01-13"],
    )
    ends_on: CommandDay = Field(
        description=(
            "Last day of the programme (inclusive); after it, the pairs still running are closed."
        ),
        examples=["2025-07-04"],
    )
    time_zone: TimeZoneName = Field(
        default="Europe/Paris",
        description="IANA time zone in which starts_on and ends_on are read.",
        examples=["Europe/Paris"],
    )
    feedback: FeedbackSettings = Field(
        default_factory=FeedbackSettings,
        description="Which feedback the programme asks of both sides.",
        examples=[
            {
                "after_each_session": True,
                "end_of_programme": True,
                "fit_question_after_first_session": True,
                "comment_max_length": 2000,
                "request_delay_hours": 2,
            }
        ],
    )

    pulse: PulseSettings = Field(
        default_factory=PulseSettings,
        description=(
            "When each member of a running pair is asked whether the pair is on track; "
            "omitted means 30 days after the pair's start, then every 60 days."
        ),
        examples=[{"enabled": True, "first_after_days": 30, "every_days": 60}],
    )

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        keys = [session.key for session in self.sessions]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"session keys must be unique, repeated: {duplicates}")
        if self.ends_on <= self.starts_on:
            raise ValueError("ends_on must be after starts_on")
        if self.stall_after_weeks <= self.cadence_weeks:
            raise ValueError(
                "stall_after_weeks must be longer than cadence_weeks, otherwise pairs "
                "keeping to the cadence would be reported stalled"
            )
        return self

    def duration_of(self, session: PlannedSession) -> int:
        """Length in minutes of one of this plan's sessions."""
        return session.duration_minutes or self.session_duration_minutes
