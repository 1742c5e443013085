"""Migration 0003 on PostgreSQL: rows stored before it keep their data and take their
programme's tenant, and every key then leads with the tenant."""

from __future__ import annotations

import asyncpg
import pytest

from binome_shared.db.migrations import apply_migrations, service_migrations
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

TENANT_KEYS = "0003_tenant_keys"
PAIRING_TABLES = (
    "pair_consents",  # migration 0004 (consent): it references pairs, so it goes first
    "pairs",
    "reporting_lines",
    "participants",
    "programmes",
    "erased_participants",
)

_LEGACY_ROWS = """
INSERT INTO programmes (programme_id, tenant_id, definition, defined_at, rounds_run)
VALUES ('prog-a', 'tenant-a', '{}'::jsonb, now(), 1), ('prog-b', 'tenant-b', '{}'::jsonb, now(), 0);
INSERT INTO participants (programme_id, participant_id, role, profile, status, updated_at)
VALUES ('prog-a', 'M1', 'mentor', '{"site": "Paris"}'::jsonb, 'enrolled', now()),
       ('prog-a', 'E1', 'mentee', NULL, 'erased', now()),
       ('prog-b', 'M1', 'mentor', '{"site": "Lyon"}'::jsonb, 'enrolled', now());
INSERT INTO reporting_lines (programme_id, employee_id, manager_id)
VALUES ('prog-a', 'M1', 'B1'), ('prog-b', 'M1', 'B2');
INSERT INTO pairs (pair_id, programme_id, round_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, mentor_trained, status, score, explanation, proposed_at)
VALUES ('pair-1', 'prog-a', 'r1', 'M1', 'E1', 'Digital', 'Finance', true, 'dissolved', 0.5,
        '{}'::jsonb, now());
"""
_PRIMARY_KEY = """
SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum))
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = $1::regclass AND i.indisprimary
"""
_FOREIGN_KEY = """
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'
"""


async def before_tenant_keys(conn: asyncpg.Connection) -> None:
    """Take the pairing schema back to the migrations before 0003, tables empty."""
    await conn.execute(f"DROP TABLE {', '.join(PAIRING_TABLES)}")
    await conn.execute("DELETE FROM schema_migrations WHERE version NOT LIKE 'core_%'")
    migrations = service_migrations("binome_pairing")
    versions = [migration.version for migration in migrations]
    earlier = migrations[: versions.index(TENANT_KEYS)]
    assert [m.version for m in earlier if not m.version.startswith("core_")] == [
        "0001_programmes",
        "0002_erasures",
    ]
    await apply_migrations(conn, earlier)


async def test_rows_stored_before_the_migration_take_their_programmes_tenant(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("pairing")
    try:
        await before_tenant_keys(conn)
        await conn.execute(_LEGACY_ROWS)
        applied = await apply_migrations(conn, service_migrations("binome_pairing"))
        assert TENANT_KEYS in applied

        participants = await conn.fetch(
            "SELECT tenant_id, programme_id, participant_id, status, profile->>'site' AS site "
            "FROM participants ORDER BY programme_id, participant_id"
        )
        assert [tuple(row) for row in participants] == [
            ("tenant-a", "prog-a", "E1", "erased", None),
            ("tenant-a", "prog-a", "M1", "enrolled", "Paris"),
            ("tenant-b", "prog-b", "M1", "enrolled", "Lyon"),
        ]
        lines = await conn.fetch(
            "SELECT tenant_id, programme_id, employee_id, manager_id FROM reporting_lines "
            "ORDER BY programme_id"
        )
        assert [tuple(row) for row in lines] == [
            ("tenant-a", "prog-a", "M1", "B1"),
            ("tenant-b", "prog-b", "M1", "B2"),
        ]
        pair = await conn.fetchrow("SELECT tenant_id, pair_id, status, score FROM pairs")
        assert tuple(pair) == ("tenant-a", "pair-1", "dissolved", 0.5)
        rounds = "SELECT rounds_run FROM programmes WHERE tenant_id = 'tenant-a'"
        assert await conn.fetchval(rounds) == 1

        for table, key in (
            ("programmes", ["tenant_id", "programme_id"]),
            ("participants", ["tenant_id", "programme_id", "participant_id"]),
            ("reporting_lines", ["tenant_id", "programme_id", "employee_id"]),
            ("pairs", ["tenant_id", "pair_id"]),
        ):
            assert await conn.fetchval(_PRIMARY_KEY, table) == key, table
        for table in ("participants", "reporting_lines", "pairs"):
            assert await conn.fetchval(_FOREIGN_KEY, table) == (
                "FOREIGN KEY (tenant_id, programme_id) "
                "REFERENCES programmes(tenant_id, programme_id)"
            ), table
    finally:
        await conn.close()


async def test_two_tenants_may_hold_the_same_programme_participant_and_pair_ids(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("pairing")
    try:
        for tenant in ("tenant-a", "tenant-b"):
            await conn.execute(
                "INSERT INTO programmes (tenant_id, programme_id, definition, defined_at) "
                "VALUES ($1, 'prog', '{}'::jsonb, now())",
                tenant,
            )
            await conn.execute(
                "INSERT INTO participants (tenant_id, programme_id, participant_id, role, "
                "status, updated_at) VALUES ($1, 'prog', 'M1', 'mentor', 'enrolled', now())",
                tenant,
            )
            await conn.execute(
                "INSERT INTO pairs (tenant_id, pair_id, programme_id, round_id, mentor_id, "
                "mentee_id, mentor_unit, mentee_unit, mentor_trained, status, score, "
                "explanation, proposed_at) VALUES ($1, 'pair-1', 'prog', 'r1', 'M1', 'E1', "
                "'D', 'F', true, 'formed', 0.5, '{}'::jsonb, now())",
                tenant,
            )
        assert await conn.fetchval("SELECT count(DISTINCT tenant_id) FROM pairs") == 2
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(
                "INSERT INTO pairs (tenant_id, pair_id, programme_id, round_id, mentor_id, "
                "mentee_id, mentor_unit, mentee_unit, mentor_trained, status, score, "
                "explanation, proposed_at) VALUES ('tenant-a', 'pair-1', 'prog', 'r2', 'M1', "
                "'E2', 'D', 'F', true, 'formed', 0.5, '{}'::jsonb, now())"
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                "INSERT INTO participants (tenant_id, programme_id, participant_id, role, "
                "status, updated_at) VALUES ('tenant-c', 'prog', 'M1', 'mentor', 'enrolled', "
                "now())"
            )
    finally:
        await conn.close()
