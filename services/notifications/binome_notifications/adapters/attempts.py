"""The delivery ledger as the sending job sees it: a delivery read, claimed before each send,
then settled, postponed or expired; and the delivery's next turn moved or called off.

Each call is one statement: the sending job commits each step on a connection of its own (see
:mod:`binome_notifications.sending`). A delivery is always read and written within its tenant
(its job's payload names it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.adapters.stored_messages import outgoing_from_stored
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.sending import (
    DELIVER_JOB,
    DeliveryState,
    DeliveryStatus,
    turn_job_id,
    turn_payload,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDelivery:
    """A delivery as its job reads it: its state, where it goes and what it says."""

    delivery_key: str
    kind: NotificationKind
    channel: Channel
    recipient_id: str
    programme_id: str
    subject_id: str
    tenant_id: str
    caused_by: uuid.UUID
    correlation_id: uuid.UUID
    state: DeliveryState
    message: OutgoingEmail | OutgoingWebhook | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """The end of one delivery: sent or failed, when, and the last outcome's detail."""

    tenant_id: str
    delivery_key: str
    status: DeliveryStatus
    finished_at: datetime
    outcome: str


class AttemptLedger(Protocol):
    """What the sending job needs from the ledger, one committed statement per call."""

    async def delivery(self, tenant_id: str, delivery_key: str) -> StoredDelivery | None: ...

    async def claim(
        self, tenant_id: str, delivery_key: str, *, now: datetime, in_doubt: bool
    ) -> int | None: ...

    async def claim_with_recovery_turn(
        self,
        tenant_id: str,
        delivery_key: str,
        *,
        now: datetime,
        in_doubt: bool,
        turn: int,
        recovery_at: datetime,
    ) -> int | None: ...

    async def settle(self, settlement: Settlement) -> int | None: ...

    async def settle_many(self, settlements: Sequence[Settlement]) -> dict[str, int]: ...

    async def postpone(
        self, tenant_id: str, delivery_key: str, *, retry_at: datetime, outcome: str
    ) -> bool: ...

    async def expire(self, tenant_id: str, delivery_key: str, *, now: datetime) -> None: ...

    async def move_turn(self, delivery_key: str, turn: int, *, due_at: datetime) -> None: ...

    async def call_off_turns(self, turns: Sequence[tuple[str, int, datetime]]) -> None: ...


_STATE = """
SELECT delivery_key, kind, channel, recipient_id, programme_id, subject_id, tenant_id,
       caused_by, correlation_id, status, attempts, next_attempt_at, expires_at, message
FROM deliveries WHERE tenant_id = $1 AND delivery_key = $2
"""
_CLAIM = """
UPDATE deliveries
SET status = 'sending', attempts = attempts + 1, last_attempt_at = $3,
    in_doubt_resends = in_doubt_resends + $4::int
WHERE tenant_id = $1 AND delivery_key = $2 AND status IN ('pending', 'sending')
RETURNING attempts
"""
# One statement, so atomic without a transaction: the attempt and its recovery turn (the
# delivery's next job, a grace period later) are committed together or not at all.
_CLAIM_WITH_RECOVERY_TURN = f"""
WITH claimed AS ({_CLAIM}), recovery_turn AS (
    INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
    SELECT $5, $6, $7, $8::jsonb FROM claimed
    ON CONFLICT (job_id) DO NOTHING
)
SELECT attempts FROM claimed
"""
_SETTLE = """
UPDATE deliveries
SET status = $3, finished_at = $4, last_outcome = $5, next_attempt_at = NULL, message = NULL
WHERE tenant_id = $1 AND delivery_key = $2 AND status = 'sending'
RETURNING in_doubt_resends
"""
_SETTLE_MANY = """
UPDATE deliveries AS d
SET status = s.status, finished_at = s.finished_at, last_outcome = s.outcome,
    next_attempt_at = NULL, message = NULL
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
    AS s(tenant_id, delivery_key, status, finished_at, outcome)
WHERE d.tenant_id = s.tenant_id AND d.delivery_key = s.delivery_key AND d.status = 'sending'
RETURNING d.delivery_key, d.in_doubt_resends
"""
_RETRY = """
UPDATE deliveries SET status = 'pending', next_attempt_at = $3, last_outcome = $4
WHERE tenant_id = $1 AND delivery_key = $2 AND status = 'sending'
RETURNING true
"""
_EXPIRE = """
UPDATE deliveries SET status = 'expired', finished_at = $3, message = NULL
WHERE tenant_id = $1 AND delivery_key = $2 AND status IN ('pending', 'sending')
"""
# Only rows no running batch holds: a background record must never wait on the batch whose
# job is waiting for a free sending slot (the same for _CALL_OFF_TURNS below).
_MOVE_TURN = """
UPDATE scheduled_jobs SET due_at = $2
WHERE job_id = (SELECT job_id FROM scheduled_jobs
                WHERE job_id = $1 AND done_at IS NULL FOR UPDATE SKIP LOCKED)
"""
_CALL_OFF_TURNS = """
UPDATE scheduled_jobs AS j SET done_at = c.done_at, outcome = 'cancelled'
FROM unnest($1::text[], $2::timestamptz[]) AS c(job_id, done_at)
WHERE j.job_id = c.job_id
  AND j.job_id IN (SELECT job_id FROM scheduled_jobs
                   WHERE job_id = ANY($1::text[]) AND done_at IS NULL FOR UPDATE SKIP LOCKED)
"""


class PostgresAttempts:
    """:class:`AttemptLedger` on the service's schema, on the sending job's own connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def delivery(self, tenant_id: str, delivery_key: str) -> StoredDelivery | None:
        """The tenant's delivery, or None if it was erased."""
        row = await self._conn.fetchrow(_STATE, tenant_id, delivery_key)
        return None if row is None else _stored_delivery(row)

    async def claim(
        self, tenant_id: str, delivery_key: str, *, now: datetime, in_doubt: bool
    ) -> int | None:
        """Mark an attempt as begun (committed before the send); returns its number, or None
        if the delivery ended or was erased meanwhile."""
        attempts: int | None = await self._conn.fetchval(
            _CLAIM, tenant_id, delivery_key, now, int(in_doubt)
        )
        return attempts

    async def claim_with_recovery_turn(
        self,
        tenant_id: str,
        delivery_key: str,
        *,
        now: datetime,
        in_doubt: bool,
        turn: int,
        recovery_at: datetime,
    ) -> int | None:
        """:meth:`claim`, and plan the delivery's ``turn``-th job at ``recovery_at`` in the
        same statement; None if the delivery ended or was erased."""
        attempts: int | None = await self._conn.fetchval(
            _CLAIM_WITH_RECOVERY_TURN,
            tenant_id,
            delivery_key,
            now,
            int(in_doubt),
            turn_job_id(delivery_key, turn),
            DELIVER_JOB,
            recovery_at,
            json.dumps(turn_payload(tenant_id, delivery_key, turn)),
        )
        return attempts

    async def settle(self, settlement: Settlement) -> int | None:
        """Record the end of a delivery (sent or failed) and drop its content; returns how
        many attempts were in-doubt resends, or None if the delivery was erased meanwhile."""
        resends: int | None = await self._conn.fetchval(
            _SETTLE,
            settlement.tenant_id,
            settlement.delivery_key,
            settlement.status.value,
            settlement.finished_at,
            settlement.outcome,
        )
        return resends

    async def settle_many(self, settlements: Sequence[Settlement]) -> dict[str, int]:
        """:meth:`settle` for several deliveries in one statement; per delivery still being
        sent, how many of its attempts were in-doubt resends (erased ones are left out)."""
        if not settlements:
            return {}
        rows = await self._conn.fetch(
            _SETTLE_MANY,
            [settlement.tenant_id for settlement in settlements],
            [settlement.delivery_key for settlement in settlements],
            [settlement.status.value for settlement in settlements],
            [settlement.finished_at for settlement in settlements],
            [settlement.outcome for settlement in settlements],
        )
        return {row["delivery_key"]: row["in_doubt_resends"] for row in rows}

    async def postpone(
        self, tenant_id: str, delivery_key: str, *, retry_at: datetime, outcome: str
    ) -> bool:
        """Record a transient failure; the delivery is pending again from ``retry_at``."""
        return bool(await self._conn.fetchval(_RETRY, tenant_id, delivery_key, retry_at, outcome))

    async def expire(self, tenant_id: str, delivery_key: str, *, now: datetime) -> None:
        """A reminder whose session already began: never send it."""
        await self._conn.execute(_EXPIRE, tenant_id, delivery_key, now)

    async def move_turn(self, delivery_key: str, turn: int, *, due_at: datetime) -> None:
        """Move the delivery's ``turn``-th job (its recovery turn) to ``due_at``."""
        await self._conn.execute(_MOVE_TURN, turn_job_id(delivery_key, turn), due_at)

    async def call_off_turns(self, turns: Sequence[tuple[str, int, datetime]]) -> None:
        """Mark these (delivery key, turn, when) jobs done: their deliveries ended."""
        if turns:
            await self._conn.execute(
                _CALL_OFF_TURNS,
                [turn_job_id(key, turn) for key, turn, _ in turns],
                [done_at for _, _, done_at in turns],
            )


def _stored_delivery(row: Any) -> StoredDelivery:
    raw_message = row["message"]
    return StoredDelivery(
        delivery_key=row["delivery_key"],
        kind=NotificationKind(row["kind"]),
        channel=Channel(row["channel"]),
        recipient_id=row["recipient_id"],
        programme_id=row["programme_id"],
        subject_id=row["subject_id"],
        tenant_id=row["tenant_id"],
        caused_by=row["caused_by"],
        correlation_id=row["correlation_id"] or row["caused_by"],
        state=DeliveryState(
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            expires_at=row["expires_at"],
        ),
        message=None if raw_message is None else outgoing_from_stored(json.loads(raw_message)),
    )
