"""The sessions service's commands (``binome.sessions.commands``) and facts
(``binome.sessions.events``), keyed by pair so a pair's story is read in order.

Events carry ids, dates, counts and closed vocabularies: free text people write (session
notes, feedback comments, cancellation explanations) stays in the sessions service, so that a
GDPR erasure there is complete. Objective titles are the one exception (``ObjectiveSet``):
they are what HR follows, and the pair writes them for HR to read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.base import Command, Event
from binome_shared.contracts.moments import CommandMoment, Day, Moment
from binome_shared.contracts.session_plan import MAX_PLANNED_SESSIONS
from binome_shared.contracts.text import Code, Identifier, Name, Reason, free_text, line
from binome_shared.contracts.topics import SESSION_COMMANDS, SESSIONS_EVENTS
from binome_shared.contracts.values import Count, LocalisedText

SessionNumber = Annotated[int, Field(ge=1, le=MAX_PLANNED_SESSIONS)]
"""A session's position in its programme's plan, from 1."""

Minutes = Annotated[int, Field(ge=1, le=600)]
"""A session's length in minutes (ten hours at most)."""

Percent = Annotated[int, Field(ge=0, le=100)]

Location = Annotated[str, line(300)]
"""Where a session takes place (a room, a site, a video-call tool): one line."""

ObjectiveTitle = Annotated[str, line(300, min_length=3)]


class Side(StrEnum):
    """Which member of the pair speaks."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class Attendance(StrEnum):
    """How fully both sides attended a held session."""

    FULL = "full"
    PARTIAL = "partial"


class Absence(StrEnum):
    """Who did not come to a missed session."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    BOTH = "both"
    UNKNOWN = "unknown"


class CancellationReason(StrEnum):
    """Why an appointment was cancelled: a closed list, since free text may hold personal data."""

    PARTICIPANT_UNAVAILABLE = "participant_unavailable"
    SESSION_SKIPPED = "session_skipped"
    PAIR_DISSOLVED = "pair_dissolved"
    PROGRAMME_ENDED = "programme_ended"
    OTHER = "other"


class FeedbackMoment(StrEnum):
    """When a piece of feedback was asked for."""

    AFTER_SESSION = "after_session"
    END_OF_PROGRAMME = "end_of_programme"


class ObjectiveOutcome(StrEnum):
    """How a closed objective ended."""

    MET = "met"
    NOT_MET = "not_met"


# --- commands from HR platforms and calendar tools -------------------------------------


class ScheduleSession(
    Command,
    type="binome.sessions.schedule-session",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Put one session of the pair's plan in the calendar (again, after a cancel or a miss)."""

    pair_id: Identifier
    session_number: SessionNumber = Field(description="Position in the programme's plan, from 1.")
    starts_at: CommandMoment
    duration_minutes: int | None = Field(default=None, ge=15, le=480)
    location: Location = Field(default="", examples=["Teams", "Site de Nanterre"])


class RescheduleSession(
    Command,
    type="binome.sessions.reschedule-session",
    version=(1, 1),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Move a scheduled session (the same slot, length and place again changes nothing)."""

    pair_id: Identifier
    session_number: SessionNumber
    starts_at: CommandMoment
    duration_minutes: int | None = Field(
        default=None, ge=15, le=480, description="New length; null keeps the current one."
    )
    location: Location | None = Field(
        default=None, description="New place; null keeps the current one."
    )


class CancelSession(
    Command,
    type="binome.sessions.cancel-session",
    version=(1, 1),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Call a scheduled session off (it can be scheduled again)."""

    pair_id: Identifier
    session_number: SessionNumber
    reason: Reason = Field(
        default="",
        description="Free text for the sender's records; neither stored nor published.",
    )
    reason_code: Literal["participant_unavailable", "other"] = Field(
        default="other", description="Why, from a closed list; published in SessionCancelled."
    )


class SkipSession(
    Command,
    type="binome.sessions.skip-session",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Take a skippable session out of the pair's plan (its appointment, if any, is cancelled)."""

    pair_id: Identifier
    session_number: SessionNumber


class ReportSessionHeld(
    Command,
    type="binome.sessions.report-session-held",
    version=(1, 1),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """The session took place."""

    pair_id: Identifier
    session_number: SessionNumber
    held_at: CommandMoment
    duration_minutes: Minutes
    notes: Annotated[str, free_text(4000)] = Field(
        default="", description="Kept by the sessions service, never published."
    )
    attendance: Attendance = Field(
        default=Attendance.FULL, description="`partial` when someone joined late or left early."
    )


class ReportSessionMissed(
    Command,
    type="binome.sessions.report-session-missed",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """The session was planned but did not take place (it is to be scheduled again)."""

    pair_id: Identifier
    session_number: SessionNumber
    missed_by: Side | None = None


class SetObjective(
    Command,
    type="binome.sessions.set-objective",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """A precise objective of the pair (the mentee's digital goal, or the mentor's)."""

    pair_id: Identifier
    objective_id: Identifier
    owner: Side
    title: ObjectiveTitle = Field(examples=["Publier un post LinkedIn par mois"])
    target_date: CommandMoment | None = Field(
        default=None, description="Accepted; not tracked yet."
    )


class UpdateObjectiveProgress(
    Command,
    type="binome.sessions.update-objective-progress",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """Progress towards an objective, in percent; ``closed`` with ``met`` closes it."""

    pair_id: Identifier
    objective_id: Identifier
    progress_percent: Percent
    closed: bool = False
    met: bool | None = Field(default=None, description="Required when `closed` is true.")


class GiveFeedback(
    Command,
    type="binome.sessions.give-feedback",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """One side's feedback after a session (or at the end, without a session number)."""

    pair_id: Identifier
    side: Side
    session_number: SessionNumber | None = None
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, free_text(2000)] = ""
    good_fit: bool | None = Field(
        default=None, description="After the first session: is this pair a good fit?"
    )


class RecordMentorTraining(
    Command,
    type="binome.sessions.record-mentor-training",
    version=(1, 0),
    topic=SESSION_COMMANDS,
    key="pair_id",
):
    """The pair's mentor completed the programme's training: sessions can now be scheduled."""

    pair_id: Identifier


SESSION_COMMAND_TYPES: tuple[type[Command], ...] = (
    ScheduleSession,
    RescheduleSession,
    CancelSession,
    SkipSession,
    ReportSessionHeld,
    ReportSessionMissed,
    SetObjective,
    UpdateObjectiveProgress,
    GiveFeedback,
    RecordMentorTraining,
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

    pair_id: Identifier
    sessions_planned: SessionNumber
    first_session_due: Moment = Field(
        description="Start of the day the first session is due, in the programme's time zone."
    )


class SessionScheduled(
    Event,
    type="binome.sessions.session-scheduled",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A session is in the calendar (``sequence`` grows each time its appointment changes)."""

    pair_id: Identifier
    session_number: SessionNumber
    theme_key: Code
    starts_at: Moment
    duration_minutes: Minutes
    location: Location = ""
    sequence: Count = Field(default=0, description="Calendar revision, as in iCalendar.")
    theme: LocalisedText | None = Field(default=None, description="The session's title.")
    ends_at: Moment | None = None


class SessionRescheduled(
    Event,
    type="binome.sessions.session-rescheduled",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A scheduled session moved (slot, length or place); calendars update the invitation."""

    pair_id: Identifier
    session_number: SessionNumber
    theme_key: Code
    previous_starts_at: Moment
    starts_at: Moment
    ends_at: Moment
    duration_minutes: Minutes
    location: Location = ""
    sequence: Count = Field(ge=1, description="Calendar revision, as in iCalendar.")
    theme: LocalisedText | None = Field(default=None, description="The session's title.")


class SessionCancelled(
    Event,
    type="binome.sessions.session-cancelled",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A scheduled appointment was cancelled; unless skipped, the session is to be rescheduled."""

    pair_id: Identifier
    session_number: SessionNumber
    reason: Code = Field(
        default="",
        description="A CancellationReason value (closed list), never free text.",
        examples=["participant_unavailable", "pair_dissolved", "programme_ended"],
    )
    sequence: Count = 0
    theme_key: Code | None = None
    cancelled_starts_at: Moment | None = None


class SessionSkipped(
    Event,
    type="binome.sessions.session-skipped",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A session was taken out of this pair's plan; it counts as done for the sequence."""

    pair_id: Identifier
    session_number: SessionNumber
    theme_key: Code


class SessionCompleted(
    Event,
    type="binome.sessions.session-completed",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A scheduled session was reported held."""

    pair_id: Identifier
    session_number: SessionNumber
    theme_key: Code
    held_at: Moment
    duration_minutes: Minutes
    attendance: Attendance = Attendance.FULL
    sessions_held: Count | None = Field(default=None, description="Held so far, this one included.")
    sessions_planned: Count | None = Field(default=None, description="Plan length, skips excluded.")


class SessionMissed(
    Event,
    type="binome.sessions.session-missed",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A scheduled session did not take place; it is to be scheduled again."""

    pair_id: Identifier
    session_number: SessionNumber
    missed_by: Side | None = Field(default=None, description="Null when both or unknown.")
    absence: Absence = Absence.UNKNOWN
    theme_key: Code | None = None
    scheduled_at: Moment | None = None


class ObjectiveSet(
    Event,
    type="binome.sessions.objective-set",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """One side of the pair set a precise objective."""

    pair_id: Identifier
    objective_id: Identifier
    owner: Side
    title: ObjectiveTitle


class ObjectiveProgressed(
    Event,
    type="binome.sessions.objective-progressed",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """An open objective's progress changed (it may go down after an honest reassessment)."""

    pair_id: Identifier
    objective_id: Identifier
    progress_percent: Percent
    closed: bool = Field(default=False, description="Always false since 1.1: see ObjectiveClosed.")
    met: bool | None = Field(default=None, description="Always null since 1.1.")
    owner: Side | None = None
    previous_percent: Percent | None = None


class ObjectiveClosed(
    Event,
    type="binome.sessions.objective-closed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """An objective was closed as met or not met, with its final progress."""

    pair_id: Identifier
    objective_id: Identifier
    owner: Side
    outcome: ObjectiveOutcome
    progress_percent: Percent


class FeedbackGiven(
    Event,
    type="binome.sessions.feedback-given",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A rating was given (the comment stays in the sessions service)."""

    pair_id: Identifier
    side: Side
    session_number: SessionNumber | None
    rating: int = Field(ge=1, le=5)
    moment: FeedbackMoment | None = None
    has_comment: bool = False


class PairFitConcernRaised(
    Event,
    type="binome.sessions.pair-fit-concern-raised",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """After the first session, one side said the pair is not a good fit."""

    pair_id: Identifier
    side: Side
    session_number: SessionNumber | None = None


class PairStalled(
    Event,
    type="binome.sessions.pair-stalled",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """No session held for the programme's stall threshold (published once per silence)."""

    pair_id: Identifier
    last_session_at: Moment | None
    weeks_silent: Count
    silent_since: Moment | None = Field(
        default=None, description="Last held session, or the pair's start if none was held."
    )


class PairResumed(
    Event,
    type="binome.sessions.pair-resumed",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """A stalled pair held a session again: the stall is over."""

    pair_id: Identifier
    silent_since: Moment
    resumed_at: Moment


class CompletionReason(StrEnum):
    """Why a pair's programme came to an end."""

    PLAN_COMPLETED = "plan_completed"
    PROGRAMME_ENDED = "programme_ended"


class PairCompleted(
    Event,
    type="binome.sessions.pair-completed",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
    key="pair_id",
):
    """The pair's programme is over: its plan is done, or the programme's last day passed."""

    pair_id: Identifier
    reason: CompletionReason
    sessions_held: Count
    sessions_planned: Count
    objectives_met: Count | None = None
    objectives_set: Count | None = None


class ProgressGrouping(StrEnum):
    """Which side's business unit the figures are broken down by."""

    MENTEE_BUSINESS_UNIT = "mentee_business_unit"
    MENTOR_BUSINESS_UNIT = "mentor_business_unit"


class RatingFigure(BaseModel):
    """The mean rating one side gave; suppressed when fewer people than the threshold rated."""

    model_config = ConfigDict(frozen=True)

    value: Annotated[float, Field(ge=1, le=5)] | None = Field(
        description="Null when nobody rated yet, or when suppressed."
    )
    raters: Count | None = Field(description="How many people rated; null when suppressed.")
    suppressed: bool


class ProgressFigures(BaseModel):
    """What a group of pairs has achieved so far."""

    model_config = ConfigDict(frozen=True)

    pairs_active: Count = Field(description="Active and not stalled.")
    pairs_stalled: Count
    pairs_completed: Count
    pairs_dissolved: Count
    sessions_planned: Count
    sessions_scheduled: Count
    sessions_held: Count
    sessions_skipped: Count
    sessions_missed: Count
    objectives_set: Count
    objectives_met: Count
    objectives_not_met: Count
    fit_concerns: Count
    rating_from_mentees: RatingFigure
    rating_from_mentors: RatingFigure


class GroupFigures(BaseModel):
    """One business unit's figures (or the programme's, group ``*``), unless suppressed."""

    model_config = ConfigDict(frozen=True)

    group: Name = Field(examples=["Finance", "*"])
    suppressed: bool = Field(
        description="Too few people to show without singling someone out: figures are null."
    )
    people: Count | None
    figures: ProgressFigures | None


class ProgrammeProgressReported(
    Event,
    type="binome.sessions.programme-progress-reported",
    version=(1, 0),
    topic=SESSIONS_EVENTS,
):
    """A programme's progress for HR, by business unit, with small groups suppressed."""

    reported_at: Moment
    period_start: Moment | None = Field(
        default=None, description="Start of the period this periodic report covers."
    )
    grouped_by: ProgressGrouping
    suppression_threshold: Count = Field(ge=1)
    total: GroupFigures
    groups: list[GroupFigures] = Field(max_length=100_000)
    programme_ends_on: Day | None = None


SESSIONS_EVENT_TYPES: tuple[type[Event], ...] = (
    SessionPlanned,
    SessionScheduled,
    SessionRescheduled,
    SessionCancelled,
    SessionSkipped,
    SessionCompleted,
    SessionMissed,
    ObjectiveSet,
    ObjectiveProgressed,
    ObjectiveClosed,
    FeedbackGiven,
    PairFitConcernRaised,
    PairStalled,
    PairResumed,
    PairCompleted,
    ProgrammeProgressReported,
)
