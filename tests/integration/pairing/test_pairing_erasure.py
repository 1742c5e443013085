"""Erasure in the pairing service, on the real broker and Postgres: about the person within
the tenant, idempotent, and final (never enrolled nor paired again, in any programme)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import (
    EnrolParticipant,
    EraseParticipant,
    MatchingScope,
    RequestMatching,
)
from binome_shared.contracts.pairing_events import (
    DissolutionReason,
    MatchingCompleted,
    PairDissolved,
    PairFormed,
)
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import hr_command, programme_definition
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

FIRST, SECOND, THIRD = "prog-erase-a", "prog-erase-b", "prog-erase-c"


async def send(kafka: Kafka, *commands: Envelope[Any]) -> list[str]:
    for command in commands:
        await kafka.publish(command)
    return [str(command.id) for command in commands]


async def processed(database: ProvisionedDatabase, ids: list[str]) -> int:
    return int(
        await database.fetchval(
            "pairing",
            "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])",
            ids,
        )
    )


async def test_an_erasure_reaches_every_programme_once_and_bars_the_person_for_good(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    cohort = generate_cohort(mentees=3, mentors=5, seed=7)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    await send(
        kafka,
        *(hr_command(programme_definition(rules), programme_id=p) for p in (FIRST, SECOND, THIRD)),
    )
    await send(
        kafka,
        *(
            hr_command(EnrolParticipant(participant=p), programme_id=FIRST)
            for p in cohort.participants
        ),
        hr_command(RequestMatching(round_id="r1"), programme_id=FIRST),
    )
    await eventually(
        lambda: database.fetchval(
            "pairing", "SELECT rounds_run FROM programmes WHERE programme_id = $1", FIRST
        ),
        1,
        timeout=90,
    )
    person = await database.fetchval(
        "pairing",
        "SELECT mentee_id FROM pairs WHERE programme_id = $1 AND status = 'formed' "
        "ORDER BY mentee_id LIMIT 1",
        FIRST,
    )
    assert person is not None
    profile = next(p for p in cohort.mentees if p.participant_id == person)
    # The same person in a second programme of the tenant, paired there too.
    await send(
        kafka,
        *(
            hr_command(EnrolParticipant(participant=p), programme_id=SECOND)
            for p in [profile, *cohort.mentors]
        ),
        hr_command(RequestMatching(round_id="r1"), programme_id=SECOND),
    )
    paired_in_second = (
        "SELECT count(*) FROM pairs WHERE programme_id = $1 AND mentee_id = $2 "
        "AND status = 'formed'"
    )
    await eventually(
        lambda: database.fetchval("pairing", paired_in_second, SECOND, person), 1, timeout=90
    )

    # Erased twice (the second time for the other programme), and someone never enrolled.
    erasures = await send(
        kafka,
        hr_command(EraseParticipant(participant_id=person), programme_id=FIRST),
        hr_command(EraseParticipant(participant_id=person), programme_id=SECOND),
        hr_command(EraseParticipant(participant_id="ghost-404"), programme_id=FIRST),
    )
    await eventually(lambda: processed(database, erasures), 3, timeout=90)
    statuses = await database.fetchval(
        "pairing",
        "SELECT array_agg(DISTINCT status) FROM participants WHERE participant_id = $1",
        person,
    )
    assert statuses == ["erased"]
    assert (
        await database.fetchval(
            "pairing",
            "SELECT count(*) FROM participants WHERE profile IS NOT NULL AND participant_id = $1",
            person,
        )
        == 0
    )

    # Afterwards: an enrolment in a third programme is refused, a new round leaves her out.
    later = await send(
        kafka,
        hr_command(EnrolParticipant(participant=profile), programme_id=THIRD),
        hr_command(RequestMatching(round_id="r2", scope=MatchingScope.FULL), programme_id=SECOND),
    )
    await eventually(lambda: processed(database, later), 2, timeout=90)
    assert (
        await database.fetchval(
            "pairing",
            "SELECT count(*) FROM pairs WHERE (mentee_id = $1 OR mentor_id = $1) "
            "AND status = 'formed'",
            person,
        )
        == 0
    )

    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=1)
    codes = Counter(dict(record.headers)["binome_dlq_code"].decode() for record in dead)
    assert codes == {"participant_erased": 1}, "erasing someone unknown is not a dead letter"

    pairs_ever = await database.fetchval("pairing", "SELECT count(*) FROM pairs")
    dissolved = await database.fetchval(
        "pairing", "SELECT count(*) FROM pairs WHERE status = 'dissolved'"
    )
    rounds = 5  # r1 in each programme, one repair in each after the erasure, r2
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=pairs_ever + dissolved + rounds)
    completed = [e for e in events if isinstance(e.data, MatchingCompleted)]
    assert len(completed) == rounds, "the second erasure ran no repair round"
    erased_pairs = [
        e
        for e in events
        if isinstance(e.data, PairDissolved) and e.data.reason is DissolutionReason.ERASED
    ]
    assert sorted(e.programme_id for e in erased_pairs) == [FIRST, SECOND]
    formed_after = [
        e.data
        for e in events
        if isinstance(e.data, PairFormed)
        and e.programme_id == SECOND
        and e.data.mentee.participant_id == person
    ]
    assert len(formed_after) == 1, "only the pair formed before the erasure"
