"""What can make the service send something; the lead maps public events onto these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from binome_notifications.domain.content import UnmatchedReason
from binome_notifications.domain.model import LocalizedText, Person, Programme, Role


@dataclass(frozen=True, slots=True, kw_only=True)
class PairFormed:
    """A mentor and a mentee were paired."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person
    explanation: LocalizedText
    first_step: LocalizedText | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionScheduled:
    """A session was scheduled (``sequence`` 0) or rescheduled (``sequence`` > 0)."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    session_id: str
    mentor: Person
    mentee: Person
    theme: LocalizedText
    starts_at: datetime
    ends_at: datetime
    sequence: int = 0
    session_number: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCancelled:
    """A scheduled session was cancelled; ``sequence`` is the cancellation's own revision."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    session_id: str
    mentor: Person
    mentee: Person
    theme: LocalizedText
    starts_at: datetime
    ends_at: datetime
    sequence: int
    session_number: int | None = None
    reason: LocalizedText | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionCompleted:
    """A session took place."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    session_id: str
    mentor: Person
    mentee: Person
    theme: LocalizedText
    completed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PairStalled:
    """A pair has had no session for several weeks."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person
    weeks_without_session: int
    last_session_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PairFitConcern:
    """After a session (the first, in practice), one side said the pair is not a good fit."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person
    raised_by: Role
    session_number: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchingCompleted:
    """A matching round finished."""

    occurred_at: datetime
    programme: Programme
    round_id: str
    pairs_formed: int
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
    active_pairs: int
    stalled_pairs: int
    completed_pairs: int
    sessions_completed: int
    sessions_missed: int
    objectives_on_track_percent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PairCompleted:
    """A pair reached the end of its programme."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person
    sessions_completed: int


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
