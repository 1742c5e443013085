"""The sessions domain's own statuses: where a pair, a session and an objective are.

The closed lists the public messages also carry (sides, attendance, absences, reasons,
outcomes, moments) are the contracts' own, imported from
``binome_shared.contracts.sessions_messages``: one word for each idea. These statuses stay
here because no message carries them: they are the aggregate's state.
"""

from __future__ import annotations

from enum import StrEnum


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
