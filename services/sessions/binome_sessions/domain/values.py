"""The sessions domain's vocabulary: sides, statuses, outcomes and reasons.

The closed lists the public messages also carry are the contracts' own (one word for each
idea); the statuses below are the domain's alone, as no message carries them.
"""

from __future__ import annotations

from enum import StrEnum

from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
    FeedbackMoment,
    ObjectiveOutcome,
    ProgressGrouping,
)


class PairStatus(StrEnum):
    """Where a pair is in its programme; a stall is tracked apart, on active pairs."""

    ACTIVE = "active"
    COMPLETED = "completed"
    DISSOLVED = "dissolved"


class SessionStatus(StrEnum):
    """Where one themed session of a pair's déroulé is.

    A cancelled or missed appointment sends the session back to ``planned``: the theme still
    has to be covered, so it is scheduled again.
    """

    PLANNED = "planned"
    SCHEDULED = "scheduled"
    HELD = "held"
    SKIPPED = "skipped"


class ObjectiveStatus(StrEnum):
    """An objective is open until it is closed as met or not met."""

    OPEN = "open"
    MET = "met"
    NOT_MET = "not_met"


__all__ = [
    "Absence",
    "Attendance",
    "CancellationReason",
    "CompletionReason",
    "FeedbackMoment",
    "ObjectiveOutcome",
    "ObjectiveStatus",
    "PairStatus",
    "ParticipantRole",
    "ProgressGrouping",
    "SessionStatus",
]
