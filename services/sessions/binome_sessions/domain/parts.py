"""The parts a pair's track is made of (its sessions, objectives and feedback), the limits
commands must respect, and the small checks more than one concern shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from binome_sessions.domain.rejections import CommandRejectedError, RejectionCode
from binome_sessions.domain.values import (
    ObjectiveStatus,
    SessionStatus,
)
from binome_shared.contracts.sessions_messages import (
    Attendance,
    FeedbackMoment,
    ParticipantRole,
    PulseAnswer,
)

MIN_SESSION_MINUTES = 1
MAX_SCHEDULED_MINUTES = 480
MAX_HELD_MINUTES = 600
MAX_LOCATION_LENGTH = 300
MAX_NOTES_LENGTH = 4000
MAX_OBJECTIVE_STATEMENT_LENGTH = 500
MAX_OBJECTIVES_PER_SIDE = 5
MIN_RATING = 1
MAX_RATING = 5
ONE_WEEK = timedelta(weeks=1)


class TrackedSession(BaseModel):
    """One themed session of the déroulé, as this pair lives it."""

    model_config = ConfigDict(extra="forbid")

    key: str
    position: int
    target_on: date
    """When the cadence says the session should happen; a hint for reminders, not a rule."""
    status: SessionStatus = SessionStatus.PLANNED
    scheduled_at: AwareDatetime | None = None
    duration_minutes: int | None = None
    held_at: AwareDatetime | None = None
    attendance: Attendance | None = None
    notes: str = ""
    times_missed: int = 0
    times_cancelled: int = 0
    location: str = ""
    revision: int = 0
    """Bumped by every reschedule and cancellation, so calendars see each change as newer."""

    def ends_at(self) -> datetime | None:
        """End of the current appointment, if the session is scheduled."""
        if self.scheduled_at is None or self.duration_minutes is None:
            return None
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)


class Objective(BaseModel):
    """A precise objective one side of the pair works towards."""

    model_config = ConfigDict(extra="forbid")

    objective_id: str
    side: ParticipantRole
    statement: str
    progress_percent: int = 0
    status: ObjectiveStatus = ObjectiveStatus.OPEN
    set_at: AwareDatetime
    updated_at: AwareDatetime
    closed_at: AwareDatetime | None = None


class Feedback(BaseModel):
    """A rating and comment from one side, on one session or on the whole programme."""

    model_config = ConfigDict(extra="forbid")

    author: ParticipantRole
    moment: FeedbackMoment
    session_key: str | None
    rating: int
    comment: str
    good_fit: bool | None
    given_at: AwareDatetime


class PulseReply(BaseModel):
    """One member's answer to a pulse round (their last one: a change replaces it)."""

    model_config = ConfigDict(extra="forbid")

    side: ParticipantRole
    answer: PulseAnswer
    answered_at: AwareDatetime


class PulseRound(BaseModel):
    """One pulse check-in asked of both members; open until the next is asked or the pair ends."""

    model_config = ConfigDict(extra="forbid")

    number: int
    """The round's place in the programme's rhythm, from 1 (a late round keeps its number)."""
    asked_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    replies: list[PulseReply] = []
    help_alerted: bool = False
    """Whether HR was alerted for this round: a "need help" alerts once per round."""

    def reply_of(self, side: ParticipantRole) -> PulseReply | None:
        """This side's answer, if it answered."""
        return next((reply for reply in self.replies if reply.side is side), None)


def as_utc(moment: datetime, name: str) -> datetime:
    """Store every instant in UTC; a naive datetime is a programming error, not a rejection."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def require_percentage(progress_percent: int, objective_id: str) -> None:
    if not 0 <= progress_percent <= 100:
        raise CommandRejectedError(code=RejectionCode.PROGRESS_OUT_OF_RANGE, subject=objective_id)


def require_location(location: str, session_key: str) -> None:
    if len(location) > MAX_LOCATION_LENGTH:
        raise CommandRejectedError(code=RejectionCode.LOCATION_TOO_LONG, subject=session_key)


def require_session_length(duration_minutes: int, session_key: str, longest: int) -> None:
    if not MIN_SESSION_MINUTES <= duration_minutes <= longest:
        raise CommandRejectedError(code=RejectionCode.DURATION_OUT_OF_RANGE, subject=session_key)
