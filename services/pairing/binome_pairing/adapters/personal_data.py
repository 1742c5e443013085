"""What pairing holds on one person in one tenant, for the export (``GET /personal-data``,
docs/privacy.md): enrolments with their profile, the org-chart lines naming them, and their
pairs with the explanation of each.

Every table is keyed by ``(tenant_id, …)`` (migration 0003): each query filters on the
caller's tenant, so another tenant's person of the same id is never read.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from binome_shared.runtime.personal_data import Sections

KINDS = ("enrolments", "reporting_lines", "pairs")

_ENROLMENTS = """
SELECT programme_id, role, status, profile, updated_at
FROM participants
WHERE tenant_id = $1 AND participant_id = $2
ORDER BY programme_id
"""
_REPORTING_LINES = """
SELECT programme_id, employee_id, manager_id
FROM reporting_lines
WHERE tenant_id = $1 AND (employee_id = $2 OR manager_id = $2)
ORDER BY programme_id, employee_id
"""
_PAIRS = """
SELECT pair_id, programme_id, round_id,
       CASE WHEN mentor_id = $2 THEN 'mentor' ELSE 'mentee' END AS role,
       CASE WHEN mentor_id = $2 THEN mentee_id ELSE mentor_id END AS partner_id,
       CASE WHEN mentor_id = $2 THEN mentor_unit ELSE mentee_unit END AS business_unit,
       status, score, explanation, proposed_at, decided_at
FROM pairs
WHERE tenant_id = $1 AND (mentor_id = $2 OR mentee_id = $2)
ORDER BY proposed_at, pair_id
"""


async def personal_data(conn: asyncpg.Connection, tenant_id: str, participant_id: str) -> Sections:
    """Every record of pairing's schema about the person, in the tenant."""
    enrolments = await conn.fetch(_ENROLMENTS, tenant_id, participant_id)
    lines = await conn.fetch(_REPORTING_LINES, tenant_id, participant_id)
    pairs = await conn.fetch(_PAIRS, tenant_id, participant_id)
    return {
        "enrolments": [_with_json(row, "profile") for row in enrolments],
        "reporting_lines": [dict(row) for row in lines],
        "pairs": [_with_json(row, "explanation") for row in pairs],
    }


def _with_json(row: asyncpg.Record, column: str) -> dict[str, Any]:
    """The row, its jsonb column decoded (asyncpg gives jsonb as text)."""
    record = dict(row)
    raw = record[column]
    record[column] = None if raw is None else json.loads(raw)
    return record
