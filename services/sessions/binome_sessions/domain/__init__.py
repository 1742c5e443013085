"""The sessions service's pure domain: a pair's déroulé, objectives, feedback and follow-up.

No IO and no clock reads here: the service passes ``now`` in and stores what comes out. The
closed lists messages also carry (sides, reasons, outcomes…) and the progress figures are the
contracts' own, imported from ``binome_shared.contracts.sessions_messages``.
"""

from binome_sessions.domain.events import (
    AppointmentEvent,
    FeedbackGiven,
    ObjectiveClosed,
    ObjectiveEvent,
    ObjectiveProgressed,
    ObjectiveSet,
    PairCompleted,
    PairEvent,
    PairFitConcernRaised,
    PairNeedsHelp,
    PairPlanStarted,
    PairResumed,
    PairStalled,
    PulseAnswered,
    PulseRequested,
    SessionCancelled,
    SessionCompleted,
    SessionEvent,
    SessionMissed,
    SessionRescheduled,
    SessionScheduled,
    SessionsDomainEvent,
    SessionSkipped,
)
from binome_sessions.domain.follow_up import close_expired, detect_stalls
from binome_sessions.domain.progress import (
    DEFAULT_SUPPRESSION_THRESHOLD,
    ProgrammeProgress,
    compute_progress,
)
from binome_sessions.domain.rejections import (
    REJECTION_REASONS,
    CommandRejectedError,
    RejectionCode,
)
from binome_sessions.domain.track import Feedback, Objective, PairTrack, TrackedSession
from binome_sessions.domain.values import (
    ObjectiveStatus,
    PairStatus,
    SessionStatus,
)

__all__ = [
    "DEFAULT_SUPPRESSION_THRESHOLD",
    "REJECTION_REASONS",
    "AppointmentEvent",
    "CommandRejectedError",
    "Feedback",
    "FeedbackGiven",
    "Objective",
    "ObjectiveClosed",
    "ObjectiveEvent",
    "ObjectiveProgressed",
    "ObjectiveSet",
    "ObjectiveStatus",
    "PairCompleted",
    "PairEvent",
    "PairFitConcernRaised",
    "PairNeedsHelp",
    "PairPlanStarted",
    "PairResumed",
    "PairStalled",
    "PairStatus",
    "PairTrack",
    "ProgrammeProgress",
    "PulseAnswered",
    "PulseRequested",
    "RejectionCode",
    "SessionCancelled",
    "SessionCompleted",
    "SessionEvent",
    "SessionMissed",
    "SessionRescheduled",
    "SessionScheduled",
    "SessionSkipped",
    "SessionStatus",
    "SessionsDomainEvent",
    "TrackedSession",
    "close_expired",
    "compute_progress",
    "detect_stalls",
]
