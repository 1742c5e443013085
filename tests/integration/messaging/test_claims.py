"""Claims read their batch from an index and stop, even on a table just filled by a burst
(no statistics yet): otherwise every claim sorts the whole backlog — on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from binome_shared.db.claims import PLAN_FREELY, WALK_THE_INDEX
from binome_shared.messaging import relay, scheduler
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

BACKLOG = 5_000


async def claim_plan(database: ProvisionedDatabase, fill: str, claim: str, *args: object) -> str:
    conn = await database.connect("sessions")
    try:
        await conn.execute(fill)
        async with conn.transaction():
            await conn.execute(WALK_THE_INDEX)
            plan = "\n".join(row[0] for row in await conn.fetch(f"EXPLAIN {claim}", *args))
            await conn.execute(PLAN_FREELY)
            assert await conn.fetchval("SHOW enable_sort") == "on", "the rest plans freely"
            assert await conn.fetchval("SHOW enable_bitmapscan") == "on"
    finally:
        await conn.close()
    return plan


async def test_the_relay_claim_walks_the_unsent_index(database: ProvisionedDatabase) -> None:
    plan = await claim_plan(
        database,
        "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values) "
        "SELECT gen_random_uuid(), 't', 'k', 'v', '{}', '{}' "
        f"FROM generate_series(1, {BACKLOG})",
        relay._CLAIM,
        1000,
    )
    assert "Index Scan using outbox_unsent" in plan
    assert "Sort" not in plan


async def test_the_scheduler_claim_walks_the_due_index(database: ProvisionedDatabase) -> None:
    plan = await claim_plan(
        database,
        "INSERT INTO scheduled_jobs (job_id, job_type, due_at) "
        "SELECT 'job-' || g, 'reminder', now() - (g % 50) * interval '1 minute' "
        f"FROM generate_series(1, {BACKLOG}) AS g",
        scheduler._CLAIM_DUE,
        datetime.now(UTC),
        200,
    )
    assert "Index Scan using scheduled_jobs_due_order" in plan
    assert "Sort" not in plan
