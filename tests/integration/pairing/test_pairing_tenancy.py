"""Two tenants in the pairing service, on the real broker and Postgres: the same programme id
and the same people, different rules. Each tenant's rounds follow its own rules and its
events carry its tenant; a command naming what only the other tenant owns is dead-lettered
as unknown and changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.domain import solve
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    DissolvePair,
    EnrolParticipant,
    RequestMatching,
)
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.programme import ApprovalMode, CriteriaWeights, ProgrammeRules
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from binome_shared.messaging.cloudevents import decode
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes, received
from tests.support.programmes import HR_SOURCE, NOW, programme_definition
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

FIRST, SECOND = "groupe-alpha", "groupe-beta"
PROGRAMME = "prog-commun"
ONLY_FIRST = "prog-alpha-seulement"
COHORT = generate_cohort(mentees=5, mentors=3, seed=7)


def weighing_only(**weights: float) -> CriteriaWeights:
    """Weights counting only the criteria named."""
    unnamed = dict.fromkeys(CriteriaWeights.model_fields, 0.0)
    return CriteriaWeights.model_validate({**unnamed, **weights})


RULES = {
    # Formed at once, one mentee per mentor, needs first.
    FIRST: COHORT.rules.model_copy(
        update={
            "approval_mode": ApprovalMode.AUTOMATIC,
            "mentor_capacity": 1,
            "weights": weighing_only(needs_coverage=1.0),
        }
    ),
    # Proposed to HR, two mentees per mentor, site and interests first.
    SECOND: COHORT.rules.model_copy(
        update={
            "approval_mode": ApprovalMode.HR_APPROVES,
            "mentor_capacity": 2,
            "weights": weighing_only(same_site=1.0, shared_interests=1.0),
        }
    ),
}
_SNAPSHOT = {
    "programmes": "SELECT tenant_id, programme_id, definition, rounds_run FROM programmes",
    "participants": "SELECT tenant_id, programme_id, participant_id, status, profile "
    "FROM participants",
    "pairs": "SELECT tenant_id, pair_id, status, decided_at FROM pairs",
}


def command(data: Message, tenant: str, programme_id: str = PROGRAMME) -> Envelope[Any]:
    return Envelope.new(
        data, source=HR_SOURCE, time=NOW, tenant_id=tenant, programme_id=programme_id
    )


def expected_pairs(rules: ProgrammeRules) -> set[tuple[str, str]]:
    """The pairs the engine forms under ``rules`` (people in the order the service reads)."""
    people = sorted(COHORT.participants, key=lambda person: person.participant_id)
    result = solve(rules=rules, participants=people)
    return {(pair.mentor_id, pair.mentee_id) for pair in result.pairs}


async def settle(database: ProvisionedDatabase, kafka: Kafka, *commands: Envelope[Any]) -> None:
    """Send ``commands`` and wait until pairing has taken each one and relayed every event."""
    for each in commands:
        await kafka.publish(each)
    conn = await database.connect("pairing")
    try:
        taken = "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])"
        ids = [each.id for each in commands]
        await eventually(lambda: conn.fetchval(taken, ids), len(ids), timeout=120)
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        await eventually(lambda: conn.fetchval(unsent), 0)
    finally:
        await conn.close()


async def events_by_tenant(
    database: ProvisionedDatabase, kafka: Kafka
) -> dict[str, list[Envelope[Any]]]:
    """Every pairing event so far (as many as the outbox wrote), by tenant."""
    topic = PAIRING_EVENTS.full_name(kafka.prefix)
    written = await database.fetchval(
        "pairing", "SELECT count(*) FROM outbox WHERE topic = $1", topic
    )
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=written)
    assert len(events) == written
    grouped: dict[str, list[Envelope[Any]]] = {FIRST: [], SECOND: []}
    for event in events:
        grouped[event.tenant_id].append(event)
    return grouped


def of_type(events: list[Envelope[Any]], kind: type[Message]) -> list[Any]:
    return [event.data for event in events if isinstance(event.data, kind)]


def members(pair: PairFormed | PairProposed) -> tuple[str, str]:
    return pair.mentor.participant_id, pair.mentee.participant_id


async def pairs_by_status(database: ProvisionedDatabase) -> dict[tuple[str, str], int]:
    conn = await database.connect("pairing")
    try:
        rows = await conn.fetch("SELECT tenant_id, status, count(*) FROM pairs GROUP BY 1, 2")
    finally:
        await conn.close()
    return {(row["tenant_id"], row["status"]): row["count"] for row in rows}


async def snapshot(database: ProvisionedDatabase) -> dict[str, list[tuple[Any, ...]]]:
    conn = await database.connect("pairing")
    try:
        return {
            table: sorted(tuple(row) for row in await conn.fetch(query))
            for table, query in _SNAPSHOT.items()
        }
    finally:
        await conn.close()


async def test_two_tenants_with_the_same_programme_and_people_stay_apart(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    expected = {tenant: expected_pairs(rules) for tenant, rules in RULES.items()}
    shared = expected[FIRST] & expected[SECOND]
    first_only, second_only = expected[FIRST] - shared, expected[SECOND] - shared
    # The rules differ where a mix-up would show: pairs of one tenant only, on each side.
    assert first_only
    assert second_only
    assert shared
    assert len(expected[FIRST]) != len(expected[SECOND])
    pairing = service_factory("pairing")
    await pairing.wait_ready()

    formed, proposed = await first_rounds(database, kafka, expected)
    for members in shared:
        assert formed[members].pair_id == proposed[members].pair_id, "ids derive from people"
    events = await same_pair_id_decided_apart(
        database, kafka, expected, formed[min(shared)].pair_id
    )
    await refused_as_unknown(
        database,
        kafka,
        events,
        first_pair=formed[min(first_only)].pair_id,
        second_proposal=proposed[min(second_only)].pair_id,
    )


async def first_rounds(
    database: ProvisionedDatabase, kafka: Kafka, expected: dict[str, set[tuple[str, str]]]
) -> tuple[dict[tuple[str, str], PairFormed], dict[tuple[str, str], PairProposed]]:
    """Each tenant defines the programme (the second after the first), enrols the same
    people and runs a round (the first tenant has a second programme of its own): each
    round follows its own tenant's rules. The pairs formed and proposed, by members."""
    await settle(
        database,
        kafka,
        *(command(programme_definition(RULES[t]), t) for t in (FIRST, SECOND)),
        command(programme_definition(RULES[FIRST]), FIRST, ONLY_FIRST),
        *(
            command(EnrolParticipant(participant=person), tenant)
            for tenant in (FIRST, SECOND)
            for person in COHORT.participants
        ),
        *(command(RequestMatching(round_id="r1"), tenant) for tenant in (FIRST, SECOND)),
    )
    events = await events_by_tenant(database, kafka)
    formed = {members(p): p for p in of_type(events[FIRST], PairFormed)}
    proposed = {members(p): p for p in of_type(events[SECOND], PairProposed)}
    assert set(formed) == expected[FIRST]
    assert set(proposed) == expected[SECOND]
    assert of_type(events[FIRST], PairProposed) == of_type(events[SECOND], PairFormed) == []
    [first_round] = of_type(events[FIRST], MatchingCompleted)
    [second_round] = of_type(events[SECOND], MatchingCompleted)
    for report in (first_round, second_round):
        assert (report.mentors, report.mentees) == (3, 5)
    assert (first_round.pairs, second_round.pairs) == (len(expected[FIRST]), len(expected[SECOND]))
    capacity = (
        "SELECT (definition -> 'rules' ->> 'mentor_capacity')::int FROM programmes "
        "WHERE tenant_id = $1 AND programme_id = $2"
    )
    assert await database.fetchval("pairing", capacity, FIRST, PROGRAMME) == 1
    assert await database.fetchval("pairing", capacity, SECOND, PROGRAMME) == 2
    return formed, proposed


async def same_pair_id_decided_apart(
    database: ProvisionedDatabase,
    kafka: Kafka,
    expected: dict[str, set[tuple[str, str]]],
    same_id: str,
) -> dict[str, list[Envelope[Any]]]:
    """A pair id both tenants hold: the second approves its proposal, the first dissolves
    its pair (and re-pairs whoever it frees); neither touches the other's. Every event."""
    await settle(
        database,
        kafka,
        command(ApprovePair(pair_id=same_id), SECOND),
        command(DissolvePair(pair_id=same_id, reason="Mutation"), FIRST),
    )
    events = await events_by_tenant(database, kafka)
    [dissolved] = of_type(events[FIRST], PairDissolved)
    assert dissolved.pair_id == same_id
    repair = of_type(events[FIRST], MatchingCompleted)[1]
    assert repair.round_id.startswith("repair-")
    assert Counter(type(e.data).__name__ for e in events[FIRST]) == {
        "PairFormed": len(expected[FIRST]) + repair.pairs,
        "MatchingCompleted": 2,
        "PairDissolved": 1,
    }
    assert [p.pair_id for p in of_type(events[SECOND], PairFormed)] == [same_id]
    assert Counter(type(e.data).__name__ for e in events[SECOND]) == {
        "PairProposed": len(expected[SECOND]),
        "MatchingCompleted": 1,
        "PairFormed": 1,
    }
    status = "SELECT status FROM pairs WHERE tenant_id = $1 AND pair_id = $2"
    assert await database.fetchval("pairing", status, FIRST, same_id) == "dissolved"
    assert await database.fetchval("pairing", status, SECOND, same_id) == "formed"
    assert await pairs_by_status(database) == {
        (FIRST, "formed"): len(expected[FIRST]) - 1 + repair.pairs,
        (FIRST, "dissolved"): 1,
        (SECOND, "proposed"): len(expected[SECOND]) - 1,
        (SECOND, "formed"): 1,
    }
    return events


async def refused_as_unknown(
    database: ProvisionedDatabase,
    kafka: Kafka,
    events: dict[str, list[Envelope[Any]]],
    *,
    first_pair: str,
    second_proposal: str,
) -> None:
    """Commands naming a pair or programme only the other tenant has: dead-lettered with
    the code of an unknown one, naming nothing of the other tenant; nothing changes."""
    before = await snapshot(database)
    refused = [
        (command(ApprovePair(pair_id=first_pair), SECOND), "unknown_pair"),
        (command(DissolvePair(pair_id=first_pair), SECOND), "unknown_pair"),
        (command(ApprovePair(pair_id=second_proposal), FIRST), "unknown_pair"),
        (
            command(EnrolParticipant(participant=COHORT.mentees[0]), SECOND, ONLY_FIRST),
            "unknown_programme",
        ),
        (command(ApprovePair(pair_id=first_pair), SECOND, ONLY_FIRST), "unknown_programme"),
        (command(DissolvePair(pair_id=first_pair), SECOND, ONLY_FIRST), "unknown_programme"),
        (command(RequestMatching(round_id="r2"), SECOND, ONLY_FIRST), "unknown_programme"),
    ]
    await settle(database, kafka, *(sent for sent, _ in refused))
    assert await snapshot(database) == before
    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=len(refused))
    codes = {}
    for record in dead:
        headers = dict(record.headers)
        reason = headers["binome_dlq_reason"].decode()
        original = decode(received(record), CATALOGUE)
        other = SECOND if original.tenant_id == FIRST else FIRST
        assert other not in reason, "a refusal names nothing of the other tenant"
        assert "inconnu" in reason
        codes[original.id] = headers["binome_dlq_code"].decode()
    assert codes == {sent.id: code for sent, code in refused}
    assert await events_by_tenant(database, kafka) == events, "a refusal publishes nothing"
