"""The sessions contracts' vocabulary: bounded numbers and the closed lists messages use.

The mentor/mentee side is :class:`~binome_shared.contracts.participants.ParticipantRole`, the
one role enum of every contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from binome_shared.contracts.session_plan import MAX_PLANNED_SESSIONS
from binome_shared.contracts.text import line

SessionNumber = Annotated[int, Field(ge=1, le=MAX_PLANNED_SESSIONS)]
"""A session's position in its programme's plan, from 1."""

Minutes = Annotated[int, Field(ge=1, le=600)]
"""A session's length in minutes (ten hours at most)."""

Percent = Annotated[int, Field(ge=0, le=100)]

Location = Annotated[str, line(300)]
"""Where a session takes place (a room, a site, a video-call tool): one line."""

ObjectiveTitle = Annotated[str, line(300, min_length=3)]


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


class CompletionReason(StrEnum):
    """Why a pair's programme came to an end."""

    PLAN_COMPLETED = "plan_completed"
    PROGRAMME_ENDED = "programme_ended"


class ProgressGrouping(StrEnum):
    """Which side's business unit the figures are broken down by."""

    MENTEE_BUSINESS_UNIT = "mentee_business_unit"
    MENTOR_BUSINESS_UNIT = "mentor_business_unit"
