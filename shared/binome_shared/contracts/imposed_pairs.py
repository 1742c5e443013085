"""HR imposes pairs: one command with a list, the engine completes the rest around them.

Orange's case: one mentor chosen for each member of the executive committee, the rest of the
cohort paired by the engine. An imposed pair that breaks one of the programme's hard
constraints is refused with the constraint named, unless its entry carries an override with
HR's reason, which the pair's explanation then shows (``PairExplanation.imposed``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.base import Command
from binome_shared.contracts.text import Identifier, free_text
from binome_shared.contracts.topics import HR_COMMANDS

OverrideReason = Annotated[str, free_text(500, min_length=1)]
"""Why HR breaks the programme's rules for this pair: required, never empty."""


class PairOverride(BaseModel):
    """HR's explicit decision to form an imposed pair although it breaks hard constraints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: OverrideReason = Field(
        examples=["Choix du comité exécutif / executive committee's choice"]
    )


class ImposedPair(BaseModel):
    """One pair HR imposes: a mentor and a mentee of the programme."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mentor_id: Identifier = Field(examples=["E20117"])
    mentee_id: Identifier = Field(examples=["E00012"])
    override: PairOverride | None = Field(
        default=None,
        description=(
            "Form the pair even if it breaks the programme's hard constraints (not the "
            "mentor's capacity), with HR's reason, recorded in the pair's explanation."
        ),
    )


class ImposePairs(Command, type="binome.hr.impose-pairs", version=(1, 0), topic=HR_COMMANDS):
    """Form the listed pairs and pair the rest of the cohort optimally around them.

    All or nothing: one refused entry refuses the command (dead-lettered with every refused
    entry and its code), so HR fixes the list and sends it again. The pairs then follow the
    programme's approval mode (``PairProposed`` for HR's approval, or ``PairFormed``). With
    ``preview`` nothing is kept and the answer is ``MatchingPreviewed``.
    """

    round_id: Identifier = Field(examples=["2027-comex"])
    pairs: list[ImposedPair] = Field(min_length=1, max_length=10_000)
    preview: bool = Field(
        default=False,
        description="Check and solve as for real, publish MatchingPreviewed, keep nothing.",
    )
