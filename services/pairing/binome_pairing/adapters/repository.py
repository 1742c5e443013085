"""The pairing service's storage: programmes, participants, reporting lines and pairs.

:class:`PairingRepository` is what the handlers need; :class:`PostgresPairing` answers it
with named statements on the unit of work's connection and returns typed rows, never
``asyncpg.Record``. A programme's row is locked (``FOR UPDATE``) when its definition is read,
so a programme's commands apply one at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from binome_pairing.adapters import erasure_locks
from binome_pairing.domain.lifecycle import ACTIVE_PAIR_STATUSES, PairStatus, ParticipantStatus
from binome_shared.contracts.hr_commands import DefineProgramme
from binome_shared.contracts.pairing_events import PairExplanation, PairSide
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.db import erasures


@dataclass(frozen=True, slots=True)
class StoredPair:
    """A pair's members and status: what a round or a departure needs to know of it."""

    pair_id: str
    mentor_id: str
    mentee_id: str
    status: PairStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class PairRecord:
    """A pair as stored, whole: its members' sides and explanation as the events carry them."""

    pair_id: str
    programme_id: str
    round_id: str
    mentor: PairSide
    mentee: PairSide
    mentor_trained: bool
    status: PairStatus
    score: float
    explanation: PairExplanation
    proposed_at: datetime
    decided_at: datetime | None


class PairingRepository(Protocol):
    """What the handlers need from storage (Postgres in production, a fake in unit tests).

    Ids are namespaced by tenant (two tenants may use the same programme, participant and
    pair ids), so every method names the tenant first and sees only that tenant's rows.
    """

    async def programme(self, tenant_id: str, programme_id: str) -> DefineProgramme | None: ...

    async def save_programme(
        self, tenant_id: str, programme_id: str, *, definition: DefineProgramme, at: datetime
    ) -> None: ...

    async def rounds_run(self, tenant_id: str, programme_id: str) -> int: ...

    async def count_round(self, tenant_id: str, programme_id: str) -> None: ...

    async def participant_statuses(
        self, tenant_id: str, programme_id: str, participant_ids: Sequence[str]
    ) -> dict[str, ParticipantStatus]: ...

    async def save_participants(
        self,
        tenant_id: str,
        programme_id: str,
        profiles: Sequence[ParticipantProfile],
        *,
        at: datetime,
    ) -> None: ...

    async def set_participant_status(
        self,
        tenant_id: str,
        programme_id: str,
        participant_id: str,
        status: ParticipantStatus,
        *,
        at: datetime,
    ) -> None: ...

    async def erase_participant(
        self, tenant_id: str, programme_id: str, participant_id: str, *, at: datetime
    ) -> None: ...

    async def record_erasure(
        self, tenant_id: str, participant_id: str, *, at: datetime
    ) -> bool: ...

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]: ...

    async def hold_off_erasures(self, tenant_ids: Sequence[str]) -> None: ...

    async def programmes_holding(self, tenant_id: str, participant_id: str) -> list[str]: ...

    async def enrolled_profiles_json(self, tenant_id: str, programme_id: str) -> list[str]: ...

    async def job_grade(
        self, tenant_id: str, programme_id: str, participant_id: str
    ) -> int | None: ...

    async def save_reporting_lines(
        self, tenant_id: str, programme_id: str, lines: Sequence[ReportingLine]
    ) -> None: ...

    async def reporting_lines(self, tenant_id: str, programme_id: str) -> list[ReportingLine]: ...

    async def pairs_with_status(
        self, tenant_id: str, programme_id: str, statuses: Sequence[PairStatus]
    ) -> list[StoredPair]: ...

    async def active_pairs_of(
        self, tenant_id: str, programme_id: str, participant_id: str
    ) -> list[StoredPair]: ...

    async def pair(self, tenant_id: str, pair_id: str) -> PairRecord | None: ...

    async def add_pairs(self, tenant_id: str, pairs: Sequence[PairRecord]) -> None: ...

    async def decide_pair(
        self, tenant_id: str, pair_id: str, status: PairStatus, *, at: datetime
    ) -> None: ...

    async def supersede_proposals(
        self, tenant_id: str, programme_id: str, *, at: datetime
    ) -> None: ...


# $1 is the tenant in every statement: each one sees a single tenant's rows.
_UPSERT_PROGRAMME = """
INSERT INTO programmes (tenant_id, programme_id, definition, defined_at)
VALUES ($1, $2, $3::jsonb, $4)
ON CONFLICT (tenant_id, programme_id) DO UPDATE SET definition = EXCLUDED.definition,
                                                    defined_at = EXCLUDED.defined_at
"""
_PROGRAMME = """
SELECT definition FROM programmes WHERE tenant_id = $1 AND programme_id = $2 FOR UPDATE
"""
_COUNT_ROUND = """
UPDATE programmes SET rounds_run = rounds_run + 1 WHERE tenant_id = $1 AND programme_id = $2
"""
_ROUNDS_RUN = "SELECT rounds_run FROM programmes WHERE tenant_id = $1 AND programme_id = $2"
_STATUSES = """
SELECT participant_id, status FROM participants
WHERE tenant_id = $1 AND programme_id = $2 AND participant_id = ANY($3::text[])
"""
_ENROL = """
INSERT INTO participants (tenant_id, programme_id, participant_id, role, profile, status,
                          updated_at)
VALUES ($1, $2, $3, $4, $5::jsonb, 'enrolled', $6)
ON CONFLICT (tenant_id, programme_id, participant_id) DO UPDATE
    SET role = EXCLUDED.role, profile = EXCLUDED.profile, status = 'enrolled',
        updated_at = EXCLUDED.updated_at
"""
_SET_STATUS = """
UPDATE participants SET status = $4, updated_at = $5
WHERE tenant_id = $1 AND programme_id = $2 AND participant_id = $3
"""
_ERASE = """
UPDATE participants SET profile = NULL, status = 'erased', updated_at = $4
WHERE tenant_id = $1 AND programme_id = $2 AND participant_id = $3
"""
_PROGRAMMES_HOLDING = """
SELECT programme_id FROM participants
WHERE tenant_id = $1 AND participant_id = $2 AND status <> 'erased'
ORDER BY programme_id
"""
# The erased are left out here too, as a second guard: an enrolment and an erasure of the
# tenant take turns (adapters.erasure_locks), so none should be left enrolled.
_ENROLLED = """
SELECT p.profile FROM participants p
WHERE p.tenant_id = $1 AND p.programme_id = $2 AND p.status = 'enrolled'
  AND p.profile IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM erased_participants e
                  WHERE e.tenant_id = p.tenant_id AND e.participant_id = p.participant_id)
ORDER BY p.participant_id
"""
_JOB_GRADE = """
SELECT (profile ->> 'job_grade')::int AS job_grade FROM participants
WHERE tenant_id = $1 AND programme_id = $2 AND participant_id = $3
"""
_UPSERT_LINES = """
INSERT INTO reporting_lines (tenant_id, programme_id, employee_id, manager_id)
SELECT $1, $2, employee_id, manager_id
FROM unnest($3::text[], $4::text[]) AS l(employee_id, manager_id)
ON CONFLICT (tenant_id, programme_id, employee_id) DO UPDATE SET manager_id = EXCLUDED.manager_id
"""
_LINES = """
SELECT employee_id, manager_id FROM reporting_lines WHERE tenant_id = $1 AND programme_id = $2
"""
_ERASE_LINES = """
DELETE FROM reporting_lines
WHERE tenant_id = $1 AND programme_id = $2 AND (employee_id = $3 OR manager_id = $3)
"""
_PAIRS_WITH_STATUS = """
SELECT pair_id, mentor_id, mentee_id, status FROM pairs
WHERE tenant_id = $1 AND programme_id = $2 AND status = ANY($3::text[])
"""
_ACTIVE_PAIRS_OF = """
SELECT pair_id, mentor_id, mentee_id, status FROM pairs
WHERE tenant_id = $1 AND programme_id = $2 AND status = ANY($4::text[])
  AND (mentor_id = $3 OR mentee_id = $3)
FOR UPDATE
"""
_PAIR_COLUMNS = """pair_id, programme_id, round_id, mentor_id, mentee_id, mentor_unit, mentee_unit,
       mentor_trained, status, score, explanation, proposed_at, decided_at"""
_PAIR = f"SELECT {_PAIR_COLUMNS} FROM pairs WHERE tenant_id = $1 AND pair_id = $2 FOR UPDATE"
_INSERT_PAIR = f"""
INSERT INTO pairs (tenant_id, {_PAIR_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)
"""
_DECIDE = "UPDATE pairs SET status = $3, decided_at = $4 WHERE tenant_id = $1 AND pair_id = $2"
_SUPERSEDE_PROPOSALS = """
UPDATE pairs SET status = 'superseded', decided_at = $3
WHERE tenant_id = $1 AND programme_id = $2 AND status = 'proposed'
"""


def pair_columns(pair: PairRecord) -> tuple[Any, ...]:
    """``pair``'s values in the order of ``_PAIR_COLUMNS``."""
    return (
        pair.pair_id,
        pair.programme_id,
        pair.round_id,
        pair.mentor.participant_id,
        pair.mentee.participant_id,
        pair.mentor.business_unit,
        pair.mentee.business_unit,
        pair.mentor_trained,
        str(pair.status),
        pair.score,
        json.dumps(pair.explanation.model_dump(mode="json"), ensure_ascii=False),
        pair.proposed_at,
        pair.decided_at,
    )


def _pair_record(row: asyncpg.Record) -> PairRecord:
    return PairRecord(
        pair_id=row["pair_id"],
        programme_id=row["programme_id"],
        round_id=row["round_id"],
        mentor=PairSide(participant_id=row["mentor_id"], business_unit=row["mentor_unit"]),
        mentee=PairSide(participant_id=row["mentee_id"], business_unit=row["mentee_unit"]),
        mentor_trained=row["mentor_trained"],
        status=PairStatus(row["status"]),
        score=row["score"],
        explanation=PairExplanation.model_validate_json(row["explanation"]),
        proposed_at=row["proposed_at"],
        decided_at=row["decided_at"],
    )


def _stored_pair(row: asyncpg.Record) -> StoredPair:
    return StoredPair(row["pair_id"], row["mentor_id"], row["mentee_id"], PairStatus(row["status"]))


class PostgresPairing:
    """:class:`PairingRepository` on one connection (the unit of work's, in a handler)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def programme(self, tenant_id: str, programme_id: str) -> DefineProgramme | None:
        """The tenant's programme definition, row-locked: a programme's commands apply one
        at a time. None if the tenant has no such programme (another tenant's is not seen)."""
        raw = await self._conn.fetchval(_PROGRAMME, tenant_id, programme_id)
        return None if raw is None else DefineProgramme.model_validate_json(raw)

    async def save_programme(
        self, tenant_id: str, programme_id: str, *, definition: DefineProgramme, at: datetime
    ) -> None:
        await self._conn.execute(
            _UPSERT_PROGRAMME, tenant_id, programme_id, definition.model_dump_json(), at
        )

    async def rounds_run(self, tenant_id: str, programme_id: str) -> int:
        return int(await self._conn.fetchval(_ROUNDS_RUN, tenant_id, programme_id) or 0)

    async def count_round(self, tenant_id: str, programme_id: str) -> None:
        await self._conn.execute(_COUNT_ROUND, tenant_id, programme_id)

    async def participant_statuses(
        self, tenant_id: str, programme_id: str, participant_ids: Sequence[str]
    ) -> dict[str, ParticipantStatus]:
        """The status of each of these people known in the programme (absent: never enrolled)."""
        rows = await self._conn.fetch(_STATUSES, tenant_id, programme_id, list(participant_ids))
        return {row["participant_id"]: ParticipantStatus(row["status"]) for row in rows}

    async def save_participants(
        self,
        tenant_id: str,
        programme_id: str,
        profiles: Sequence[ParticipantProfile],
        *,
        at: datetime,
    ) -> None:
        """Enrol (or re-enrol, replacing the profile) these people, in one ``executemany``."""
        await self._conn.executemany(
            _ENROL,
            [
                (
                    tenant_id,
                    programme_id,
                    person.participant_id,
                    str(person.role),
                    person.model_dump_json(),
                    at,
                )
                for person in profiles
            ],
        )

    async def set_participant_status(
        self,
        tenant_id: str,
        programme_id: str,
        participant_id: str,
        status: ParticipantStatus,
        *,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            _SET_STATUS, tenant_id, programme_id, participant_id, str(status), at
        )

    async def erase_participant(
        self, tenant_id: str, programme_id: str, participant_id: str, *, at: datetime
    ) -> None:
        """Delete the profile; only the id stays, in the pairs' history."""
        await self._conn.execute(_ERASE, tenant_id, programme_id, participant_id, at)
        await self._conn.execute(_ERASE_LINES, tenant_id, programme_id, participant_id)

    async def record_erasure(self, tenant_id: str, participant_id: str, *, at: datetime) -> bool:
        """Remember the person as erased in the tenant; False if they already were. Taken
        under the tenant's erasure lock, held until the erasure commits (see
        :mod:`binome_pairing.adapters.erasure_locks`)."""
        await erasure_locks.hold_for_erasure(self._conn, tenant_id)
        return await erasures.record_erasure(self._conn, tenant_id, participant_id, at=at)

    async def hold_off_erasures(self, tenant_ids: Sequence[str]) -> None:
        """No erasure in these tenants runs until this transaction ends (an enrolment's)."""
        await erasure_locks.hold_off_erasures(self._conn, tenant_ids)

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]:
        """Which of these people were erased in the tenant."""
        return await erasures.erased_among(self._conn, tenant_id, participant_ids)

    async def programmes_holding(self, tenant_id: str, participant_id: str) -> list[str]:
        """The tenant's programmes still holding the person (enrolled or withdrawn), in
        order, so that two erasures lock programmes in the same order."""
        rows = await self._conn.fetch(_PROGRAMMES_HOLDING, tenant_id, participant_id)
        return [row["programme_id"] for row in rows]

    async def enrolled_profiles_json(self, tenant_id: str, programme_id: str) -> list[str]:
        """Enrolled participants' profiles as stored: a round parses them in its worker."""
        rows = await self._conn.fetch(_ENROLLED, tenant_id, programme_id)
        return [row["profile"] for row in rows]

    async def job_grade(self, tenant_id: str, programme_id: str, participant_id: str) -> int | None:
        """The person's job grade in their stored profile (None: never enrolled, or erased)."""
        grade: int | None = await self._conn.fetchval(
            _JOB_GRADE, tenant_id, programme_id, participant_id
        )
        return grade

    async def save_reporting_lines(
        self, tenant_id: str, programme_id: str, lines: Sequence[ReportingLine]
    ) -> None:
        await self._conn.execute(
            _UPSERT_LINES,
            tenant_id,
            programme_id,
            [line.employee_id for line in lines],
            [line.manager_id for line in lines],
        )

    async def reporting_lines(self, tenant_id: str, programme_id: str) -> list[ReportingLine]:
        return [
            ReportingLine(employee_id=row["employee_id"], manager_id=row["manager_id"])
            for row in await self._conn.fetch(_LINES, tenant_id, programme_id)
        ]

    async def pairs_with_status(
        self, tenant_id: str, programme_id: str, statuses: Sequence[PairStatus]
    ) -> list[StoredPair]:
        rows = await self._conn.fetch(
            _PAIRS_WITH_STATUS, tenant_id, programme_id, [str(s) for s in statuses]
        )
        return [_stored_pair(row) for row in rows]

    async def active_pairs_of(
        self, tenant_id: str, programme_id: str, participant_id: str
    ) -> list[StoredPair]:
        """The person's proposed or formed pairs, row-locked."""
        statuses = [str(status) for status in ACTIVE_PAIR_STATUSES]
        rows = await self._conn.fetch(
            _ACTIVE_PAIRS_OF, tenant_id, programme_id, participant_id, statuses
        )
        return [_stored_pair(row) for row in rows]

    async def pair(self, tenant_id: str, pair_id: str) -> PairRecord | None:
        """The tenant's pair, row-locked, or None if the tenant has no such pair."""
        row = await self._conn.fetchrow(_PAIR, tenant_id, pair_id)
        return None if row is None else _pair_record(row)

    async def add_pairs(self, tenant_id: str, pairs: Sequence[PairRecord]) -> None:
        await self._conn.executemany(
            _INSERT_PAIR, [(tenant_id, *pair_columns(pair)) for pair in pairs]
        )

    async def decide_pair(
        self, tenant_id: str, pair_id: str, status: PairStatus, *, at: datetime
    ) -> None:
        await self._conn.execute(_DECIDE, tenant_id, pair_id, str(status), at)

    async def supersede_proposals(self, tenant_id: str, programme_id: str, *, at: datetime) -> None:
        await self._conn.execute(_SUPERSEDE_PROPOSALS, tenant_id, programme_id, at)
