"""The notifications service's delivery ledger, as named statements."""

from __future__ import annotations

import uuid

import asyncpg

_PLAN = """
INSERT INTO deliveries (delivery_key, kind, recipient_id, programme_id, subject_id, caused_by)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (delivery_key) DO NOTHING
"""


async def plan(
    conn: asyncpg.Connection,
    *,
    delivery_key: str,
    kind: str,
    recipient_id: str,
    programme_id: str,
    subject_id: str,
    caused_by: uuid.UUID,
) -> None:
    """Record that this message is due; a second plan for the same key changes nothing."""
    await conn.execute(_PLAN, delivery_key, kind, recipient_id, programme_id, subject_id, caused_by)
