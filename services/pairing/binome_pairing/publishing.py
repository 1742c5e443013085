"""From the engine's results to the public events (pure: no IO, no clock)."""

from __future__ import annotations

from typing import Protocol

from binome_pairing.domain import MatchingResult, ProposedPair
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    NeedCovered,
    PairExplanation,
    PairSide,
    UnmatchedParticipant,
)


class Member(Protocol):
    """A pair member as the handlers know it (a profile, or the solver's summary of one)."""

    @property
    def participant_id(self) -> str: ...

    @property
    def business_unit(self) -> str: ...


def side(member: Member) -> PairSide:
    """What other services may know of a pair member: id and business unit."""
    return PairSide(participant_id=member.participant_id, business_unit=member.business_unit)


def explanation(pair: ProposedPair) -> PairExplanation:
    """The engine's explanation of a pair, as the public contract carries it."""
    return PairExplanation(
        score=round(pair.score, 6),
        breakdown={str(criterion): round(value, 6) for criterion, value in pair.breakdown.items()},
        needs_covered=[
            NeedCovered(need=need.need, priority=need.priority, mentor_level=need.mentor_level)
            for need in pair.covered_needs
        ],
        constraints_checked=[str(constraint) for constraint in pair.constraints_checked],
        summary=pair.explanation,
    )


def matching_completed(
    result: MatchingResult, *, round_id: str, preview: bool, new_pairs: int
) -> MatchingCompleted:
    """The round's report: counts, score distribution and everyone left unmatched, with why."""
    stats = result.stats
    return MatchingCompleted(
        round_id=round_id,
        preview=preview,
        mentors=stats.mentors,
        mentees=stats.mentees,
        pairs=new_pairs,
        pairs_kept=stats.kept_pairs,
        score_quantiles={key: round(value, 6) for key, value in stats.score_quantiles.items()},
        unmatched=[
            UnmatchedParticipant(
                participant_id=item.participant_id,
                role=str(item.role),
                reason_code=str(item.reason_code),
                reason=item.reason,
            )
            for item in result.unmatched
        ],
        rejected_records=stats.rejected_records,
    )
