"""Facts the sessions service publishes about each pair (``binome.sessions.events``), keyed by
pair so that a pair's story is read in order."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from binome_shared.contracts.base import Event, Message
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


class PairEvent(Event, topic=SESSIONS_EVENTS, key="pair_id"):
    """A fact about one pair, keyed by it so that the pair's story is read in order."""

    pair_id: Identifier


class SessionPlanned(PairEvent, type="binome.sessions.pair-plan-started", version=(1, 0)):
    """A formed pair's session plan was instantiated."""

    sessions_planned: SessionNumber
    first_session_due: Moment = Field(
        description="Start of the day the first session is due, in the programme's time zone."
    )


class SessionScheduled(PairEvent, type="binome.sessions.session-scheduled", version=(1, 1)):
    """A session is in the calendar (``sequence`` grows each time its appointment changes)."""

    session_number: SessionNumber
    theme_key: Code
    starts_at: Moment
    duration_minutes: Minutes
    location: Location = ""
    sequence: Count = Field(default=0, description="Calendar revision, as in iCalendar.")
    theme: LocalisedText | None = Field(default=None, description="The session's title.")
    ends_at: Moment | None = None


class SessionRescheduled(PairEvent, type="binome.sessions.session-rescheduled", version=(1, 0)):
    """A scheduled session moved (slot, length or place); calendars update the invitation."""

    session_number: SessionNumber
    theme_key: Code
    previous_starts_at: Moment
    starts_at: Moment
    ends_at: Moment
    duration_minutes: Minutes
    location: Location = ""
    sequence: Count = Field(ge=1, description="Calendar revision, as in iCalendar.")
    theme: LocalisedText | None = Field(default=None, description="The session's title.")


class SessionCancelled(PairEvent, type="binome.sessions.session-cancelled", version=(1, 1)):
    """A scheduled appointment was cancelled; unless skipped, the session is to be rescheduled."""

    session_number: SessionNumber
    reason: Code = Field(
        default="",
        description="A CancellationReason value (closed list), never free text.",
        examples=["participant_unavailable", "pair_dissolved", "programme_ended"],
    )
    sequence: Count = 0
    theme_key: Code | None = None
    cancelled_starts_at: Moment | None = None


class SessionSkipped(PairEvent, type="binome.sessions.session-skipped", version=(1, 0)):
    """A session was taken out of this pair's plan; it counts as done for the sequence."""

    session_number: SessionNumber
    theme_key: Code


class SessionCompleted(PairEvent, type="binome.sessions.session-completed", version=(1, 1)):
    """A scheduled session was reported held."""

    session_number: SessionNumber
    theme_key: Code
    held_at: Moment
    duration_minutes: Minutes
    attendance: Attendance = Attendance.FULL
    sessions_held: Count | None = Field(default=None, description="Held so far, this one included.")
    sessions_planned: Count | None = Field(default=None, description="Plan length, skips excluded.")


class SessionMissed(PairEvent, type="binome.sessions.session-missed", version=(1, 1)):
    """A scheduled session did not take place; it is to be scheduled again."""

    session_number: SessionNumber
    missed_by: ParticipantRole | None = Field(
        default=None, description="Null when both or unknown."
    )
    absence: Absence = Absence.UNKNOWN
    theme_key: Code | None = None
    scheduled_at: Moment | None = None


# ObjectiveSet 1.x, superseded by 2.0 and no longer published: its ``title`` is text the
# pair wrote, which an erasure in the sessions service cannot take back once on the topic.
# Kept so that records already published (retention, replays) stay readable; they reach
# handlers as ObjectiveSet. Its docstring and schema title are those 1.x was published
# with, so that its committed schema (docs/schemas/messages/…objective-set.v1.json) is unchanged.
class ObjectiveSetV1(PairEvent, type="binome.sessions.objective-set", version=(1, 0)):
    """One side of the pair set a precise objective."""

    model_config = ConfigDict(title="ObjectiveSet")

    objective_id: Identifier
    owner: ParticipantRole
    title: ObjectiveTitle


class ObjectiveSet(
    PairEvent, type="binome.sessions.objective-set", version=(2, 0), supersedes=ObjectiveSetV1
):
    """One side of the pair set a precise objective (its wording stays in the sessions service)."""

    objective_id: Identifier
    owner: ParticipantRole

    @classmethod
    def upcast(cls, older: Message) -> ObjectiveSet:
        """A 1.x record without its title: no reader needs it, and none should keep it."""
        if not isinstance(older, ObjectiveSetV1):
            raise TypeError(f"ObjectiveSet 2.0 cannot read {type(older).__name__}")
        return cls(pair_id=older.pair_id, objective_id=older.objective_id, owner=older.owner)


class ObjectiveProgressed(PairEvent, type="binome.sessions.objective-progressed", version=(1, 1)):
    """An open objective's progress changed (it may go down after an honest reassessment)."""

    objective_id: Identifier
    progress_percent: Percent
    closed: bool = Field(default=False, description="Always false since 1.1: see ObjectiveClosed.")
    met: bool | None = Field(default=None, description="Always null since 1.1.")
    owner: ParticipantRole | None = None
    previous_percent: Percent | None = None


class ObjectiveClosed(PairEvent, type="binome.sessions.objective-closed", version=(1, 0)):
    """An objective was closed as met or not met, with its final progress."""

    objective_id: Identifier
    owner: ParticipantRole
    outcome: ObjectiveOutcome
    progress_percent: Percent


class FeedbackGiven(PairEvent, type="binome.sessions.feedback-given", version=(1, 1)):
    """A rating was given (the comment stays in the sessions service)."""

    side: ParticipantRole
    session_number: SessionNumber | None
    rating: int = Field(ge=1, le=5)
    moment: FeedbackMoment | None = None
    has_comment: bool = False


class PairFitConcernRaised(
    PairEvent, type="binome.sessions.pair-fit-concern-raised", version=(1, 1)
):
    """After the first session, one side said the pair is not a good fit."""

    side: ParticipantRole
    session_number: SessionNumber | None = None


class PairStalled(PairEvent, type="binome.sessions.pair-stalled", version=(1, 1)):
    """No session held for the programme's stall threshold (published once per silence)."""

    last_session_at: Moment | None
    weeks_silent: Count
    silent_since: Moment | None = Field(
        default=None, description="Last held session, or the pair's start if none was held."
    )


class PairResumed(PairEvent, type="binome.sessions.pair-resumed", version=(1, 0)):
    """A stalled pair held a session again: the stall is over."""

    silent_since: Moment
    resumed_at: Moment


class PairCompleted(PairEvent, type="binome.sessions.pair-completed", version=(1, 1)):
    """The pair's programme is over: its plan is done, or the programme's last day passed."""

    reason: CompletionReason
    sessions_held: Count
    sessions_planned: Count
    objectives_met: Count | None = None
    objectives_set: Count | None = None
