"""A previewed round's answer: every pair, explained, and how it differs from today's pairs.

The answer is events (``MatchingPreviewed``), like every answer of the service: HR sends a
``RequestMatching`` (or ``ImposePairs``) with ``preview`` and, for a request, other rules to
try; nothing is stored. A preview of a thousand pairs is over a Kafka record's 1 MiB
(about 1.2 KB a pair, most of it the bilingual explanation), so the pairs are cut into
parts of at most :data:`PART_BYTES` of pairs each, far under the limit whatever the record's
headers, each part saying which it is and the preview's totals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from binome_pairing import translation
from binome_pairing.adapters.repository import PairingRepository, StoredPair
from binome_pairing.domain import ProposedPair
from binome_pairing.domain.lifecycle import ACTIVE_PAIR_STATUSES, pair_id_for
from binome_pairing.domain.preview_diff import PairDiff, diff_pairs
from binome_pairing.rounds import PairMember, SolvedRound
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.pairing_events import (
    BrokenPair,
    MatchingPreviewed,
    PairChange,
    PairExplanation,
    PreviewedPair,
)
from binome_shared.messaging.routes import UnitOfWork

PART_BYTES = 512 * 1024
"""The most JSON of pairs one part carries: half the producer's 1 MiB, leaving room for the
envelope, the headers and a pair larger than the rest."""

Explain = Callable[[ProposedPair], PairExplanation]


async def publish_preview(
    pairing: PairingRepository,
    solved: SolvedRound,
    *,
    envelope: Envelope[Message],
    uow: UnitOfWork,
    round_id: str,
    explain: Explain,
) -> None:
    """Publish the preview of ``solved`` in parts, compared with the programme's pairs."""
    tenant_id, programme_id = envelope.tenant_id, envelope.programme_id
    current = await pairing.pairs_with_status(tenant_id, programme_id, ACTIVE_PAIR_STATUSES)
    pairs = [ProposedPair.model_validate_json(text) for text in solved.kept_pairs_json]
    pairs += solved.new_pairs(0, len(solved.new_pairs_json))
    diff = diff_pairs(current, [(pair.mentor_id, pair.mentee_id) for pair in pairs])
    previewed = [
        _previewed(
            pair,
            diff=diff,
            members=solved.members,
            programme_id=programme_id,
            round_id=round_id,
            explain=explain,
        )
        for pair in pairs
    ]
    broken = [
        BrokenPair(
            pair_id=pair.pair_id,
            mentor_id=pair.mentor_id,
            mentee_id=pair.mentee_id,
            status=str(pair.status),
        )
        for pair in diff.broken
    ]
    parts = preview_parts(round_id, previewed, broken, kept=len(diff.kept), new=len(diff.new))
    await uow.publish_many([translation.caused_by(envelope, uow, part) for part in parts])


def _previewed(
    pair: ProposedPair,
    *,
    diff: PairDiff[StoredPair],
    members: dict[str, PairMember],
    programme_id: str,
    round_id: str,
    explain: Explain,
) -> PreviewedPair:
    key = (pair.mentor_id, pair.mentee_id)
    current = diff.kept.get(key)
    return PreviewedPair(
        pair_id=current.pair_id if current else pair_id_for(programme_id, round_id, key),
        change=PairChange.KEPT if current else PairChange.NEW,
        mentor=translation.side(members[pair.mentor_id]),
        mentee=translation.side(members[pair.mentee_id]),
        explanation=explain(pair),
    )


def preview_parts(
    round_id: str,
    pairs: Sequence[PreviewedPair],
    broken: Sequence[BrokenPair],
    *,
    kept: int,
    new: int,
) -> list[MatchingPreviewed]:
    """The preview cut into parts of at most :data:`PART_BYTES` of pairs (at least one part,
    even for an empty round, so HR always gets an answer); broken pairs follow the pairs."""
    chunks: list[tuple[list[PreviewedPair], list[BrokenPair]]] = [([], [])]
    size = 0

    def room_for(item: PreviewedPair | BrokenPair) -> None:
        nonlocal size
        length = len(item.model_dump_json().encode())  # bytes: accents take two
        if size + length > PART_BYTES and size:
            chunks.append(([], []))
            size = 0
        size += length

    for pair in pairs:
        room_for(pair)
        chunks[-1][0].append(pair)
    for item in broken:
        room_for(item)
        chunks[-1][1].append(item)
    return [
        MatchingPreviewed(
            round_id=round_id,
            part=number,
            parts=len(chunks),
            kept=kept,
            new=new,
            broken=len(broken),
            pairs=chunk_pairs,
            broken_pairs=chunk_broken,
        )
        for number, (chunk_pairs, chunk_broken) in enumerate(chunks, start=1)
    ]
