"""Each service's role owns its schema and nothing else; migrations run once."""

from __future__ import annotations

import asyncpg
import pytest

from binome_shared.db.migrations import apply_migrations, service_migrations
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("reader", "owner"),
    [("sessions", "pairing"), ("notifications", "sessions"), ("pairing", "notifications")],
)
async def test_a_service_role_cannot_read_another_services_schema(
    database: ProvisionedDatabase, reader: str, owner: str
) -> None:
    conn = await database.connect(reader)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"schema {owner}"):
            await conn.fetch(f"SELECT * FROM {owner}.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.sneaky (x int)")
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0, "its own schema works"
    finally:
        await conn.close()


async def test_migrations_are_recorded_and_applying_them_again_changes_nothing(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("sessions")
    try:
        migrations = service_migrations("binome_sessions")
        assert await apply_migrations(conn, migrations) == []
        versions = [
            row["version"]
            for row in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        ]
        assert versions == sorted(m.version for m in migrations)
        assert "core_0001_messaging" in versions
        assert "0001_pairs" in versions
    finally:
        await conn.close()
