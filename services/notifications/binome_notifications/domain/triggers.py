"""What can make the service send something; ``translation.py`` maps public events onto these.

A field that means what a public event's field means has that field's name (``held_at``,
``weeks_silent``, ``side``, ``pairs``, ``sessions_held``…), so the translation copies it and
only the real differences (derived values, a count instead of a list, a text instead of a
code) are spelled out there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from binome_notifications.domain.content import ProgrammeProgress, UnmatchedReason
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
class SessionTrigger(PairTrigger):
    """Something that happened to one session of a pair."""

    session_id: str
    theme: LocalisedText


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAppointment(SessionTrigger):
    """A change to a session's place in the calendar: when it is (or was) to take place."""

    starts_at: datetime
    ends_at: datetime
    session_number: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionScheduled(SessionAppointment):
    """A session was scheduled (``sequence`` 0) or rescheduled (``sequence`` > 0)."""

    sequence: int = 0
    location: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCancelled(SessionAppointment):
    """A scheduled session was cancelled; ``sequence`` is the cancellation's own revision."""

    sequence: int
    reason: LocalisedText | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCompleted(SessionTrigger):
    """A session took place."""

    held_at: datetime
    """When the session took place, as ``SessionCompleted.held_at`` says."""
    session_number: int | None = None
    """Its position in the plan (the feedback link names it)."""


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
class PulseCheckRequested(PairTrigger):
    """A pulse round opened: each member is asked "on track / we need help"."""

    pulse_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PairNeedsHelp(PairTrigger):
    """A member answered "we need help" to a pulse round: HR is alerted, once per round."""

    pulse_number: int
    side: ParticipantRole
    """The side that asked for help first this round."""


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
    progress: ProgrammeProgress


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCompleted(PairTrigger):
    """A pair reached the end of its programme."""

    sessions_held: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PairConsentRequested(PairTrigger):
    """A proposed pair is put to its two members, to accept or decline by ``respond_by``."""

    explanation: LocalisedText
    respond_by: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCalledOff(PairTrigger):
    """A proposed pair will not go ahead. It carries no side nor reason on purpose: what the
    members are told must not reveal who declined."""


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
    | PairConsentRequested
    | PairCalledOff
    | PulseCheckRequested
    | PairNeedsHelp
)
