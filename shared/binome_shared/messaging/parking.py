"""The parking table: messages that arrived before what they are about, kept as raw bytes.

What the table keys on is a bounded, printable stand-in (:func:`storable_key`): a handler may
wait for ``pair:<a megabyte of id>``, which no index row takes. The same stand-in is computed
for a release, so a release still finds what was parked under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

import asyncpg

from binome_shared.messaging.bounded import REASON_CHARS, printable, storable_key, storable_text
from binome_shared.messaging.cloudevents import ReceivedRecord


def prerequisite(kind: str, tenant_id: str, *ids: str) -> str:
    """The name a message is parked under and released by: ``<kind>:<tenant>/<id>[/<id>...]``.

    Ids are namespaced by tenant (two tenants may use the same programme and pair ids), so
    the name carries the tenant: tenant A's release never replays what tenant B parked. Each
    part is percent-quoted, so that ids containing ``/`` cannot make two names meet."""
    return f"{kind}:" + "/".join(quote(part, safe="") for part in (tenant_id, *ids))


_PARK = """
INSERT INTO parked_messages
    (event_id, waiting_for, reason, topic, partition, "offset", key, value,
     header_names, header_values, parked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (event_id) DO NOTHING
"""
_UNPARK = """
DELETE FROM parked_messages WHERE waiting_for = ANY($1::text[])
RETURNING event_id, topic, partition, "offset", key, value, header_names, header_values, parked_at
"""
RETRY_PARKED = """
SELECT event_id, topic, partition, "offset", key, value, header_names, header_values
FROM parked_messages
ORDER BY parked_at, "offset"
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
FORGET_PARKED = "DELETE FROM parked_messages WHERE event_id = $1"
EXPIRE_PARKED = """
DELETE FROM parked_messages
WHERE event_id IN (
    SELECT event_id FROM parked_messages WHERE parked_at < $1 FOR UPDATE SKIP LOCKED
)
RETURNING event_id, waiting_for, reason, topic, partition, "offset", key, value,
          header_names, header_values
"""


async def park(
    conn: asyncpg.Connection,
    record: ReceivedRecord,
    *,
    event_id: uuid.UUID,
    waiting_for: str,
    reason: str,
    now: datetime,
) -> None:
    """Keep ``record`` (its bytes as they came; header names made storable) until
    ``waiting_for`` is released or the parking time-out passes."""
    await conn.execute(
        _PARK,
        event_id,
        storable_key(waiting_for),
        printable(reason, limit=REASON_CHARS),
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        [storable_text(name) for name, _ in record.headers],
        [value for _, value in record.headers],
        now,
    )


async def unpark(conn: asyncpg.Connection, released: Sequence[str]) -> list[ReceivedRecord]:
    """Take out, in arrival order, what was parked waiting for anything in ``released``."""
    rows = await conn.fetch(_UNPARK, [storable_key(waiting_for) for waiting_for in released])
    rows.sort(key=lambda row: (row["parked_at"], row["offset"]))
    return [record_from_row(row) for row in rows]


def record_from_row(row: asyncpg.Record) -> ReceivedRecord:
    return ReceivedRecord(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        key=row["key"],
        value=row["value"],
        headers=list(zip(row["header_names"], row["header_values"], strict=True)),
    )
