"""The sessions service's SQL, as named statements."""

from __future__ import annotations

from typing import Any

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairFormed

_ADD_PAIR = """
INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, formed_at, formed_by_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def add_pair(conn: asyncpg.Connection, *, envelope: Envelope[Any], event: PairFormed) -> None:
    await conn.execute(
        _ADD_PAIR,
        event.pair_id,
        envelope.tenant_id,
        envelope.programme_id,
        event.mentor.participant_id,
        event.mentee.participant_id,
        event.mentor.business_unit,
        event.mentee.business_unit,
        envelope.time,
        envelope.id,
    )
