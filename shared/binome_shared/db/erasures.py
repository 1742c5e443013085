"""The register of people erased (GDPR) in a tenant, as each service keeps it.

Each service creates its own ``erased_participants`` table (tenant, participant, time) in its
schema, by a migration of its own; these statements are the one way to read and write it, so
that "erased" means the same in every service: the person within the tenant, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

_RECORD_ERASURE = """
INSERT INTO erased_participants (tenant_id, participant_id, erased_at) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id, participant_id) DO NOTHING
"""
_ERASED_AMONG = """
SELECT participant_id FROM erased_participants
WHERE tenant_id = $1 AND participant_id = ANY($2::text[])
"""


async def record_erasure(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str, *, at: datetime
) -> bool:
    """Remember the person as erased in the tenant; False if they already were."""
    status = await conn.execute(_RECORD_ERASURE, tenant_id, participant_id, at)
    return bool(status == "INSERT 0 1")


async def erased_among(
    conn: asyncpg.Connection, tenant_id: str, participant_ids: Sequence[str]
) -> set[str]:
    """Which of these people were erased in the tenant."""
    rows = await conn.fetch(_ERASED_AMONG, tenant_id, list(participant_ids))
    return {row["participant_id"] for row in rows}


_ERASED_AT = """
SELECT erased_at FROM erased_participants WHERE tenant_id = $1 AND participant_id = $2
"""


async def erased_at(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str
) -> datetime | None:
    """When the person was first erased in the tenant, or None if they never were."""
    moment: datetime | None = await conn.fetchval(_ERASED_AT, tenant_id, participant_id)
    return moment
