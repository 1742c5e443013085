"""The sessions service's commands (``binome.sessions.commands``) and facts
(``binome.sessions.events``), keyed by pair so a pair's story is read in order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from binome_shared.contracts.base import Command, Event
from binome_shared.contracts.topics import SESSION_COMMANDS, SESSIONS_EVENTS


class Side(StrEnum):
    """Which member of the pair speaks."""

    MENTOR = "mentor"
    MENTEE = "mentee"


# --- commands from HR platforms and calendar tools -------------------------------------


class ScheduleSession(
    Command,
    type="binome.sessions.schedule-session",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Put the pair's next planned session (or a named one) in the calendar."""

    pair_id: str
    session_number: int = Field(ge=1, description="Position in the programme's plan, from 1.")
    starts_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=15, le=480)
    location: str = Field(default="", max_length=300, examples=["Teams", "Site de Nanterre"])


class RescheduleSession(
    Command,
    type="binome.sessions.reschedule-session",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Move a scheduled session."""

    pair_id: str
    session_number: int = Field(ge=1)
    starts_at: AwareDatetime


class CancelSession(
    Command,
    type="binome.sessions.cancel-session",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Call a scheduled session off (it can be scheduled again)."""

    pair_id: str
    session_number: int = Field(ge=1)
    reason: str = Field(default="", max_length=500)


class ReportSessionHeld(
    Command,
    type="binome.sessions.report-session-held",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """The session took place."""

    pair_id: str
    session_number: int = Field(ge=1)
    held_at: AwareDatetime
    duration_minutes: int = Field(ge=1, le=600)
    notes: str = Field(default="", max_length=4000)


class ReportSessionMissed(
    Command,
    type="binome.sessions.report-session-missed",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """The session was planned but did not take place."""

    pair_id: str
    session_number: int = Field(ge=1)
    missed_by: Side | None = None


class SetObjective(
    Command,
    type="binome.sessions.set-objective",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """A precise objective of the pair (the mentee's digital goal, or the mentor's)."""

    pair_id: str
    objective_id: str = Field(min_length=1, max_length=100)
    owner: Side
    title: str = Field(min_length=3, max_length=300, examples=["Publier un post LinkedIn par mois"])
    target_date: datetime | None = None


class UpdateObjectiveProgress(
    Command,
    type="binome.sessions.update-objective-progress",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Progress towards an objective, in percent; 100 with ``met`` closes it."""

    pair_id: str
    objective_id: str
    progress_percent: int = Field(ge=0, le=100)
    closed: bool = False
    met: bool | None = None


class GiveFeedback(
    Command,
    type="binome.sessions.give-feedback",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """One side's feedback after a session (or at the end, without a session number)."""

    pair_id: str
    side: Side
    session_number: int | None = Field(default=None, ge=1)
    rating: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)
    good_fit: bool | None = Field(
        default=None, description="After the first session: is this pair a good fit?"
    )


SESSION_COMMAND_TYPES: tuple[type[Command], ...] = (
    ScheduleSession,
    RescheduleSession,
    CancelSession,
    ReportSessionHeld,
    ReportSessionMissed,
    SetObjective,
    UpdateObjectiveProgress,
    GiveFeedback,
)


# --- facts the sessions service publishes ------------------------------------------------


class SessionPlanned(
    Event,
    type="binome.sessions.pair-plan-started",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A formed pair's session plan was instantiated."""

    pair_id: str
    sessions_planned: int = Field(ge=1)
    first_session_due: datetime


class SessionScheduled(
    Event,
    type="binome.sessions.session-scheduled",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A session is in the calendar (``sequence`` increases on each reschedule)."""

    pair_id: str
    session_number: int
    theme_key: str
    starts_at: datetime
    duration_minutes: int
    location: str = ""
    sequence: int = Field(default=0, ge=0, description="Calendar revision, as in iCalendar.")


class SessionCancelled(
    Event,
    type="binome.sessions.session-cancelled",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    session_number: int
    reason: str = ""
    sequence: int = 0


class SessionCompleted(
    Event,
    type="binome.sessions.session-completed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    session_number: int
    theme_key: str
    held_at: datetime
    duration_minutes: int


class SessionMissed(
    Event,
    type="binome.sessions.session-missed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    session_number: int
    missed_by: Side | None = None


class ObjectiveSet(
    Event,
    type="binome.sessions.objective-set",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    objective_id: str
    owner: Side
    title: str


class ObjectiveProgressed(
    Event,
    type="binome.sessions.objective-progressed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    objective_id: str
    progress_percent: int
    closed: bool = False
    met: bool | None = None


class FeedbackGiven(
    Event,
    type="binome.sessions.feedback-given",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A rating was given (the comment stays in the sessions service)."""

    pair_id: str
    side: Side
    session_number: int | None
    rating: int


class PairFitConcernRaised(
    Event,
    type="binome.sessions.pair-fit-concern-raised",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """After the first session, one side said the pair is not a good fit."""

    pair_id: str
    side: Side


class PairStalled(
    Event,
    type="binome.sessions.pair-stalled",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """No session held for the programme's stall threshold (published once per silence)."""

    pair_id: str
    last_session_at: datetime | None
    weeks_silent: int


class CompletionReason(StrEnum):
    PLAN_COMPLETED = "plan_completed"
    PROGRAMME_ENDED = "programme_ended"


class PairCompleted(
    Event,
    type="binome.sessions.pair-completed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    pair_id: str
    reason: CompletionReason
    sessions_held: int
    sessions_planned: int


SESSIONS_EVENT_TYPES: tuple[type[Event], ...] = (
    SessionPlanned,
    SessionScheduled,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    ObjectiveSet,
    ObjectiveProgressed,
    FeedbackGiven,
    PairFitConcernRaised,
    PairStalled,
    PairCompleted,
)
