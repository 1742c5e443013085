"""The sessions service's commands (``binome.sessions.commands``) and facts
(``binome.sessions.events``), keyed by pair so a pair's story is read in order.

Events carry ids, dates, counts and closed vocabularies: free text people write (session
notes, feedback comments, cancellation explanations, objective wordings) stays in the sessions
service, so that a GDPR erasure there is complete. ``ObjectiveSet`` carried the objective's
title until 1.x (``ObjectiveSetV1``, still read); 2.0 leaves it out.

The messages live in modules by concern (vocabulary, commands, pair events, progress report);
this package names them all, as the one module it once was did.
"""

from __future__ import annotations

from typing import TypeAlias

from binome_shared.contracts.base import Event
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import commands as _commands
from binome_shared.contracts.sessions_messages.commands import (
    CancelSession,
    GiveFeedback,
    RecordMentorTraining,
    ReportSessionHeld,
    ReportSessionMissed,
    RescheduleSession,
    ScheduleSession,
    SetObjective,
    SkipSession,
    UpdateObjectiveProgress,
)
from binome_shared.contracts.sessions_messages.events import (
    FeedbackGiven,
    ObjectiveClosed,
    ObjectiveProgressed,
    ObjectiveSet,
    ObjectiveSetV1,
    PairCompleted,
    PairFitConcernRaised,
    PairResumed,
    PairStalled,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    SessionPlanned,
    SessionRescheduled,
    SessionScheduled,
    SessionSkipped,
)
from binome_shared.contracts.sessions_messages.progress import (
    GroupFigures,
    ProgrammeProgressReported,
    ProgressFigures,
    RatingFigure,
)
from binome_shared.contracts.sessions_messages.pulse import (
    AnswerPulse,
    PairNeedsHelp,
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
    PulseNumber,
)
from binome_shared.contracts.sessions_messages.vocabulary import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
    FeedbackMoment,
    Location,
    Minutes,
    ObjectiveOutcome,
    ObjectiveTitle,
    Percent,
    ProgressGrouping,
    SessionNumber,
)

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
    # Pulse check-ins (issue #17): appended, so that other additions merge.
    PulseCheckRequested,
    PulseAnswered,
    PairNeedsHelp,
)

SessionCommand: TypeAlias = _commands.SessionCommand | AnswerPulse
"""Any command about one pair: its sessions, objectives, feedback, or a pulse answer."""

SESSION_COMMAND_TYPES: tuple[type[SessionCommand], ...] = (
    *_commands.SESSION_COMMAND_TYPES,
    AnswerPulse,
)
"""Every command the sessions service takes on ``binome.sessions.commands``."""

__all__ = [
    "SESSIONS_EVENT_TYPES",
    "SESSION_COMMAND_TYPES",
    "Absence",
    "AnswerPulse",
    "Attendance",
    "CancelSession",
    "CancellationReason",
    "CompletionReason",
    "FeedbackGiven",
    "FeedbackMoment",
    "GiveFeedback",
    "GroupFigures",
    "Location",
    "Minutes",
    "ObjectiveClosed",
    "ObjectiveOutcome",
    "ObjectiveProgressed",
    "ObjectiveSet",
    "ObjectiveSetV1",
    "ObjectiveTitle",
    "PairCompleted",
    "PairFitConcernRaised",
    "PairNeedsHelp",
    "PairResumed",
    "PairStalled",
    "ParticipantRole",
    "Percent",
    "ProgrammeProgressReported",
    "ProgressFigures",
    "ProgressGrouping",
    "PulseAnswer",
    "PulseAnswered",
    "PulseCheckRequested",
    "PulseNumber",
    "RatingFigure",
    "RecordMentorTraining",
    "ReportSessionHeld",
    "ReportSessionMissed",
    "RescheduleSession",
    "ScheduleSession",
    "SessionCancelled",
    "SessionCommand",
    "SessionCompleted",
    "SessionMissed",
    "SessionNumber",
    "SessionPlanned",
    "SessionRescheduled",
    "SessionScheduled",
    "SessionSkipped",
    "SetObjective",
    "SkipSession",
    "UpdateObjectiveProgress",
]
