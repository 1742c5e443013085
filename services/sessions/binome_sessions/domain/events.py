"""Domain events a pair's track records; the service maps them to the public contracts.

A field has the name the public event gives it wherever both mean the same thing, so that
the translation only spells out the real differences. They stay apart from the public events
because they carry what the public form is computed from (the programme, the instant, a date
rather than a moment, the closed reason rather than its code) and because the domain must not
depend on the wire's versions and defaults.

They carry identifiers, dates, counts and closed vocabularies only: free text (notes,
comments) stays in the aggregate, so that no personal data travels by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from binome_shared.contracts.sessions_messages import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
    FeedbackMoment,
    ObjectiveOutcome,
    ParticipantRole,
    PulseAnswer,
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
class SessionEvent(PairEvent):
    """Something that happened to one themed session of the pair's déroulé."""

    session_number: int
    """The session's position in the plan, from 1."""
    theme_key: str
    """The plan's key for the session."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentEvent(SessionEvent):
    """A session's appointment was set or changed: what it now is."""

    starts_at: datetime
    duration_minutes: int
    location: str
    sequence: int
    """Increases with every change to this session's appointments (an iCalendar SEQUENCE)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionScheduled(AppointmentEvent):
    """A themed session got an appointment."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRescheduled(AppointmentEvent):
    """A scheduled session moved to another slot."""

    previous_starts_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionCancelled(SessionEvent):
    """A scheduled appointment was cancelled; unless skipped, the session is scheduled again."""

    cancelled_starts_at: datetime
    reason: CancellationReason
    sequence: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionSkipped(SessionEvent):
    """A session was taken out of this pair's déroulé; it counts as done for the sequence."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionCompleted(SessionEvent):
    """A scheduled session was reported held."""

    held_at: datetime
    duration_minutes: int
    attendance: Attendance
    sessions_held: int
    sessions_planned: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionMissed(SessionEvent):
    """A scheduled session did not take place; it is to be scheduled again."""

    scheduled_at: datetime
    absence: Absence


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveEvent(PairEvent):
    """Something that happened to one side's objective."""

    objective_id: str
    owner: ParticipantRole


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveSet(ObjectiveEvent):
    """One side of the pair set an objective."""

    title: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveProgressed(ObjectiveEvent):
    """An open objective's progress changed (it may go down after an honest reassessment)."""

    previous_percent: int
    progress_percent: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectiveClosed(ObjectiveEvent):
    """An objective was closed as met or not met."""

    outcome: ObjectiveOutcome
    progress_percent: int


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedbackGiven(PairEvent):
    """One side rated a session or the whole programme (the comment stays in the aggregate)."""

    side: ParticipantRole
    moment: FeedbackMoment
    session_number: int | None
    """None for the end-of-programme feedback."""
    rating: int
    has_comment: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PairFitConcernRaised(PairEvent):
    """After the first session, one side said the pair is not a good fit: pairing may re-pair."""

    side: ParticipantRole
    session_number: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PairStalled(PairEvent):
    """No session held for the programme's stall threshold; recorded once per silence."""

    silent_since: datetime
    last_session_at: datetime | None
    """When the last session was held; None when none was, the silence then counts from the
    programme's start or the pair's formation, whichever is later."""
    weeks_silent: int


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


@dataclass(frozen=True, kw_only=True, slots=True)
class PulseRequested(PairEvent):
    """A pulse round opened: both members are asked whether the pair is on track."""

    pulse_number: int
    mentor_id: str
    mentee_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PulseAnswered(PairEvent):
    """A member answered a pulse round (or changed their answer)."""

    pulse_number: int
    side: ParticipantRole
    answer: PulseAnswer


@dataclass(frozen=True, kw_only=True, slots=True)
class PairNeedsHelp(PairEvent):
    """The round's first "need help": HR is to be alerted, once per round."""

    pulse_number: int
    side: ParticipantRole


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
    | PulseRequested
    | PulseAnswered
    | PairNeedsHelp
)
"""Every event a :class:`~binome_sessions.domain.track.PairTrack` can record."""
