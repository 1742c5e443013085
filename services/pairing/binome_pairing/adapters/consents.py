"""Storage of participant consent: the deadline and answers of each pair put to its members.

The pair's status stays in ``pairs`` (:class:`~binome_pairing.adapters.repository.PostgresPairing`
changes it); this table holds what only consent needs. Every statement but the deadline sweep
names the tenant first; the sweep reads every tenant's overdue pairs, each returned with its
tenant, so that each is then handled within it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from binome_pairing.domain.consent import Answer, PairConsent


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    """What is stored of a pair's consent besides the pair itself."""

    respond_by: datetime
    mentor_answer: Answer | None
    mentee_answer: Answer | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OverdueConsent:
    """A pair whose answers were due and that was not settled yet, in its tenant."""

    tenant_id: str
    programme_id: str
    pair_id: str


class ConsentRepository(Protocol):
    """What consent needs from storage (Postgres in production, a fake in unit tests)."""

    async def ask(
        self, tenant_id: str, pair_ids: Sequence[str], *, respond_by: datetime, at: datetime
    ) -> None: ...

    async def consent(self, tenant_id: str, pair_id: str) -> ConsentRecord | None: ...

    async def save(self, tenant_id: str, consent: PairConsent, *, at: datetime) -> None: ...

    async def overdue(self, now: datetime, *, limit: int) -> list[OverdueConsent]: ...

    async def settle(self, tenant_id: str, pair_id: str, *, at: datetime) -> None: ...


_ASK = """
INSERT INTO pair_consents (tenant_id, pair_id, asked_at, respond_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, pair_id) DO UPDATE
    SET asked_at = EXCLUDED.asked_at, respond_by = EXCLUDED.respond_by
"""
_CONSENT = """
SELECT respond_by, mentor_answer, mentee_answer FROM pair_consents
WHERE tenant_id = $1 AND pair_id = $2
"""
# An answer's time is the first time it was given: a repeated answer keeps it.
_SAVE = """
UPDATE pair_consents SET
    mentor_answered_at = CASE WHEN mentor_answer IS DISTINCT FROM $3 THEN $5
                              ELSE mentor_answered_at END,
    mentee_answered_at = CASE WHEN mentee_answer IS DISTINCT FROM $4 THEN $5
                              ELSE mentee_answered_at END,
    mentor_answer = $3, mentee_answer = $4,
    settled_at = CASE WHEN $6 THEN coalesce(settled_at, $5) ELSE NULL END
WHERE tenant_id = $1 AND pair_id = $2
"""
_OVERDUE = """
SELECT c.tenant_id, p.programme_id, c.pair_id
FROM pair_consents c JOIN pairs p ON p.tenant_id = c.tenant_id AND p.pair_id = c.pair_id
WHERE c.settled_at IS NULL AND c.respond_by <= $1
ORDER BY c.tenant_id, p.programme_id, c.pair_id
LIMIT $2
"""
_SETTLE = """
UPDATE pair_consents SET settled_at = coalesce(settled_at, $3)
WHERE tenant_id = $1 AND pair_id = $2
"""


def _answer(value: str | None) -> Answer | None:
    return None if value is None else Answer(value)


class PostgresConsents:
    """:class:`ConsentRepository` on one connection (the unit of work's)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def ask(
        self, tenant_id: str, pair_ids: Sequence[str], *, respond_by: datetime, at: datetime
    ) -> None:
        """Open the consent of these pairs, due by ``respond_by`` (one ``executemany``)."""
        await self._conn.executemany(
            _ASK, [(tenant_id, pair_id, at, respond_by) for pair_id in pair_ids]
        )

    async def consent(self, tenant_id: str, pair_id: str) -> ConsentRecord | None:
        """The tenant's pair's deadline and answers (None: never put to its members)."""
        row = await self._conn.fetchrow(_CONSENT, tenant_id, pair_id)
        if row is None:
            return None
        return ConsentRecord(
            respond_by=row["respond_by"],
            mentor_answer=_answer(row["mentor_answer"]),
            mentee_answer=_answer(row["mentee_answer"]),
        )

    async def save(self, tenant_id: str, consent: PairConsent, *, at: datetime) -> None:
        """Record the answers; a pair no longer awaiting them is settled."""
        await self._conn.execute(
            _SAVE,
            tenant_id,
            consent.pair_id,
            None if consent.mentor_answer is None else str(consent.mentor_answer),
            None if consent.mentee_answer is None else str(consent.mentee_answer),
            at,
            consent.settled,
        )

    async def overdue(self, now: datetime, *, limit: int) -> list[OverdueConsent]:
        """Every tenant's unsettled consents due by ``now``, by tenant and programme."""
        rows = await self._conn.fetch(_OVERDUE, now, limit)
        return [
            OverdueConsent(
                tenant_id=row["tenant_id"], programme_id=row["programme_id"], pair_id=row["pair_id"]
            )
            for row in rows
        ]

    async def settle(self, tenant_id: str, pair_id: str, *, at: datetime) -> None:
        """Mark a pair that no longer awaits answers (ended otherwise) as settled."""
        await self._conn.execute(_SETTLE, tenant_id, pair_id, at)
