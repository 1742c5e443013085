"""Migration 0004 on a schema holding rows from before it: every row is kept, pairs,
sessions and deliveries get their tenant from the table that knows it, the keys lead with the
tenant, and the sending jobs not run yet learn their delivery's tenant."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from binome_shared.db.migrations import apply_migrations, service_migrations
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

SCHEMA = "notifications_upgrade"
TENANT_MIGRATION = "0004_tenant_keys"

BEFORE_0004 = """
INSERT INTO programmes (programme_id, tenant_id, name, language, time_zone, contact_name,
    contact_email, contact_language, reminder_hours_before)
VALUES ('prog-1', 'groupe-exemple', 'Mentorat', 'fr', 'Europe/Paris', 'Claire Dubois',
        'claire.dubois@example.com', 'fr', 24);
INSERT INTO people (tenant_id, programme_id, participant_id, full_name, email, language,
    time_zone)
VALUES ('groupe-exemple', 'prog-1', 'Y1', 'Inès Martin', 'ines.martin@example.com', 'fr',
        'Europe/Paris');
INSERT INTO pairs (pair_id, programme_id, mentor_id, mentee_id)
VALUES ('pair-1', 'prog-1', 'Y1', 'X1'), ('pair-orphan', 'prog-unknown', 'Y9', 'X9');
INSERT INTO sessions (session_id, pair_id, session_number, theme_key, starts_at,
    duration_minutes, sequence)
VALUES ('pair-1-1', 'pair-1', 1, 'kick-off', '2027-01-20T10:00:00Z', 60, 0);
INSERT INTO deliveries (delivery_key, kind, recipient_id, programme_id, subject_id, caused_by,
    tenant_id, pair_id)
VALUES ('key-old', 'introduction', 'Y1', 'prog-1', 'pair-1', gen_random_uuid(), NULL, 'pair-1'),
       ('key-new', 'introduction', 'X1', 'prog-1', 'pair-1', gen_random_uuid(),
        'groupe-exemple', 'pair-1');
INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
VALUES ('deliver:key-old:1', 'deliver', now(), '{"delivery_key": "key-old", "turn": 1}');
"""


@pytest.fixture
async def upgrading(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A schema of its own, migrated up to the migration before 0004."""
    admin = await asyncpg.connect(database.admin())
    await admin.execute(f"CREATE SCHEMA {SCHEMA}")
    await admin.close()
    conn = await asyncpg.connect(database.admin(), server_settings={"search_path": SCHEMA})
    migrations = service_migrations("binome_notifications")
    before = [m for m in migrations if m.version < TENANT_MIGRATION or "core" in m.version]
    assert len(before) == len(migrations) - 1
    await apply_migrations(conn, before)
    yield conn
    await conn.close()


async def test_rows_from_before_get_their_tenant_and_tenant_leading_keys(
    upgrading: asyncpg.Connection,
) -> None:
    await upgrading.execute(BEFORE_0004)
    applied = await apply_migrations(upgrading, service_migrations("binome_notifications"))
    assert applied == [TENANT_MIGRATION]

    pairs = await upgrading.fetch("SELECT pair_id, tenant_id FROM pairs ORDER BY pair_id")
    assert [tuple(row) for row in pairs] == [
        ("pair-1", "groupe-exemple"),
        ("pair-orphan", ""),  # its programme is unknown: kept, read by no tenant
    ]
    assert await upgrading.fetchval("SELECT tenant_id FROM sessions") == "groupe-exemple"
    deliveries = await upgrading.fetch(
        "SELECT delivery_key, tenant_id FROM deliveries ORDER BY delivery_key"
    )
    assert [tuple(row) for row in deliveries] == [
        ("key-new", "groupe-exemple"),
        ("key-old", "groupe-exemple"),
    ]
    payload = await upgrading.fetchval("SELECT payload FROM scheduled_jobs")
    assert json.loads(payload) == {
        "delivery_key": "key-old",
        "turn": 1,
        "tenant_id": "groupe-exemple",
    }
    keys = await upgrading.fetch(
        """
        SELECT c.relname AS table_name, array_agg(a.attname ORDER BY k.n) AS columns
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indrelid
        JOIN pg_namespace AS ns ON ns.oid = c.relnamespace
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE ns.nspname = $1 AND i.indisprimary
          AND c.relname IN ('programmes', 'people', 'pairs', 'sessions', 'deliveries')
        GROUP BY c.relname ORDER BY c.relname
        """,
        SCHEMA,
    )
    assert {row["table_name"]: row["columns"] for row in keys} == {
        "deliveries": ["tenant_id", "delivery_key"],
        "pairs": ["tenant_id", "pair_id"],
        "people": ["tenant_id", "programme_id", "participant_id"],
        "programmes": ["tenant_id", "programme_id"],
        "sessions": ["tenant_id", "session_id"],
    }
    # The same programme id in another tenant is a programme of its own now.
    await upgrading.execute(
        """
        INSERT INTO programmes (programme_id, tenant_id, name, language, time_zone,
            contact_name, contact_email, contact_language, reminder_hours_before)
        VALUES ('prog-1', 'autre-groupe', 'Autre', 'fr', 'Europe/Paris', 'Bruno Lefèvre',
                'bruno.lefevre@autre.example', 'fr', 24)
        """
    )
    contacts = await upgrading.fetch(
        "SELECT tenant_id, contact_email FROM programmes ORDER BY tenant_id"
    )
    assert [tuple(row) for row in contacts] == [
        ("autre-groupe", "bruno.lefevre@autre.example"),
        ("groupe-exemple", "claire.dubois@example.com"),
    ]
