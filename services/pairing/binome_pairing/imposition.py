"""HR's imposed pairs, on their way through a round: checked, refused whole, explained.

All or nothing: one refused entry refuses the command (dead-lettered with every refused
entry, its position, code and reason in French and English), so HR never has to find out
which of its pairs were formed; it fixes the list and sends it again.
"""

from __future__ import annotations

from collections.abc import Sequence

from binome_pairing.adapters.repository import PairingRepository
from binome_pairing.domain import ProposedPair, RecordProblem
from binome_pairing.domain.imposition import (
    Imposition,
    imposition_summary,
    listing_problems,
    solved_problems,
)
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.imposed_pairs import ImposedPair, ImposePairs
from binome_shared.contracts.pairing_events import PairExplanation, PairImposition
from binome_shared.messaging.errors import RejectedError

REFUSED_SHOWN = 50
"""Refused entries named in a dead letter's reason; the rest are counted (a list of 10,000
wrong entries would make a reason nobody reads, over the dead letter's size)."""


def impositions(pairs: Sequence[ImposedPair]) -> list[Imposition]:
    """The command's entries as the engine's checks read them."""
    return [
        Imposition(
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            override_reason=pair.override.reason if pair.override else None,
        )
        for pair in pairs
    ]


async def refuse_unfit_listing(pairing: PairingRepository, envelope: Envelope[ImposePairs]) -> None:
    """Refuse before solving: a mentee listed twice, someone not enrolled any more."""
    entries = impositions(envelope.data.pairs)
    people = sorted({person for entry in entries for person in entry.members})
    statuses = await pairing.participant_statuses(envelope.tenant_id, envelope.programme_id, people)
    refuse_if_any(listing_problems(entries, statuses))


def refuse_unfit_pairs(
    pairs: Sequence[ImposedPair],
    *,
    problems: Sequence[RecordProblem],
    imposed: Sequence[ProposedPair],
) -> None:
    """Refuse after solving: what the engine could not fix, rules broken without override."""
    refuse_if_any(solved_problems(impositions(pairs), problems=problems, imposed=imposed))


def refuse_if_any(problems: Sequence[RecordProblem]) -> None:
    """Raise the refusal of the whole command if any entry is refused; the code is the
    problem's own when all share one (``different_department``), else ``imposed_pairs_refused``."""
    if not problems:
        return
    codes = {problem.code for problem in problems}
    lines = [
        f"{problem.location}: {problem.code}: {problem.message.en} / {problem.message.fr}"
        for problem in problems[:REFUSED_SHOWN]
    ]
    if len(problems) > REFUSED_SHOWN:
        more = len(problems) - REFUSED_SHOWN
        lines.append(f"and {more} more / et {more} de plus")
    raise RejectedError(
        codes.pop() if len(codes) == 1 else "imposed_pairs_refused",
        "nothing imposed / rien d'imposé: " + "; ".join(lines),
    )


def imposed_explanation(
    explanation: PairExplanation, pair: ProposedPair, override_reason: str | None
) -> PairExplanation:
    """The engine's explanation of an imposed pair, with what HR overrode and why."""
    imposed = PairImposition(
        overridden=[str(constraint) for constraint in pair.constraints_violated],
        reason=override_reason or "",
        summary=imposition_summary(pair.constraints_violated, override_reason),
    )
    return explanation.model_copy(update={"imposed": imposed})
