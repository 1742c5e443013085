"""The pairing service's SQL, as named statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from binome_shared.contracts.hr_commands import DefineProgramme
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine

ACTIVE_STATUSES = ("proposed", "formed")

_UPSERT_PROGRAMME = """
INSERT INTO programmes (programme_id, tenant_id, definition, defined_at)
VALUES ($1, $2, $3::jsonb, $4)
ON CONFLICT (programme_id) DO UPDATE SET definition = EXCLUDED.definition,
                                         defined_at = EXCLUDED.defined_at
"""
_PROGRAMME = "SELECT definition FROM programmes WHERE programme_id = $1 FOR UPDATE"
_PARTICIPANT = """
SELECT role, profile, status FROM participants WHERE programme_id = $1 AND participant_id = $2
"""
_STATUSES = """
SELECT participant_id, status FROM participants
WHERE programme_id = $1 AND participant_id = ANY($2::text[])
"""
_ENROL = """
INSERT INTO participants (programme_id, participant_id, role, profile, status, updated_at)
VALUES ($1, $2, $3, $4::jsonb, 'enrolled', $5)
ON CONFLICT (programme_id, participant_id) DO UPDATE
    SET role = EXCLUDED.role, profile = EXCLUDED.profile, status = 'enrolled',
        updated_at = EXCLUDED.updated_at
"""
_SET_STATUS = """
UPDATE participants SET status = $3, updated_at = $4 WHERE programme_id = $1 AND participant_id = $2
"""
_ERASE = """
UPDATE participants SET profile = NULL, status = 'erased', updated_at = $3
WHERE programme_id = $1 AND participant_id = $2
"""
_ENROLLED = """
SELECT profile FROM participants
WHERE programme_id = $1 AND status = 'enrolled' AND profile IS NOT NULL
ORDER BY participant_id
"""
_PAIRS_WITH_STATUS = """
SELECT pair_id, mentor_id, mentee_id, status FROM pairs
WHERE programme_id = $1 AND status = ANY($2::text[])
"""
_ACTIVE_PAIR_OF = """
SELECT pair_id, mentor_id, mentee_id, status, round_id FROM pairs
WHERE programme_id = $1 AND status = ANY($3::text[]) AND (mentor_id = $2 OR mentee_id = $2)
FOR UPDATE
"""
_PAIR = """
SELECT pair_id, programme_id, round_id, mentor_id, mentee_id, mentor_unit, mentee_unit,
       mentor_trained, status, explanation
FROM pairs WHERE pair_id = $1 FOR UPDATE
"""
_INSERT_PAIR = """
INSERT INTO pairs (pair_id, programme_id, round_id, mentor_id, mentee_id, mentor_unit,
                   mentee_unit, mentor_trained, status, score, explanation, proposed_at,
                   decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
"""
_DECIDE = "UPDATE pairs SET status = $2, decided_at = $3 WHERE pair_id = $1"
_SUPERSEDE_PROPOSALS = """
UPDATE pairs SET status = 'superseded', decided_at = $2
WHERE programme_id = $1 AND status = 'proposed'
"""
_UPSERT_LINES = """
INSERT INTO reporting_lines (programme_id, employee_id, manager_id)
SELECT $1, employee_id, manager_id FROM unnest($2::text[], $3::text[]) AS l(employee_id, manager_id)
ON CONFLICT (programme_id, employee_id) DO UPDATE SET manager_id = EXCLUDED.manager_id
"""
_LINES = "SELECT employee_id, manager_id FROM reporting_lines WHERE programme_id = $1"
_ERASE_LINES = """
DELETE FROM reporting_lines WHERE programme_id = $1 AND (employee_id = $2 OR manager_id = $2)
"""
_COUNT_ROUND = "UPDATE programmes SET rounds_run = rounds_run + 1 WHERE programme_id = $1"
_ROUNDS_RUN = "SELECT rounds_run FROM programmes WHERE programme_id = $1"


@dataclass(frozen=True, slots=True)
class StoredPair:
    pair_id: str
    mentor_id: str
    mentee_id: str
    status: str


async def save_programme(
    conn: asyncpg.Connection,
    *,
    programme_id: str,
    tenant_id: str,
    command: DefineProgramme,
    at: datetime,
) -> None:
    await conn.execute(_UPSERT_PROGRAMME, programme_id, tenant_id, command.model_dump_json(), at)


async def programme(conn: asyncpg.Connection, programme_id: str) -> DefineProgramme | None:
    """The programme's definition, row-locked: a programme's commands apply one at a time."""
    raw = await conn.fetchval(_PROGRAMME, programme_id)
    return None if raw is None else DefineProgramme.model_validate_json(raw)


async def participant_status(
    conn: asyncpg.Connection, programme_id: str, participant_id: str
) -> str | None:
    row = await conn.fetchrow(_PARTICIPANT, programme_id, participant_id)
    return None if row is None else str(row["status"])


async def participant_statuses(
    conn: asyncpg.Connection, programme_id: str, participant_ids: Sequence[str]
) -> dict[str, str]:
    """The status of each of these people known in the programme (absent: never enrolled)."""
    rows = await conn.fetch(_STATUSES, programme_id, list(participant_ids))
    return {row["participant_id"]: row["status"] for row in rows}


async def save_participant(
    conn: asyncpg.Connection, *, programme_id: str, profile: ParticipantProfile, at: datetime
) -> None:
    await save_participants(conn, programme_id=programme_id, profiles=[profile], at=at)


async def save_participants(
    conn: asyncpg.Connection,
    *,
    programme_id: str,
    profiles: Sequence[ParticipantProfile],
    at: datetime,
) -> None:
    await conn.executemany(
        _ENROL,
        [
            (programme_id, profile.participant_id, str(profile.role), profile.model_dump_json(), at)
            for profile in profiles
        ],
    )


async def set_participant_status(
    conn: asyncpg.Connection,
    *,
    programme_id: str,
    participant_id: str,
    status: str,
    at: datetime,
) -> None:
    await conn.execute(_SET_STATUS, programme_id, participant_id, status, at)


async def erase_participant(
    conn: asyncpg.Connection, *, programme_id: str, participant_id: str, at: datetime
) -> None:
    await conn.execute(_ERASE, programme_id, participant_id, at)


async def enrolled_profiles_json(conn: asyncpg.Connection, programme_id: str) -> list[str]:
    """Enrolled participants' profiles as stored: a round parses them in its worker process."""
    return [row["profile"] for row in await conn.fetch(_ENROLLED, programme_id)]


async def pairs_with_status(
    conn: asyncpg.Connection, programme_id: str, statuses: tuple[str, ...]
) -> list[StoredPair]:
    rows = await conn.fetch(_PAIRS_WITH_STATUS, programme_id, list(statuses))
    return [
        StoredPair(row["pair_id"], row["mentor_id"], row["mentee_id"], row["status"])
        for row in rows
    ]


async def active_pairs_of(
    conn: asyncpg.Connection, programme_id: str, participant_id: str
) -> list[StoredPair]:
    rows = await conn.fetch(_ACTIVE_PAIR_OF, programme_id, participant_id, list(ACTIVE_STATUSES))
    return [
        StoredPair(row["pair_id"], row["mentor_id"], row["mentee_id"], row["status"])
        for row in rows
    ]


async def pair(conn: asyncpg.Connection, pair_id: str) -> asyncpg.Record | None:
    record: asyncpg.Record | None = await conn.fetchrow(_PAIR, pair_id)
    return record


async def insert_pairs(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.executemany(_INSERT_PAIR, rows)


async def decide_pair(conn: asyncpg.Connection, pair_id: str, status: str, at: datetime) -> None:
    await conn.execute(_DECIDE, pair_id, status, at)


async def supersede_proposals(conn: asyncpg.Connection, programme_id: str, at: datetime) -> None:
    await conn.execute(_SUPERSEDE_PROPOSALS, programme_id, at)


async def count_round(conn: asyncpg.Connection, programme_id: str) -> None:
    await conn.execute(_COUNT_ROUND, programme_id)


async def rounds_run(conn: asyncpg.Connection, programme_id: str) -> int:
    return int(await conn.fetchval(_ROUNDS_RUN, programme_id) or 0)


def explanation_json(explanation: Any) -> str:
    return json.dumps(explanation.model_dump(mode="json"), ensure_ascii=False)


async def save_reporting_lines(
    conn: asyncpg.Connection, programme_id: str, lines: list[ReportingLine]
) -> None:
    await conn.execute(
        _UPSERT_LINES,
        programme_id,
        [line.employee_id for line in lines],
        [line.manager_id for line in lines],
    )


async def reporting_lines(conn: asyncpg.Connection, programme_id: str) -> list[ReportingLine]:
    return [
        ReportingLine(employee_id=row["employee_id"], manager_id=row["manager_id"])
        for row in await conn.fetch(_LINES, programme_id)
    ]


async def erase_reporting_lines(
    conn: asyncpg.Connection, programme_id: str, participant_id: str
) -> None:
    await conn.execute(_ERASE_LINES, programme_id, participant_id)
