"""The sessions domain's vocabulary: sides, statuses, outcomes and reasons."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """One side of a pair: the young mentor or the executive mentee."""

    MENTOR = "mentor"
    MENTEE = "mentee"


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


class Attendance(StrEnum):
    """How fully both sides attended a held session."""

    FULL = "full"
    PARTIAL = "partial"
    """Someone joined late or left early; the session still counts as held."""


class Absence(StrEnum):
    """Who did not come to a missed session."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    BOTH = "both"
    UNKNOWN = "unknown"


class CancellationReason(StrEnum):
    """Why an appointment was cancelled (a closed list: free text could hold personal data)."""

    PARTICIPANT_UNAVAILABLE = "participant_unavailable"
    SESSION_SKIPPED = "session_skipped"
    PAIR_DISSOLVED = "pair_dissolved"
    PROGRAMME_ENDED = "programme_ended"
    OTHER = "other"


class ObjectiveStatus(StrEnum):
    """An objective is open until it is closed as met or not met."""

    OPEN = "open"
    MET = "met"
    NOT_MET = "not_met"


class ObjectiveOutcome(StrEnum):
    """How a closed objective ended."""

    MET = "met"
    NOT_MET = "not_met"


class FeedbackMoment(StrEnum):
    """When a piece of feedback was asked for."""

    AFTER_SESSION = "after_session"
    END_OF_PROGRAMME = "end_of_programme"


class CompletionReason(StrEnum):
    """Why a pair's programme came to an end."""

    PLAN_COMPLETED = "plan_completed"
    """Every session of the déroulé was held or skipped."""
    PROGRAMME_ENDED = "programme_ended"
    """The programme's end date passed before the pair finished its déroulé."""
