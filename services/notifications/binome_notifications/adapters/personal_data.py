"""What notifications holds on one person in one tenant, for the export
(``GET /personal-data``, docs/privacy.md): their name, address, language and time zone per
programme, their opt-outs, and the deliveries to them.

A delivery's rendered message (kept only until the delivery ends) is not exported: it is the
e-mail the person receives, and it names their partner too; its kind, channel, status and
times are. Deliveries planned before deliveries had a tenant (``tenant_id`` NULL) belong to
no tenant and are not exported. Every table is keyed by ``(tenant_id, …)``: each query
filters on the caller's tenant.
"""

from __future__ import annotations

import json

import asyncpg

from binome_shared.runtime.personal_data import Sections

KINDS = ("addresses", "preferences", "deliveries")

_ADDRESSES = """
SELECT programme_id, full_name, email, language, time_zone, updated_at
FROM people WHERE tenant_id = $1 AND participant_id = $2
ORDER BY programme_id
"""
_PREFERENCES = """
SELECT opt_outs FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2
"""
_DELIVERIES = """
SELECT delivery_key, kind, channel, programme_id, subject_id, status, attempts, created_at,
       send_at, last_attempt_at, finished_at
FROM deliveries WHERE tenant_id = $1 AND recipient_id = $2
ORDER BY created_at, delivery_key
"""


async def personal_data(conn: asyncpg.Connection, tenant_id: str, participant_id: str) -> Sections:
    """Every record of notifications' schema about the person, in the tenant."""
    addresses = await conn.fetch(_ADDRESSES, tenant_id, participant_id)
    opt_outs = await conn.fetchval(_PREFERENCES, tenant_id, participant_id)
    deliveries = await conn.fetch(_DELIVERIES, tenant_id, participant_id)
    return {
        "addresses": [dict(row) for row in addresses],
        "preferences": [] if opt_outs is None else [{"opt_outs": json.loads(opt_outs)}],
        "deliveries": [dict(row) for row in deliveries],
    }
