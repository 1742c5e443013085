"""The tenant's erasure lock: an erasure and an enrolment of the same tenant never overlap.

An erasure reads the programmes holding the person, and an enrolment reads the erasure
register, each on the partition of the programme it names: run at once, neither sees the
other's uncommitted write, and the person ends up enrolled, profile and all, in a programme
the erasure never reached. A transaction-scoped advisory lock per tenant makes them take
turns: the erasure holds it exclusively, an enrolment shares it (enrolments never wait for
each other). The enrolment that came first commits, and the erasure then finds the new
programme; the one that comes later waits, and reads the person as erased. One lock per
tenant rather than one per person: an import run enrols hundreds of people in one
transaction, and an erasure is rare. Rounds do not take it: the programme row lock orders
them with the erasure (:func:`binome_pairing.erasure_census.hold_programmes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

# The key names the purpose, so that no other advisory lock of the database (another service
# may share it) ever meets it; a hash collision between two tenants only makes them wait.
_KEY = "hashtextextended('binome.pairing.erasure:' || $1, 0)"
_EXCLUSIVE = f"SELECT pg_advisory_xact_lock({_KEY})"
_SHARED = f"SELECT pg_advisory_xact_lock_shared({_KEY})"


async def hold_for_erasure(conn: asyncpg.Connection, tenant_id: str) -> None:
    """Wait for the tenant's enrolments in progress, and hold off new ones until this
    transaction ends."""
    await conn.execute(_EXCLUSIVE, tenant_id)


async def hold_off_erasures(conn: asyncpg.Connection, tenant_ids: Sequence[str]) -> None:
    """Wait for an erasure in progress in these tenants, and hold off new ones until this
    transaction ends (in tenant order, so that two runs never wait for each other)."""
    for tenant_id in sorted(set(tenant_ids)):
        await conn.execute(_SHARED, tenant_id)
