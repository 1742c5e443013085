"""What can make the service send something; ``translation.py`` maps public events onto these.

A field that means what a public event's field means has that field's name (``held_at``,
``weeks_silent``, ``side``, ``pairs``, ``sessions_held``…), so the translation copies it and
only the real differences (derived values, a count instead of a list, a text instead of a
code) are spelled out there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from binome_notifications.domain.content import UnmatchedReason
from binome_notifications.domain.model import Person, Programme
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import LocalisedText


@dataclass(frozen=True, slots=True, kw_only=True)
class PairTrigger:
    """Something that happened to one pair: when, in which programme, and its two members."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class PairFormed(PairTrigger):
    """A mentor and a mentee were paired."""

    explanation: LocalisedText
    first_step: LocalisedText | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionScheduled(PairTrigger):
    """A session was scheduled (``sequence`` 0) or rescheduled (``sequence`` > 0)."""

    session_id: str
    theme: LocalisedText
    starts_at: datetime
    ends_at: datetime
    sequence: int = 0
    session_number: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCancelled(PairTrigger):
    """A scheduled session was cancelled; ``sequence`` is the cancellation's own revision."""

    session_id: str
    theme: LocalisedText
    starts_at: datetime
    ends_at: datetime
    sequence: int
    session_number: int | None = None
    reason: LocalisedText | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCompleted(PairTrigger):
    """A session took place."""

    session_id: str
    theme: LocalisedText
    held_at: datetime
    """When the session took place, as ``SessionCompleted.held_at`` says."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PairStalled(PairTrigger):
    """A pair has had no session for several weeks."""

    weeks_silent: int
    """Whole weeks without a held session."""
    last_session_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PairFitConcern(PairTrigger):
    """After a session (the first, in practice), one side said the pair is not a good fit."""

    side: ParticipantRole
    """The side that raised the concern."""
    session_number: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchingCompleted:
    """A matching round finished."""

    occurred_at: datetime
    programme: Programme
    round_id: str
    pairs: int
    """Pairs formed in this round (proposed, in a preview)."""
    participants_unmatched: int
    unmatched_reasons: tuple[UnmatchedReason, ...] = ()
    average_score: float | None = None
    preview: bool = False
    """A round computed without forming pairs; its summary is a reason of its own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressReportDue:
    """A periodic programme progress report is due."""

    occurred_at: datetime
    programme: Programme
    report_id: str
    period_start: date
    period_end: date
    pairs_active: int
    pairs_stalled: int
    pairs_completed: int
    sessions_held: int
    sessions_missed: int
    objectives_on_track_percent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCompleted(PairTrigger):
    """A pair reached the end of its programme."""

    sessions_held: int


Trigger = (
    PairFormed
    | SessionScheduled
    | SessionCancelled
    | SessionCompleted
    | PairStalled
    | PairFitConcern
    | MatchingCompleted
    | ProgressReportDue
    | PairCompleted
)
