"""The register of people erased (GDPR) in a tenant, as each service keeps it.

Each service creates its own ``erased_participants`` table (tenant, participant, time) in its
schema, by a migration of its own; these statements are the one way to read and write it, so
that "erased" means the same in every service: the person within the tenant, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

ERASED_PARTICIPANT = "participant_erased"
"""The reason every service logs when it skips or withdraws something about an erased
person (one word to search the logs of the three services for)."""

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


def any_erased_condition(tenant: str, participants: str) -> str:
    """An SQL condition, true when one of ``participants`` (SQL expressions, comma-separated;
    NULLs match nobody) was erased in ``tenant`` (an SQL expression): for a statement that
    must look at the register in the same snapshot as what it writes, with no statement of
    its own."""
    return (
        "EXISTS (SELECT FROM erased_participants AS erased"
        f" WHERE erased.tenant_id = {tenant} AND erased.participant_id IN ({participants}))"
    )


# A person's erasure in a tenant, as an advisory lock (transaction-scoped): the erasure holds
# it exclusively, what must not run unseen beside it shares it. The key names the purpose, so
# that no other advisory lock of the database meets it; a collision only makes two wait.
def _erasure_lock_key(tenant: str, participant: str) -> str:
    return f"hashtextextended('binome.erasure:' || {tenant} || '/' || {participant}, 0)"


_RECORD_ERASURE_EXCLUSIVELY = f"""
WITH held AS (SELECT pg_advisory_xact_lock({_erasure_lock_key("$1::text", "$2::text")}))
INSERT INTO erased_participants (tenant_id, participant_id, erased_at)
SELECT $1::text, $2::text, $3::timestamptz FROM held
ON CONFLICT (tenant_id, participant_id) DO NOTHING
"""


async def record_erasure_exclusively(
    conn: asyncpg.Connection, tenant_id: str, participant_id: str, *, at: datetime
) -> bool:
    """:func:`record_erasure`, first waiting for the transactions that hold off the person's
    erasure (:func:`holding_off_erasures`) and holding off new ones until this transaction
    ends: what the erasure reads next, it reads with their writes committed, and what they
    read after their wait, they read with the tombstone committed. One statement."""
    status = await conn.execute(_RECORD_ERASURE_EXCLUSIVELY, tenant_id, participant_id, at)
    return bool(status == "INSERT 0 1")


def holding_off_erasures(tenant: str, participants: str) -> str:
    """An SQL condition, always true, that first waits for the erasures in progress of
    ``participants`` (an SQL text array) in ``tenant`` and holds off new ones until the
    transaction ends (in id order). Put it in a statement that comes *before* the register is
    read: a statement reads with the snapshot it began with, so only the next one sees the
    tombstone of an erasure it waited for."""
    return (
        "(SELECT count(*) FROM (SELECT pg_advisory_xact_lock_shared("
        f"{_erasure_lock_key(tenant, 'member.person')}) FROM (SELECT DISTINCT person"
        f" FROM unnest({participants}) AS person ORDER BY person) AS member) AS held) >= 0"
    )
