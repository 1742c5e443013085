"""The relay prunes sent outbox rows older than its retention (a text interval such as
``7 days``) and keeps unsent and recent ones — on a real PostgreSQL."""

from __future__ import annotations

import pytest

from binome_shared.messaging import outbox
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration


async def test_pruning_deletes_only_rows_sent_before_the_retention(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("sessions")
    try:
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values, sent_at)"
            " VALUES (gen_random_uuid(), 't', 'k', 'old', '{}', '{}', now() - interval '8 days'),"
            "        (gen_random_uuid(), 't', 'k', 'recent', '{}', '{}', now() - interval '1 day'),"
            "        (gen_random_uuid(), 't', 'k', 'unsent', '{}', '{}', NULL)"
        )
        await conn.execute(outbox._PRUNE_SENT, "7 days")  # the relay's own statement
        left = await conn.fetch("SELECT convert_from(value, 'UTF8') AS v FROM outbox ORDER BY v")
    finally:
        await conn.close()
    assert [row["v"] for row in left] == ["recent", "unsent"]
