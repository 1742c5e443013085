"""Facts the sessions service publishes about each pair (``binome.sessions.events``), keyed by
pair so that a pair's story is read in order."""

from __future__ import annotations

from pydantic import Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.moments import Moment
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages.vocabulary import (
    Absence,
    Attendance,
    CompletionReason,
    FeedbackMoment,
    Location,
    Minutes,
    ObjectiveOutcome,
    ObjectiveTitle,
    Percent,
    SessionNumber,
)
from binome_shared.contracts.text import Code, Identifier
from binome_shared.contracts.topics import SESSIONS_EVENTS
from binome_shared.contracts.values import Count, LocalisedText


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
    missed_by: ParticipantRole | None = Field(
        default=None, description="Null when both or unknown."
    )
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
    owner: ParticipantRole
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
    owner: ParticipantRole | None = None
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
    owner: ParticipantRole
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
    side: ParticipantRole
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
    side: ParticipantRole
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
