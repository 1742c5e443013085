"""Migration 0004 on PostgreSQL: rows stored before it keep their data, every key then leads
with the tenant, and another tenant can then store the same programme and pair ids."""

from __future__ import annotations

import asyncpg
import pytest

from binome_shared.db.migrations import apply_migrations, service_migrations
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

TENANT_KEYS = "0004_tenant_keys"
SESSIONS_TABLES = ("pairs", "programmes", "erased_participants", "unfollowed_pairs")

_LEGACY_ROWS = """
INSERT INTO programmes (programme_id, tenant_id, session_plan, defined_at, defined_by_event_id)
VALUES ('prog-a', 'tenant-a', '{"cadence_weeks": 3}'::jsonb, now(), gen_random_uuid());
INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, formed_at, formed_by_event_id, state, version)
VALUES ('pair-1', 'tenant-a', 'prog-a', 'M1', 'E1', 'Digital', 'Finance', now(),
        gen_random_uuid(), '{"objectives": ["kept"]}'::jsonb, 3),
       ('pair-0', 'tenant-a', 'prog-a', 'M0', 'E0', 'Digital', 'RH', now(),
        gen_random_uuid(), NULL, 0);
INSERT INTO unfollowed_pairs (pair_id, tenant_id, unfollowed_at)
VALUES ('pair-9', 'tenant-a', now());
"""
_SAME_IDS_IN_ANOTHER_TENANT = """
INSERT INTO programmes (programme_id, tenant_id, session_plan, defined_at, defined_by_event_id)
VALUES ('prog-a', 'tenant-b', '{}'::jsonb, now(), gen_random_uuid());
INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, formed_at, formed_by_event_id)
VALUES ('pair-1', 'tenant-b', 'prog-a', 'M1', 'E1', 'Achats', 'Achats', now(), gen_random_uuid());
INSERT INTO unfollowed_pairs (pair_id, tenant_id, unfollowed_at)
VALUES ('pair-9', 'tenant-b', now());
"""
_KEY_COLUMNS = """
SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum))
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indexrelid = $1::regclass
"""
_PRIMARY_KEY = (
    "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = $1::regclass AND indisprimary"
)


async def before_tenant_keys(conn: asyncpg.Connection) -> None:
    """Take the sessions schema back to the migrations before 0004, tables empty."""
    await conn.execute(f"DROP TABLE {', '.join(SESSIONS_TABLES)}")
    await conn.execute("DELETE FROM schema_migrations WHERE version NOT LIKE 'core_%'")
    migrations = service_migrations("binome_sessions")
    versions = [migration.version for migration in migrations]
    earlier = migrations[: versions.index(TENANT_KEYS)]
    assert [m.version for m in earlier if not m.version.startswith("core_")] == [
        "0001_pairs",
        "0002_tracks",
        "0003_erasures",
    ]
    await apply_migrations(conn, earlier)


async def key_columns(conn: asyncpg.Connection, table: str) -> list[str]:
    index = await conn.fetchval(_PRIMARY_KEY, table)
    return list(await conn.fetchval(_KEY_COLUMNS, index))


async def test_rows_stored_before_the_migration_are_kept_under_tenant_keys(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("sessions")
    try:
        await before_tenant_keys(conn)
        await conn.execute(_LEGACY_ROWS)
        applied = await apply_migrations(conn, service_migrations("binome_sessions"))
        assert TENANT_KEYS in applied

        pairs = await conn.fetch(
            "SELECT tenant_id, pair_id, programme_id, mentee_unit, version, state->'objectives' "
            "AS objectives FROM pairs ORDER BY pair_id"
        )
        assert [tuple(row) for row in pairs] == [
            ("tenant-a", "pair-0", "prog-a", "RH", 0, None),
            ("tenant-a", "pair-1", "prog-a", "Finance", 3, '["kept"]'),
        ]
        programme = await conn.fetchrow("SELECT tenant_id, session_plan FROM programmes")
        assert tuple(programme) == ("tenant-a", '{"cadence_weeks": 3}')
        assert await conn.fetchval("SELECT tenant_id FROM unfollowed_pairs") == "tenant-a"

        for table in SESSIONS_TABLES:
            assert (await key_columns(conn, table))[0] == "tenant_id", table
        assert await key_columns(conn, "pairs") == ["tenant_id", "pair_id"]
        assert await key_columns(conn, "programmes") == ["tenant_id", "programme_id"]
        assert await key_columns(conn, "unfollowed_pairs") == ["tenant_id", "pair_id"]
        assert list(await conn.fetchval(_KEY_COLUMNS, "pairs_programme")) == [
            "tenant_id",
            "programme_id",
        ]

        await conn.execute(_SAME_IDS_IN_ANOTHER_TENANT)
        counts = await conn.fetch(
            "SELECT tenant_id, count(*) AS pairs FROM pairs GROUP BY tenant_id ORDER BY tenant_id"
        )
        assert [tuple(row) for row in counts] == [("tenant-a", 2), ("tenant-b", 1)]
        assert await conn.fetchval("SELECT count(*) FROM programmes") == 2
        assert await conn.fetchval("SELECT count(*) FROM unfollowed_pairs") == 2
    finally:
        await conn.close()
