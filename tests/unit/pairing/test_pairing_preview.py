"""Previews list every pair with its explanation and its change (kept, new, broken), in
parts that each fit in a Kafka record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.domain.lifecycle import PairStatus, pair_id_for
from binome_pairing.domain.preview_diff import PairDiff, diff_pairs
from binome_pairing.previewing import PART_BYTES
from binome_shared.contracts.hr_commands import ApprovePair, MatchingScope, RequestMatching
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    MatchingPreviewed,
    PairChange,
)
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.messaging.cloudevents import encode
from binome_shared.messaging.dead_letters import record_size
from binome_shared.messaging.relay_producer import DEFAULT_MAX_REQUEST_SIZE

from .pairing_builders import mentee, mentor, need, rules, skill
from .service_fakes import PROGRAMME, TENANT
from .service_harness import Service

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Stored:
    pair_id: str
    mentor_id: str
    mentee_id: str


def test_the_diff_sorts_round_pairs_into_kept_and_new_and_names_the_broken() -> None:
    formed = Stored("p1", "A", "a")
    proposal_dropped = Stored("p2", "B", "b")
    proposal_again = Stored("p3", "C", "c")

    diff = diff_pairs(
        [formed, proposal_dropped, proposal_again], [("A", "a"), ("B", "d"), ("C", "c")]
    )

    assert diff.kept == {("A", "a"): formed, ("C", "c"): proposal_again}
    assert diff.new == [("B", "d")]
    assert diff.broken == [proposal_dropped]


def test_nothing_current_makes_every_pair_new() -> None:
    diff: PairDiff[Stored] = diff_pairs([], [("A", "a")])

    assert (diff.kept, diff.new, diff.broken) == ({}, [("A", "a")], [])


async def proposals_then_a_newcomer() -> tuple[Service, str, str]:
    """Y1/E1 formed and Y2/E2 proposed by a first round; E3 enrolled since. E2 shares Y2's
    department, so a rule set with different departments breaks that proposal."""
    service = Service()
    await service.programme(rules().model_copy(update={"approval_mode": ApprovalMode.HR_APPROVES}))
    await service.enrolled(
        mentor("Y1", skills=[skill("data", 5)], department="Digital"),
        mentor("Y2", skills=[skill("linkedin", 5)], department="Sales"),
        mentee("E1", learning_needs=[need("data", 5)], department="Finance"),
        mentee("E2", learning_needs=[need("linkedin", 5)], department="Sales"),
    )
    await service.handle(RequestMatching(round_id="r1"))
    by_mentee = {
        pair.mentee.participant_id: pair.pair_id for pair in service.pairing.pairs.values()
    }
    await service.handle(ApprovePair(pair_id=by_mentee["E1"]))
    await service.enrolled(mentee("E3", learning_needs=[need("linkedin", 2)], department="Audit"))
    service.outbox.envelopes.clear()
    return service, by_mentee["E1"], by_mentee["E2"]


async def test_a_full_preview_with_other_rules_lists_kept_new_and_broken_exactly() -> None:
    service, formed_id, proposal_id = await proposals_then_a_newcomer()
    before = dict(service.pairing.pairs)

    await service.handle(
        RequestMatching(
            round_id="try-departments",
            scope=MatchingScope.FULL,
            preview=True,
            rules=rules(different_department=True),
        )
    )

    assert service.outbox.types() == ["MatchingPreviewed", "MatchingCompleted"]
    [part] = service.outbox.of_type(MatchingPreviewed)
    assert (part.part, part.parts, part.kept, part.new, part.broken) == (1, 1, 1, 1, 1)
    assert [
        (p.pair_id, p.change, p.mentor.participant_id, p.mentee.participant_id) for p in part.pairs
    ] == [
        (formed_id, PairChange.KEPT, "Y1", "E1"),
        (pair_id_for(PROGRAMME, "try-departments", ("Y2", "E3")), PairChange.NEW, "Y2", "E3"),
    ]
    assert [(b.pair_id, b.mentor_id, b.mentee_id, b.status) for b in part.broken_pairs] == [
        (proposal_id, "Y2", "E2", "proposed")
    ]
    assert "different_department" in part.pairs[1].explanation.constraints_checked
    assert part.pairs[1].explanation.summary.fr
    [report] = service.outbox.of_type(MatchingCompleted)
    assert report.preview
    assert service.pairing.pairs == before, "a preview keeps nothing"
    assert service.pairing.with_status(PairStatus.PROPOSED, TENANT)[0].pair_id == proposal_id


async def test_a_full_preview_with_the_same_rules_keeps_the_proposal() -> None:
    service, formed_id, proposal_id = await proposals_then_a_newcomer()

    await service.handle(RequestMatching(round_id="again", scope=MatchingScope.FULL, preview=True))

    [part] = service.outbox.of_type(MatchingPreviewed)
    assert [(p.pair_id, p.change) for p in part.pairs] == [
        (formed_id, PairChange.KEPT),
        (proposal_id, PairChange.KEPT),
    ]
    assert (part.kept, part.new, part.broken, part.broken_pairs) == (2, 0, 0, [])


async def test_an_unmatched_preview_keeps_every_pair_and_adds_only_new_ones() -> None:
    service, formed_id, proposal_id = await proposals_then_a_newcomer()

    await service.handle(RequestMatching(round_id="again", preview=True))

    [part] = service.outbox.of_type(MatchingPreviewed)
    assert {(p.pair_id, p.change) for p in part.pairs} == {
        (formed_id, PairChange.KEPT),
        (proposal_id, PairChange.KEPT),
    }
    assert part.new == 0


def _encoded_size(envelope: Any) -> int:
    record = encode(envelope, topic=PAIRING_EVENTS.name)
    return record_size(record.key, record.value, record.headers)


async def test_a_thousand_pair_preview_comes_in_parts_each_under_the_record_limit() -> None:
    cohort = generate_cohort(mentees=1000, mentors=1100, seed=2027)
    service = Service()
    await service.programme(cohort.rules)
    await service.enrolled(*cohort.participants)

    await service.handle(RequestMatching(round_id="big", preview=True))

    parts = [e for e in service.outbox.envelopes if isinstance(e.data, MatchingPreviewed)]
    sizes = [_encoded_size(envelope) for envelope in parts]
    pairs = [pair for envelope in parts for pair in envelope.data.pairs]
    [report] = service.outbox.of_type(MatchingCompleted)
    whole = parts[0].model_copy(
        update={"data": parts[0].data.model_copy(update={"pairs": pairs, "part": 1, "parts": 1})}
    )
    print(
        f"\n{len(pairs)} pairs: {len(parts)} parts of {sizes} bytes; "
        f"{_encoded_size(whole):,} bytes in one record"
    )
    assert len(pairs) == report.pairs == parts[0].data.new
    assert len(pairs) == 1000, "the generated cohort pairs every mentee"
    assert [envelope.data.part for envelope in parts] == list(range(1, len(parts) + 1))
    assert {envelope.data.parts for envelope in parts} == {len(parts)}
    assert len({pair.pair_id for pair in pairs}) == len(pairs)
    assert all(size <= PART_BYTES + 2048 for size in sizes)
    assert max(sizes) < DEFAULT_MAX_REQUEST_SIZE
    assert _encoded_size(whole) > DEFAULT_MAX_REQUEST_SIZE, "one record would be refused"
