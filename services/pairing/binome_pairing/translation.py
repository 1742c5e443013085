"""The one layer between the pairing domain and the public contracts (pure: no IO, no clock).

The engine's results (:mod:`binome_pairing.domain.results`) are its own models, because the
offline tool writes them as they are; this module carries only what differs on the way to
the events: rounded figures, codes as text, and the contract's names for the engine's
``covered_needs`` (``needs_covered``), pair ``explanation`` (``summary``) and ``kept_pairs``
(``pairs_kept``).
"""

from __future__ import annotations

from typing import Protocol

from binome_pairing.adapters.repository import PairRecord, StoredPair
from binome_pairing.domain import MatchingResult, ProposedPair
from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    DissolutionReason,
    MatchingCompleted,
    NeedCovered,
    PairCalledOff,
    PairDissolved,
    PairExplanation,
    PairFormed,
    PairProposed,
    PairRejected,
    PairSide,
    UnmatchedParticipant,
)
from binome_shared.messaging.routes import UnitOfWork


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


def pair_announced(pair: PairRecord) -> PairFormed | PairProposed:
    """What a new (or newly approved) pair says: formed, or proposed for HR's decision."""
    announced = PairFormed if pair.status is PairStatus.FORMED else PairProposed
    return announced(
        pair_id=pair.pair_id,
        round_id=pair.round_id,
        mentor=pair.mentor,
        mentee=pair.mentee,
        explanation=pair.explanation,
        mentor_trained=pair.mentor_trained,
    )


def pair_ended(
    pair: StoredPair, reason: DissolutionReason, detail: str
) -> PairDissolved | PairRejected | PairCalledOff:
    """A member left: a formed pair is dissolved; a proposal is withdrawn, as a rejection
    whose reason is the departure's; a pair put to its members is called off (so that the
    one still asked is told it will not go ahead)."""
    if pair.status is PairStatus.FORMED:
        return PairDissolved(pair_id=pair.pair_id, reason=reason, detail=detail)
    if pair.status is PairStatus.AWAITING_CONSENT:
        return PairCalledOff(pair_id=pair.pair_id, reason=CallOffReason.PARTICIPANT_LEFT)
    return PairRejected(pair_id=pair.pair_id, reason=str(reason))


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


def caused_by(
    envelope: Envelope[Message], uow: UnitOfWork, data: Message, subject: str | None = None
) -> Envelope[Message]:
    """The envelope of an event ``envelope``'s command caused, stamped by this unit of work."""
    return envelope.caused(data, source=uow.source, time=uow.now, subject=subject)
