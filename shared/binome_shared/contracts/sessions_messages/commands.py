"""Commands the sessions service takes (``binome.sessions.commands``), from HR platforms and
calendar tools, keyed by pair so that a pair's commands are applied in order."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from binome_shared.contracts.base import Command
from binome_shared.contracts.moments import CommandMoment
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages.vocabulary import (
    Attendance,
    Location,
    Minutes,
    ObjectiveTitle,
    Percent,
    SessionNumber,
)
from binome_shared.contracts.text import Identifier, Reason, free_text
from binome_shared.contracts.topics import SESSION_COMMANDS


class PairCommand(Command, topic=SESSION_COMMANDS, key="pair_id"):
    """A command about one pair, keyed by it so that the pair's commands are applied in order."""

    pair_id: Identifier


class ScheduleSession(PairCommand, type="binome.sessions.schedule-session", version=(1, 0)):
    """Put one session of the pair's plan in the calendar (again, after a cancel or a miss)."""

    session_number: SessionNumber = Field(description="Position in the programme's plan, from 1.")
    starts_at: CommandMoment
    duration_minutes: int | None = Field(default=None, ge=15, le=480)
    location: Location = Field(default="", examples=["Teams", "Site de Nanterre"])


class RescheduleSession(PairCommand, type="binome.sessions.reschedule-session", version=(1, 1)):
    """Move a scheduled session (the same slot, length and place again changes nothing)."""

    session_number: SessionNumber
    starts_at: CommandMoment
    duration_minutes: int | None = Field(
        default=None, ge=15, le=480, description="New length; null keeps the current one."
    )
    location: Location | None = Field(
        default=None, description="New place; null keeps the current one."
    )


class CancelSession(PairCommand, type="binome.sessions.cancel-session", version=(1, 1)):
    """Call a scheduled session off (it can be scheduled again)."""

    session_number: SessionNumber
    reason: Reason = Field(
        default="",
        description="Free text for the sender's records; neither stored nor published.",
    )
    reason_code: Literal["participant_unavailable", "other"] = Field(
        default="other", description="Why, from a closed list; published in SessionCancelled."
    )


class SkipSession(PairCommand, type="binome.sessions.skip-session", version=(1, 0)):
    """Take a skippable session out of the pair's plan (its appointment, if any, is cancelled)."""

    session_number: SessionNumber


class ReportSessionHeld(PairCommand, type="binome.sessions.report-session-held", version=(1, 1)):
    """The session took place."""

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
    PairCommand, type="binome.sessions.report-session-missed", version=(1, 0)
):
    """The session was planned but did not take place (it is to be scheduled again)."""

    session_number: SessionNumber
    missed_by: ParticipantRole | None = None


class SetObjective(PairCommand, type="binome.sessions.set-objective", version=(1, 0)):
    """A precise objective of the pair (the mentee's digital goal, or the mentor's)."""

    objective_id: Identifier
    owner: ParticipantRole
    title: ObjectiveTitle = Field(examples=["Publier un post LinkedIn par mois"])
    target_date: CommandMoment | None = Field(
        default=None, description="Accepted; not tracked yet."
    )


class UpdateObjectiveProgress(
    PairCommand, type="binome.sessions.update-objective-progress", version=(1, 0)
):
    """Progress towards an objective, in percent; ``closed`` with ``met`` closes it."""

    objective_id: Identifier
    progress_percent: Percent
    closed: bool = False
    met: bool | None = Field(default=None, description="Required when `closed` is true.")


class GiveFeedback(PairCommand, type="binome.sessions.give-feedback", version=(1, 0)):
    """One side's feedback after a session (or at the end, without a session number)."""

    side: ParticipantRole
    session_number: SessionNumber | None = None
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, free_text(2000)] = ""
    good_fit: bool | None = Field(
        default=None, description="After the first session: is this pair a good fit?"
    )


class RecordMentorTraining(
    PairCommand, type="binome.sessions.record-mentor-training", version=(1, 0)
):
    """The pair's mentor completed the programme's training: sessions can now be scheduled."""


SessionCommand = (
    ScheduleSession
    | RescheduleSession
    | CancelSession
    | SkipSession
    | ReportSessionHeld
    | ReportSessionMissed
    | SetObjective
    | UpdateObjectiveProgress
    | GiveFeedback
    | RecordMentorTraining
)
"""Any command about one pair's sessions, objectives or feedback."""

SESSION_COMMAND_TYPES: tuple[type[SessionCommand], ...] = (
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
