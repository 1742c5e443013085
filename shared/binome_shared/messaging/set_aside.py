"""What an operator does with the rows the relay set aside (``binome-db outbox-set-aside``
and ``outbox-requeue``): list them with why, and give them back once their cause is fixed."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

_LIST_SET_ASIDE = """
SELECT id, event_id, topic, octet_length(value) AS value_bytes, set_aside_at, set_aside_reason
FROM outbox WHERE set_aside_at IS NOT NULL ORDER BY id
"""
_REQUEUE = """
UPDATE outbox SET set_aside_at = NULL, set_aside_reason = NULL
WHERE id = ANY($1::bigint[]) AND set_aside_at IS NOT NULL
RETURNING id
"""
_WAKE_RELAY = "SELECT pg_notify('binome_outbox_' || current_schema(), '')"


async def list_set_aside(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The rows the relay set aside, oldest first, with why."""
    return list(await conn.fetch(_LIST_SET_ASIDE))


async def requeue_set_aside(conn: asyncpg.Connection, ids: Sequence[int]) -> list[int]:
    """Give set-aside rows back to the relay, once their cause is fixed; returns those that
    were set aside (others are left alone). They keep their id, so they go out next, after
    the rows that were sent while they waited."""
    async with conn.transaction():
        requeued = [row["id"] for row in await conn.fetch(_REQUEUE, list(ids))]
        await conn.execute(_WAKE_RELAY)
    return sorted(requeued)
