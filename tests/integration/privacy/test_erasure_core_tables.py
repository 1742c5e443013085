"""The messaging core's part of an erasure, on a real PostgreSQL (a service's schema): which
parked messages and outbox copies go, and which stay.

Hostile neighbours on purpose: the same ids in another tenant, an id that is a prefix of
the person's, a value that is not JSON or nested too deep to parse, a waiting name too long
for the index (stored as a stand-in), a record without a tenant header.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.erasure_proof import discard_parked_about, forget_copies_naming
from binome_shared.messaging.parking import park, prerequisite
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

TENANT, OTHER_TENANT = "groupe-exemple", "autre-groupe"
HER, NOT_HER = "E1", "E10"  # "E1" is in '"E10"' without its quotes, never with them
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LONG_PAIR = "pair-" + "x" * 5000  # parked under a stand-in key (storable_key)


@pytest.fixture
async def conn(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Connection]:
    connection = await database.connect("sessions")
    try:
        yield connection
    finally:
        await connection.close()


def record(data: Any, *, tenant: str | None = TENANT, raw: bytes | None = None) -> ReceivedRecord:
    headers = [("ce_type", b"binome.test")]
    if tenant is not None:
        headers.append(("ce_tenantid", tenant.encode()))
    value = raw if raw is not None else json.dumps(data).encode()
    return ReceivedRecord(topic="t", partition=0, offset=0, key=None, value=value, headers=headers)


async def park_as(
    conn: asyncpg.Connection, name: str, parked: ReceivedRecord, waiting: str
) -> None:
    event = uuid.uuid4()
    await conn.execute("INSERT INTO test_names (event_id, name) VALUES ($1, $2)", event, name)
    await park(conn, parked, event_id=event, waiting_for=waiting, reason="test", now=NOW)


async def remaining(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        f"SELECT n.name FROM {table} AS m JOIN test_names AS n USING (event_id) ORDER BY n.name"
    )
    return [row["name"] for row in rows]


async def test_parked_messages_about_her_go_and_the_others_stay(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TEMP TABLE test_names (event_id uuid PRIMARY KEY, name text)")
    programme = prerequisite("programme", TENANT, "prog-later")
    pair = prerequisite("pair", TENANT, "pair-hers")
    # Hers: naming her, waiting for a pair of hers, or for a pair a discarded message of
    # hers announced (closure), or naming a pair of hers.
    await park_as(conn, "her enrolment", record({"participant_id": HER}), programme)
    await park_as(conn, "session of her pair", record({"pair_id": "pair-hers"}), pair)
    announced = {"pair_id": LONG_PAIR, "mentee": {"participant_id": HER}}
    await park_as(conn, "her pair, announced", record(announced), programme)
    await park_as(
        conn,
        "session of her announced pair",
        record({"pair_id": LONG_PAIR, "location": "Chez elle"}),
        prerequisite("pair", TENANT, LONG_PAIR),
    )
    await park_as(
        conn, "cancellation naming her pair", record({"pair_id": "pair-hers"}), "session:x"
    )
    nested = b"[" * 100_000 + b'"E1"' + b"]" * 100_000  # past the JSON parser's depth
    await park_as(conn, "naming her, nested too deep", record(None, raw=nested), programme)
    # Not hers.
    await park_as(conn, "someone else", record({"participant_id": NOT_HER}), programme)
    await park_as(
        conn, "same id, other tenant", record({"participant_id": HER}, tenant=OTHER_TENANT), "p"
    )
    await park_as(
        conn,
        "same pair, other tenant",
        record({"pair_id": "pair-hers"}, tenant=OTHER_TENANT),
        prerequisite("pair", OTHER_TENANT, "pair-hers"),
    )
    await park_as(conn, "not json", record(None, raw=b'\xff\x00"E1'), programme)
    await park_as(conn, "no tenant header", record({"participant_id": HER}, tenant=None), "p")

    discarded = await discard_parked_about(conn, TENANT, HER, pairs=["pair-hers"])

    assert await remaining(conn, "parked_messages") == [
        "no tenant header",
        "not json",
        "same id, other tenant",
        "same pair, other tenant",
        "someone else",
    ]
    assert discarded == 6
    assert await discard_parked_about(conn, TENANT, HER, pairs=["pair-hers"]) == 0


async def test_relayed_copies_about_her_or_her_pairs_go_and_unsent_ones_stay(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute("CREATE TEMP TABLE test_names (event_id uuid PRIMARY KEY, name text)")

    async def add(name: str, data: Any, *, tenant: str = TENANT, sent: bool = True) -> None:
        event = uuid.uuid4()
        await conn.execute("INSERT INTO test_names (event_id, name) VALUES ($1, $2)", event, name)
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values, "
            "sent_at) VALUES ($1, 't', 'k', $2, $3, $4, $5)",
            event,
            json.dumps(data).encode(),
            ["ce_tenantid"],
            [tenant.encode()],
            NOW if sent else None,
        )

    await add("her enrolment, dead-lettered", {"participant_id": HER})
    await add("her pair's session, relayed", {"pair_id": "pair-hers", "location": "Chez elle"})
    await add("her pair's session, not sent yet", {"pair_id": "pair-hers"}, sent=False)
    await add("someone else", {"participant_id": NOT_HER})
    await add("same pair, other tenant", {"pair_id": "pair-hers"}, tenant=OTHER_TENANT)

    forgotten = await forget_copies_naming(conn, TENANT, HER, pairs=["pair-hers"])

    assert await remaining(conn, "outbox") == [
        "her pair's session, not sent yet",
        "same pair, other tenant",
        "someone else",
    ]
    assert forgotten == 2
