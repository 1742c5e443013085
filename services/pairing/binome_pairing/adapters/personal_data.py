"""What pairing holds on one person in one tenant, for the export (``GET /personal-data``,
docs/privacy.md): enrolments with their profile, the org-chart lines naming them, and their
pairs with the explanation of each.

Tenancy: ``participants``, ``reporting_lines`` and ``pairs`` have no ``tenant_id`` column in
this schema yet; they are filtered by joining to ``programmes``, which has it. TENANCY-MERGE:
once every table leads with ``tenant_id``, filter on it directly and join on
``(tenant_id, programme_id)``.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from binome_shared.runtime.personal_data import Sections

KINDS = ("enrolments", "reporting_lines", "pairs")

_ENROLMENTS = """
SELECT p.programme_id, p.role, p.status, p.profile, p.updated_at
FROM participants p JOIN programmes g USING (programme_id)
WHERE g.tenant_id = $1 AND p.participant_id = $2
ORDER BY p.programme_id
"""
_REPORTING_LINES = """
SELECT l.programme_id, l.employee_id, l.manager_id
FROM reporting_lines l JOIN programmes g USING (programme_id)
WHERE g.tenant_id = $1 AND (l.employee_id = $2 OR l.manager_id = $2)
ORDER BY l.programme_id, l.employee_id
"""
_PAIRS = """
SELECT r.pair_id, r.programme_id, r.round_id,
       CASE WHEN r.mentor_id = $2 THEN 'mentor' ELSE 'mentee' END AS role,
       CASE WHEN r.mentor_id = $2 THEN r.mentee_id ELSE r.mentor_id END AS partner_id,
       CASE WHEN r.mentor_id = $2 THEN r.mentor_unit ELSE r.mentee_unit END AS business_unit,
       r.status, r.score, r.explanation, r.proposed_at, r.decided_at
FROM pairs r JOIN programmes g USING (programme_id)
WHERE g.tenant_id = $1 AND (r.mentor_id = $2 OR r.mentee_id = $2)
ORDER BY r.proposed_at, r.pair_id
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
