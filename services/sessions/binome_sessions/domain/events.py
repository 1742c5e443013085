"""Domain events a pair's track records; the service maps them to the public contracts.

They carry identifiers, dates, counts and closed vocabularies only: free text (notes,
comments) stays in the aggregate, so that no personal data travels by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from binome_sessions.domain.values import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
    FeedbackMoment,
    ObjectiveOutcome,
    Side,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PairEvent:
    """Something that happened to one pair; ``occurred_at`` is the clock passed to the command."""

    pair_id: str
    programme_id: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PairPlanStarted(PairEvent):
    """The programme's déroulé was instantiated for a newly formed pair."""

    sessions_planned: int
    first_session_due_on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionScheduled(PairEvent):
    """A themed session got an appointment."""

    session_key: str
    position: int
    scheduled_at: datetime
    duration_minutes: int
    location: str
    revision: int
    """Increases with every change to this session's appointments (an iCalendar SEQUENCE)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRescheduled(PairEvent):
    """A scheduled session moved to another slot."""

    session_key: str
    position: int
    previous_scheduled_at: datetime
    scheduled_at: datetime
    duration_minutes: int
    location: str
    revision: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionCancelled(PairEvent):
    """A scheduled appointment was cancelled; unless skipped, the session is scheduled again."""

    session_key: str
    position: int
    cancelled_scheduled_at: datetime
    reason: CancellationReason
    revision: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionSkipped(PairEvent):
    """A session was taken out of this pair's déroulé; it counts as done for the sequence."""

    session_key: str
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionCompleted(PairEvent):
    """A scheduled session was reported held."""

    session_key: str
    position: int
    held_at: datetime
    duration_minutes: int
    attendance: Attendance
    sessions_held: int
    sessions_planned: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionMissed(PairEvent):
    """A scheduled session did not take place; it is to be scheduled again."""

    session_key: str
    position: int
    scheduled_at: datetime
    missed_by: Absence


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveSet(PairEvent):
    """One side of the pair set an objective."""

    objective_id: str
    side: Side
    statement: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveProgressed(PairEvent):
    """An open objective's progress changed (it may go down after an honest reassessment)."""

    objective_id: str
    side: Side
    previous_percent: int
    progress_percent: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveClosed(PairEvent):
    """An objective was closed as met or not met."""

    objective_id: str
    side: Side
    outcome: ObjectiveOutcome
    progress_percent: int


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedbackGiven(PairEvent):
    """One side rated a session or the whole programme (the comment stays in the aggregate)."""

    author: Side
    moment: FeedbackMoment
    session_key: str | None
    rating: int
    has_comment: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PairFitConcernRaised(PairEvent):
    """After the first session, one side said the pair is not a good fit: pairing may re-pair."""

    raised_by: Side
    session_key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PairStalled(PairEvent):
    """No session held for the programme's stall threshold; recorded once per silence."""

    silent_since: datetime
    last_session_at: datetime | None
    """When the last session was held; None when none was, the silence then counts from the
    programme's start or the pair's formation, whichever is later."""
    weeks_without_session: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PairResumed(PairEvent):
    """A stalled pair held a session again: the stall is over."""

    silent_since: datetime
    resumed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PairCompleted(PairEvent):
    """The pair's programme is over, because its déroulé is done or the programme ended."""

    reason: CompletionReason
    sessions_held: int
    sessions_planned: int
    objectives_met: int
    objectives_set: int


SessionsDomainEvent = (
    PairPlanStarted
    | SessionScheduled
    | SessionRescheduled
    | SessionCancelled
    | SessionSkipped
    | SessionCompleted
    | SessionMissed
    | ObjectiveSet
    | ObjectiveProgressed
    | ObjectiveClosed
    | FeedbackGiven
    | PairFitConcernRaised
    | PairStalled
    | PairResumed
    | PairCompleted
)
"""Every event a :class:`~binome_sessions.domain.track.PairTrack` can record."""
