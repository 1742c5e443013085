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

from binome_shared.contracts.base import Event
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages.commands import (
    SESSION_COMMAND_TYPES,
    CancelSession,
    GiveFeedback,
    RecordMentorTraining,
    ReportSessionHeld,
    ReportSessionMissed,
    RescheduleSession,
    ScheduleSession,
    SessionCommand,
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
)

__all__ = [
    "SESSIONS_EVENT_TYPES",
    "SESSION_COMMAND_TYPES",
    "Absence",
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
    "PairResumed",
    "PairStalled",
    "ParticipantRole",
    "Percent",
    "ProgrammeProgressReported",
    "ProgressFigures",
    "ProgressGrouping",
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
