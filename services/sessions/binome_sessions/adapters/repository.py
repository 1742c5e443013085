"""The sessions service's storage: programmes' plans and pairs' tracks, as named statements.

A pair's track is stored whole as jsonb (``PairTrack.to_dict``) beside the columns the
service queries by (status, stall due time, programme end, next pulse round), and a version
for optimistic concurrency. Handlers lock the row they change (``FOR UPDATE``); the follow-up
job skips rows a handler holds (``SKIP LOCKED``) and sees them on its next run.

Rows are keyed by (tenant, id) (migration 0004): every statement a handler runs names the
tenant, and the jobs, which go across tenants, read each row's tenant with it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from binome_sessions.domain import PairTrack
from binome_sessions.storage import PairKey, PairRecord, ProgrammeRecord
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.db import erasures


class ConcurrentUpdateError(RuntimeError):
    """The pair changed since it was read; the caller's transaction must be retried."""


_PROGRAMME = """
SELECT programme_id, tenant_id, session_plan FROM programmes
WHERE tenant_id = $1 AND programme_id = $2
"""
_SAVE_PROGRAMME = """
INSERT INTO programmes (programme_id, tenant_id, session_plan, defined_at, defined_by_event_id)
VALUES ($1, $2, $3::jsonb, $4, $5)
ON CONFLICT (tenant_id, programme_id) DO UPDATE
    SET session_plan = EXCLUDED.session_plan, defined_at = EXCLUDED.defined_at,
        defined_by_event_id = EXCLUDED.defined_by_event_id
"""
_PAIR_COLUMNS = """pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit, mentee_unit,
       formed_at, version, state"""
_PAIR_FOR_UPDATE = f"""
SELECT {_PAIR_COLUMNS} FROM pairs WHERE tenant_id = $1 AND pair_id = $2 FOR UPDATE
"""
# A pair's formation and its members' erasures take turns (erasures.holding_off_erasures):
# an erasure scans the person's pairs, and a PairFormed of another partition inserts one of
# them; at once, neither would see the other, and a command on the new pair committed before
# the erasure could leave free text no erasure blanks.
_PAIR_FOR_FORMATION = f"""
SELECT {_PAIR_COLUMNS} FROM pairs
WHERE tenant_id = $1 AND pair_id = $2 AND {erasures.holding_off_erasures("$1", "$3::text[]")}
FOR UPDATE
"""
_ADD_PAIR = """
INSERT INTO pairs (pair_id, tenant_id, programme_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, formed_at, formed_by_event_id, status, state, version,
                   stall_due_at, closes_at, updated_at, pulse_due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15, $16)
ON CONFLICT (tenant_id, pair_id) DO NOTHING
RETURNING true
"""
_SAVE_PAIR = """
UPDATE pairs
SET state = $3::jsonb, version = $4, status = $5, stall_due_at = $6, closes_at = $7,
    updated_at = $8, pulse_due_at = $10
WHERE tenant_id = $1 AND pair_id = $2 AND version = $9
RETURNING true
"""
_UNSTARTED_PAIRS = f"""
SELECT {_PAIR_COLUMNS} FROM pairs WHERE tenant_id = $1 AND programme_id = $2 AND state IS NULL
ORDER BY formed_at, pair_id FOR UPDATE
"""
_UNFOLLOW_PAIR = """
INSERT INTO unfollowed_pairs (tenant_id, pair_id, unfollowed_at) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id, pair_id) DO NOTHING
"""
_IS_UNFOLLOWED = "SELECT true FROM unfollowed_pairs WHERE tenant_id = $1 AND pair_id = $2"
_PAIRS_OF_PERSON = f"""
SELECT {_PAIR_COLUMNS} FROM pairs
WHERE tenant_id = $1 AND (mentor_id = $2 OR mentee_id = $2)
ORDER BY pair_id FOR UPDATE
"""
_DUE_FOR_FOLLOW_UP = f"""
SELECT {_PAIR_COLUMNS} FROM pairs
WHERE status = 'active' AND state IS NOT NULL
  AND (stall_due_at <= $1 OR closes_at <= $1 OR pulse_due_at <= $1)
  AND ($3::text IS NULL OR (tenant_id, pair_id) > ($3::text, $4::text))
ORDER BY tenant_id, pair_id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_TRACKS_OF_PROGRAMME = """
SELECT state FROM pairs
WHERE tenant_id = $1 AND programme_id = $2 AND state IS NOT NULL ORDER BY pair_id
"""
_PROGRAMMES_TO_REPORT = """
SELECT programme_id, tenant_id, session_plan FROM programmes AS programme
WHERE EXISTS (
    SELECT 1 FROM pairs
    WHERE (pairs.tenant_id, pairs.programme_id) = (programme.tenant_id, programme.programme_id)
      AND pairs.state IS NOT NULL AND (pairs.status = 'active' OR pairs.updated_at >= $1)
)
ORDER BY tenant_id, programme_id
"""


class PostgresTracks:
    """:class:`TrackRepository` on the service's schema, inside the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None:
        row = await self._conn.fetchrow(_PROGRAMME, tenant_id, programme_id)
        return None if row is None else _programme(row)

    async def save_programme(
        self, programme: ProgrammeRecord, *, defined_at: datetime, event_id: uuid.UUID
    ) -> None:
        await self._conn.execute(
            _SAVE_PROGRAMME,
            programme.programme_id,
            programme.tenant_id,
            programme.plan.model_dump_json(),
            defined_at,
            event_id,
        )

    async def pair_for_update(self, tenant_id: str, pair_id: str) -> PairRecord | None:
        row = await self._conn.fetchrow(_PAIR_FOR_UPDATE, tenant_id, pair_id)
        return None if row is None else _pair(row)

    async def pair_for_formation(
        self, tenant_id: str, pair_id: str, members: Sequence[str]
    ) -> PairRecord | None:
        """:meth:`pair_for_update`, once the members' erasures in progress have committed;
        holds off new ones until the transaction ends (the next read of the register sees
        what they wrote)."""
        row = await self._conn.fetchrow(_PAIR_FOR_FORMATION, tenant_id, pair_id, list(members))
        return None if row is None else _pair(row)

    async def add(
        self, track: PairTrack, *, tenant_id: str, formed_by_event_id: uuid.UUID, now: datetime
    ) -> bool:
        return bool(
            await self._conn.fetchval(
                _ADD_PAIR,
                track.pair_id,
                tenant_id,
                track.programme_id,
                track.mentor_id,
                track.mentee_id,
                track.mentor_business_unit,
                track.mentee_business_unit,
                track.formed_at,
                formed_by_event_id,
                track.status.value,
                json.dumps(track.to_dict()),
                track.version,
                track.stall_due_at(),
                track.programme_closes_at(),
                now,
                track.next_pulse_due_at(),
            )
        )

    async def save(self, record: PairRecord, track: PairTrack, *, now: datetime) -> None:
        saved = await self._conn.fetchval(
            _SAVE_PAIR,
            record.tenant_id,
            record.pair_id,
            json.dumps(track.to_dict()),
            track.version,
            track.status.value,
            track.stall_due_at(),
            track.programme_closes_at(),
            now,
            record.version,
            track.next_pulse_due_at(),
        )
        if not saved:
            raise ConcurrentUpdateError(f"pair {record.pair_id} changed since it was read")

    async def unstarted_pairs(self, tenant_id: str, programme_id: str) -> list[PairRecord]:
        rows = await self._conn.fetch(_UNSTARTED_PAIRS, tenant_id, programme_id)
        return [_pair(row) for row in rows]

    async def pairs_of_person(self, tenant_id: str, participant_id: str) -> list[PairRecord]:
        rows = await self._conn.fetch(_PAIRS_OF_PERSON, tenant_id, participant_id)
        return [_pair(row) for row in rows]

    async def record_erasure(self, tenant_id: str, participant_id: str, *, at: datetime) -> bool:
        """Remember the person as erased in the tenant, once the formations of their pairs in
        progress have committed (so the scan of their pairs that follows sees them); False if
        they already were."""
        return await erasures.record_erasure_exclusively(
            self._conn, tenant_id, participant_id, at=at
        )

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]:
        """Which of these people were erased in the tenant."""
        return await erasures.erased_among(self._conn, tenant_id, participant_ids)

    async def unfollow_pair(self, pair_id: str, *, tenant_id: str, at: datetime) -> None:
        await self._conn.execute(_UNFOLLOW_PAIR, tenant_id, pair_id, at)

    async def is_unfollowed(self, tenant_id: str, pair_id: str) -> bool:
        return bool(await self._conn.fetchval(_IS_UNFOLLOWED, tenant_id, pair_id))

    async def due_for_follow_up(
        self, now: datetime, *, limit: int, after: PairKey | None = None
    ) -> list[PairRecord]:
        tenant_id, pair_id = after or (None, None)
        rows = await self._conn.fetch(_DUE_FOR_FOLLOW_UP, now, limit, tenant_id, pair_id)
        return [_pair(row) for row in rows]

    async def tracks_of_programme(self, tenant_id: str, programme_id: str) -> list[PairTrack]:
        rows = await self._conn.fetch(_TRACKS_OF_PROGRAMME, tenant_id, programme_id)
        return [PairTrack.from_dict(json.loads(row["state"])) for row in rows]

    async def programmes_to_report(self, closed_since: datetime) -> list[ProgrammeRecord]:
        return [
            _programme(row) for row in await self._conn.fetch(_PROGRAMMES_TO_REPORT, closed_since)
        ]


def _programme(row: Any) -> ProgrammeRecord:
    return ProgrammeRecord(
        programme_id=row["programme_id"],
        tenant_id=row["tenant_id"],
        plan=SessionPlan.model_validate_json(row["session_plan"]),
    )


def _pair(row: Any) -> PairRecord:
    state = row["state"]
    return PairRecord(
        pair_id=row["pair_id"],
        tenant_id=row["tenant_id"],
        programme_id=row["programme_id"],
        mentor_id=row["mentor_id"],
        mentee_id=row["mentee_id"],
        mentor_business_unit=row["mentor_unit"],
        mentee_business_unit=row["mentee_unit"],
        formed_at=row["formed_at"],
        version=row["version"],
        track=None if state is None else PairTrack.from_dict(json.loads(state)),
    )
