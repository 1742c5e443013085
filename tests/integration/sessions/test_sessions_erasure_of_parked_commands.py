"""Erasure in the sessions service, on the real broker and Postgres: a session command parked
before its pair was known, about a person erased meanwhile, is replayed when the pair is
announced and dropped: her free text never comes back, and the pair is never followed."""

from __future__ import annotations

from typing import Any

import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.sessions_messages import SetObjective
from binome_shared.contracts.topics import SESSION_COMMANDS, SESSIONS_EVENTS
from tests.integration.sessions.test_sessions_service_flow import (
    define_programme,
    message,
    pair_formed,
)
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

HER_TEXT = "Parler en public sans trac"
OTHER_TEXT = "Animer une réunion en visio"


def objective(pair_id: str, title: str) -> Envelope[Any]:
    return message(SetObjective(pair_id=pair_id, objective_id="o1", owner="mentee", title=title))


async def processed(database: ProvisionedDatabase, *envelopes: Envelope[Any]) -> int:
    return int(
        await database.fetchval(
            "sessions",
            "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])",
            [str(envelope.id) for envelope in envelopes],
        )
    )


async def count(database: ProvisionedDatabase, query: str, *args: Any) -> int:
    return int(await database.fetchval("sessions", query, *args))


async def test_a_parked_command_about_an_erased_person_is_dropped_when_replayed(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    sessions = service_factory("sessions")
    await sessions.wait_ready()
    await kafka.publish(define_programme())
    await kafka.publish(objective("pair-1", HER_TEXT))  # pair-1 (M1, E1) not announced yet
    await eventually(lambda: count(database, "SELECT count(*) FROM parked_messages"), 1)

    erasures = [message(EraseParticipant(participant_id="E1")) for _ in range(2)]
    for erasure in erasures:
        await kafka.publish(erasure)
    await eventually(lambda: processed(database, *erasures), 2)
    assert await count(database, "SELECT count(*) FROM erased_participants") == 1

    # The pair is announced after the erasure (pairing formed it before seeing it), and a
    # pair of other people, as a control.
    formations = [pair_formed(1), pair_formed(2)]
    for formation in formations:
        await kafka.publish(formation)
    await eventually(lambda: processed(database, *formations), 2)
    await eventually(lambda: count(database, "SELECT count(*) FROM parked_messages"), 0)
    later = [objective("pair-1", HER_TEXT), objective("pair-2", OTHER_TEXT)]
    for command in later:
        await kafka.publish(command)
    await eventually(lambda: processed(database, *later), 2)

    assert await count(database, "SELECT count(*) FROM pairs WHERE pair_id = 'pair-1'") == 0
    assert await count(database, "SELECT count(*) FROM unfollowed_pairs") == 1
    assert (
        await count(
            database, "SELECT count(*) FROM pairs WHERE state::text LIKE $1", f"%{OTHER_TEXT}%"
        )
        == 1
    )
    wheres = {
        "pairs": "state::text LIKE $1",
        "parked_messages": "convert_from(value, 'UTF8') LIKE $1",
        "outbox": "convert_from(value, 'UTF8') LIKE $1",
    }
    for table, where in wheres.items():
        found = await count(
            database, f"SELECT count(*) FROM {table} WHERE {where}", f"%{HER_TEXT}%"
        )
        assert found == 0, f"her free text came back in {table}"
    dead = await kafka.read_all(SESSION_COMMANDS.dead_letter_name(kafka.prefix), expect=0)
    assert dead == [], "dropped, not dead-lettered: a dead letter would keep her text"
    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=2)
    assert {envelope.subject for envelope in facts} == {"pair-2"}
