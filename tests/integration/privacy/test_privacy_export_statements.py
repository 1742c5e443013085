"""The export's statements on PostgreSQL: two tenants hold a person of the same id, and each
service's ``personal_data`` returns only the asking tenant's rows (and nobody else's)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from binome_notifications.adapters.personal_data import personal_data as notifications_data
from binome_pairing.adapters.personal_data import personal_data as pairing_data
from binome_sessions.adapters.personal_data import personal_data as sessions_data
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

AT = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
TENANTS = ("groupe-a", "groupe-b")
PERSON, PARTNER, STRANGER = "E1", "M1", "E2"


def tagged(tenant: str) -> str:
    """A value only that tenant's rows hold, to tell whose data came back."""
    return f"{PERSON}@{tenant}.example.com"


async def seed_pairing(database: ProvisionedDatabase) -> None:
    conn = await database.connect("pairing")
    try:
        for tenant in TENANTS:
            await conn.execute(
                "INSERT INTO programmes (tenant_id, programme_id, definition, defined_at) "
                "VALUES ($1, 'prog', '{}'::jsonb, $2)",
                tenant,
                AT,
            )
            for person, role in ((PERSON, "mentee"), (PARTNER, "mentor"), (STRANGER, "mentee")):
                profile = json.dumps({"email": f"{person}@{tenant}.example.com"})
                await conn.execute(
                    "INSERT INTO participants (tenant_id, programme_id, participant_id, role, "
                    "profile, status, updated_at) VALUES ($1, 'prog', $2, $3, $4::jsonb, "
                    "'enrolled', $5)",
                    tenant,
                    person,
                    role,
                    profile,
                    AT,
                )
            await conn.execute(
                "INSERT INTO reporting_lines (tenant_id, programme_id, employee_id, manager_id) "
                "VALUES ($1, 'prog', $2, 'B1'), ($1, 'prog', 'T1', $2), ($1, 'prog', $3, 'B1')",
                tenant,
                PERSON,
                STRANGER,
            )
            await conn.execute(
                "INSERT INTO pairs (tenant_id, pair_id, programme_id, round_id, mentor_id, "
                "mentee_id, mentor_unit, mentee_unit, mentor_trained, status, score, "
                "explanation, proposed_at) VALUES ($1, 'pair-1', 'prog', 'r1', $2, $3, "
                "'Digital', $4, true, 'formed', 0.8, '{\"score\": 0.8}'::jsonb, $5)",
                tenant,
                PARTNER,
                PERSON,
                f"Finance {tenant}",
                AT,
            )
    finally:
        await conn.close()


async def test_pairing_exports_the_asking_tenants_enrolments_lines_and_pairs_only(
    database: ProvisionedDatabase,
) -> None:
    await seed_pairing(database)
    conn = await database.connect("pairing")
    try:
        exports = {tenant: await pairing_data(conn, tenant, PERSON) for tenant in TENANTS}
        nobody = await pairing_data(conn, TENANTS[0], "X9")
    finally:
        await conn.close()
    for tenant, sections in exports.items():
        assert [e["profile"]["email"] for e in sections["enrolments"]] == [tagged(tenant)]
        assert [
            (line["employee_id"], line["manager_id"]) for line in sections["reporting_lines"]
        ] == [
            (PERSON, "B1"),
            ("T1", PERSON),
        ], "her lines, as employee and as manager; not another person's"
        [pair] = sections["pairs"]
        assert (pair["role"], pair["partner_id"], pair["business_unit"]) == (
            "mentee",
            PARTNER,
            f"Finance {tenant}",
        )
        assert pair["explanation"] == {"score": 0.8}
    assert nobody == {"enrolments": [], "reporting_lines": [], "pairs": []}


async def test_sessions_exports_the_asking_tenants_pairs_only(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("sessions")
    try:
        for tenant in TENANTS:
            await conn.execute(
                "INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, "
                "mentor_unit, mentee_unit, formed_at, formed_by_event_id) "
                "VALUES ($1, $2, 'prog', $3, $4, 'Digital', $5, $6, $7)",
                "pair-1",
                tenant,
                PARTNER,
                PERSON,
                f"Finance {tenant}",
                AT,
                uuid.uuid4(),
            )
        exports = {tenant: await sessions_data(conn, tenant, PERSON) for tenant in TENANTS}
        as_mentor = await sessions_data(conn, TENANTS[1], PARTNER)
    finally:
        await conn.close()
    for tenant, sections in exports.items():
        assert [
            (p["pair_id"], p["role"], p["partner_id"], p["business_unit"])
            for p in sections["pairs"]
        ] == [("pair-1", "mentee", PARTNER, f"Finance {tenant}")]
        assert sections["sessions"] == sections["objectives"] == sections["feedback"] == []
        assert sections["pulse_replies"] == []
    assert [(p["pair_id"], p["role"]) for p in as_mentor["pairs"]] == [("pair-1", "mentor")]


async def test_notifications_exports_the_asking_tenants_address_preferences_and_deliveries(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("notifications")
    try:
        for tenant in TENANTS:
            for person in (PERSON, STRANGER):
                await conn.execute(
                    "INSERT INTO people (tenant_id, programme_id, participant_id, full_name, "
                    "email, language, time_zone) VALUES ($1, $2, $3, 'Inès', $4, 'fr', "
                    "'Europe/Paris')",
                    tenant,
                    "prog",
                    person,
                    f"{person}@{tenant}.example.com",
                )
                await conn.execute(
                    "INSERT INTO deliveries (delivery_key, kind, recipient_id, programme_id, "
                    "subject_id, caused_by, tenant_id, status) "
                    "VALUES ($1, 'introduction', $2, $3, 'pair-1', $4, $5, 'sent')",
                    f"{tenant}/{person}/introduction",
                    person,
                    "prog",
                    uuid.uuid4(),
                    tenant,
                )
            await conn.execute(
                "INSERT INTO notification_preferences (tenant_id, participant_id, opt_outs) "
                "VALUES ($1, $2, $3::jsonb)",
                tenant,
                PERSON,
                json.dumps([{"kind": "session_reminder", "channel": None}]),
            )
        exports = {tenant: await notifications_data(conn, tenant, PERSON) for tenant in TENANTS}
    finally:
        await conn.close()
    for tenant, sections in exports.items():
        assert [a["email"] for a in sections["addresses"]] == [tagged(tenant)]
        assert sections["preferences"] == [
            {"opt_outs": [{"kind": "session_reminder", "channel": None}]}
        ]
        assert [d["delivery_key"] for d in sections["deliveries"]] == [
            f"{tenant}/{PERSON}/introduction"
        ]
