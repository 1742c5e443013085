"""Used action links are kept while their link could still be verified, then pruned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from binome_shared.db.used_action_links import prune_used_action_links
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

_USED = """
INSERT INTO action_links_used (tenant_id, token_id, action, subject, event_id, used_at, expires_at)
VALUES ($1, $2, 'session.held', 'E1', $3, $4, $5)
"""


@pytest.mark.parametrize("service", ["sessions", "notifications", "pairing"])
async def test_expired_links_are_forgotten_and_live_ones_kept(
    database: ProvisionedDatabase, service: str
) -> None:
    now = datetime.now(UTC)
    conn = await database.connect(service)
    try:
        for tenant, token, expires in (
            ("a", "expired-long-ago", now - timedelta(days=3)),
            ("a", "expired-an-hour-ago", now - timedelta(hours=1)),
            ("b", "live", now + timedelta(days=20)),
        ):
            await conn.execute(_USED, tenant, token, uuid.uuid4(), now, expires)
        assert await prune_used_action_links(conn) == 1
        left = await conn.fetch("SELECT token_id FROM action_links_used ORDER BY token_id")
    finally:
        await conn.close()
    assert [row["token_id"] for row in left] == ["expired-an-hour-ago", "live"]
