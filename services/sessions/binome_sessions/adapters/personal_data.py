"""What sessions holds on one person in one tenant, for the export (``GET /personal-data``,
docs/privacy.md): the pairs they are followed in, those pairs' sessions (with their notes and
place), the objectives of their side, the feedback they gave and their pulse replies.

The partner's objectives and feedback are the partner's, not the person's: they are left out.
``pairs`` is keyed by ``(tenant_id, pair_id)``: the query filters on the caller's tenant.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from binome_sessions.domain import PairTrack
from binome_shared.contracts.sessions_messages import ParticipantRole
from binome_shared.runtime.personal_data import Sections

KINDS = ("pairs", "sessions", "objectives", "feedback", "pulse_replies")

_PAIRS = """
SELECT pair_id, programme_id, mentor_id, mentee_id, mentor_unit, mentee_unit, status,
       formed_at, state
FROM pairs
WHERE tenant_id = $1 AND (mentor_id = $2 OR mentee_id = $2)
ORDER BY formed_at, pair_id
"""


async def personal_data(conn: asyncpg.Connection, tenant_id: str, participant_id: str) -> Sections:
    """Every record of sessions' schema about the person, in the tenant."""
    sections: Sections = {kind: [] for kind in KINDS}
    for row in await conn.fetch(_PAIRS, tenant_id, participant_id):
        side = (
            ParticipantRole.MENTOR
            if row["mentor_id"] == participant_id
            else (ParticipantRole.MENTEE)
        )
        sections["pairs"].append(_pair(row, side))
        if row["state"] is None:
            continue  # followed before its programme's plan was known: nothing more
        track = PairTrack.from_dict(json.loads(row["state"]))
        about = {"pair_id": track.pair_id}
        sections["sessions"] += [
            {**about, **session.model_dump(mode="json")} for session in track.sessions
        ]
        sections["objectives"] += [
            {**about, **objective.model_dump(mode="json")}
            for objective in track.objectives
            if objective.side is side
        ]
        sections["feedback"] += [
            {**about, **given.model_dump(mode="json")}
            for given in track.feedback
            if given.author is side
        ]
        sections["pulse_replies"] += [
            {**about, "round": pulse.number, **reply.model_dump(mode="json")}
            for pulse in track.pulses
            if (reply := pulse.reply_of(side)) is not None
        ]
    return sections


def _pair(row: asyncpg.Record, side: ParticipantRole) -> dict[str, Any]:
    mentor = side is ParticipantRole.MENTOR
    return {
        "pair_id": row["pair_id"],
        "programme_id": row["programme_id"],
        "role": str(side),
        "partner_id": row["mentee_id"] if mentor else row["mentor_id"],
        "business_unit": row["mentor_unit"] if mentor else row["mentee_unit"],
        "status": row["status"],
        "formed_at": row["formed_at"],
    }
