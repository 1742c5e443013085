"""The delivery ledger as the sending job sees it: a delivery read, claimed before each send,
then settled, postponed or expired; and the delivery's next turn moved or called off.

Each call is one statement: the sending job commits each step on a connection of its own (see
:mod:`binome_notifications.sending`). A delivery is always read and written within its tenant
(its job's payload names it).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from binome_notifications.adapters.deliveries import WITHDRAWN
from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.adapters.stored_messages import outgoing_from_stored
from binome_notifications.domain.directory import HR_CONTACT_ID_PREFIX
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.sending import (
    DELIVER_JOB,
    DeliveryState,
    DeliveryStatus,
    turn_job_id,
    turn_payload,
)
from binome_shared.db import erasures
from binome_shared.db.erasures import ERASED_PARTICIPANT

logger = logging.getLogger(__name__)


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
# The claim looks at the erasure register in the statement that claims, so no send leaves
# for or about a person whose erasure committed first. The erasure writes its tombstone and
# withdraws what it sees in one transaction; an event about the person's pair handled at the
# same moment (another partition) may plan a delivery that transaction never saw. That
# delivery is committed before its job can run, so either the erasure committed before this
# statement began, and this statement sees the tombstone (or the member the erasure removed
# from the pair, or the HR contact it cleared) and withdraws the delivery instead, or it had
# not, and the send is ordered before the erasure like any earlier one (its content is
# dropped when it is recorded, a retry is withdrawn here). Withdrawn like the erasure
# withdraws (cancelled, content dropped, the same outcome), never sent. No statement of its
# own and no lock: the budget of the sending path stays one statement per step.
_NAMES_ERASED = f"""
    {erasures.any_erased_condition("d.tenant_id", "d.recipient_id, pair.mentor_id, pair.mentee_id")}
    OR (pair.pair_id IS NOT NULL AND (pair.mentor_id IS NULL OR pair.mentee_id IS NULL))
    OR (d.recipient_id = '{HR_CONTACT_ID_PREFIX}' || d.programme_id
        AND programme.programme_id IS NOT NULL AND programme.contact_email IS NULL)
"""
_CLAIM = f"""
WITH due AS (
    SELECT d.tenant_id, d.delivery_key, ({_NAMES_ERASED}) AS withdrawn
    FROM deliveries AS d
    LEFT JOIN pairs AS pair ON pair.tenant_id = d.tenant_id AND pair.pair_id = d.pair_id
    LEFT JOIN programmes AS programme
        ON programme.tenant_id = d.tenant_id AND programme.programme_id = d.programme_id
    WHERE d.tenant_id = $1 AND d.delivery_key = $2 AND d.status IN ('pending', 'sending')
)
UPDATE deliveries AS d
SET status = CASE WHEN due.withdrawn THEN 'cancelled' ELSE 'sending' END,
    attempts = d.attempts + CASE WHEN due.withdrawn THEN 0 ELSE 1 END,
    last_attempt_at = CASE WHEN due.withdrawn THEN d.last_attempt_at ELSE $3 END,
    in_doubt_resends = d.in_doubt_resends + CASE WHEN due.withdrawn THEN 0 ELSE $4::int END,
    finished_at = CASE WHEN due.withdrawn THEN $3 ELSE d.finished_at END,
    next_attempt_at = CASE WHEN due.withdrawn THEN NULL ELSE d.next_attempt_at END,
    message = CASE WHEN due.withdrawn THEN NULL ELSE d.message END,
    last_outcome = CASE WHEN due.withdrawn THEN $5 ELSE d.last_outcome END
FROM due
WHERE d.tenant_id = due.tenant_id AND d.delivery_key = due.delivery_key
  AND d.status IN ('pending', 'sending')
RETURNING d.attempts, due.withdrawn
"""
# One statement, so atomic without a transaction: the attempt and its recovery turn (the
# delivery's next job, a grace period later) are committed together or not at all; a
# withdrawn delivery gets no recovery turn.
_CLAIM_WITH_RECOVERY_TURN = f"""
WITH claimed AS ({_CLAIM}), recovery_turn AS (
    INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
    SELECT $6, $7, $8, $9::jsonb FROM claimed WHERE NOT claimed.withdrawn
    ON CONFLICT (job_id) DO NOTHING
)
SELECT attempts, withdrawn FROM claimed
"""
# What the racing event wrote about the pair, besides its deliveries, that the erasure did not
# see: the erased member's id in the pair, and the session revisions (their place is free
# text). Done as the erasure does it (the id cleared, the sessions deleted), in a statement of
# its own after the withdrawal committed: only when a claim withdraws, so a normal send costs
# nothing more, and holding no delivery row meanwhile, so it never waits in a cycle with a
# consumer batch that holds the pair.
_FORGET_ERASED_IN_PAIR = f"""
WITH cleared AS (
    UPDATE pairs AS pair SET
        mentor_id = CASE WHEN {erasures.any_erased_condition("pair.tenant_id", "pair.mentor_id")}
                         THEN NULL ELSE pair.mentor_id END,
        mentee_id = CASE WHEN {erasures.any_erased_condition("pair.tenant_id", "pair.mentee_id")}
                         THEN NULL ELSE pair.mentee_id END
    FROM deliveries AS d
    WHERE d.tenant_id = $1 AND d.delivery_key = $2
      AND pair.tenant_id = d.tenant_id AND pair.pair_id = d.pair_id
      AND {erasures.any_erased_condition("pair.tenant_id", "pair.mentor_id, pair.mentee_id")}
    RETURNING pair.tenant_id, pair.pair_id
)
DELETE FROM sessions AS s
USING deliveries AS d LEFT JOIN pairs AS pair
    ON pair.tenant_id = d.tenant_id AND pair.pair_id = d.pair_id
WHERE d.tenant_id = $1 AND d.delivery_key = $2
  AND s.tenant_id = d.tenant_id AND s.pair_id = d.pair_id
  AND (EXISTS (SELECT FROM cleared)
       OR pair.mentor_id IS NULL OR pair.mentee_id IS NULL)
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
        claimed = await self._conn.fetchrow(
            _CLAIM, tenant_id, delivery_key, now, int(in_doubt), WITHDRAWN
        )
        return await self._attempt_number(claimed, tenant_id, delivery_key)

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
        claimed = await self._conn.fetchrow(
            _CLAIM_WITH_RECOVERY_TURN,
            tenant_id,
            delivery_key,
            now,
            int(in_doubt),
            WITHDRAWN,
            turn_job_id(delivery_key, turn),
            DELIVER_JOB,
            recovery_at,
            json.dumps(turn_payload(tenant_id, delivery_key, turn)),
        )
        return await self._attempt_number(claimed, tenant_id, delivery_key)

    async def _attempt_number(self, claimed: Any, tenant_id: str, delivery_key: str) -> int | None:
        """The attempt just claimed; None when the delivery had ended, was erased, or was
        withdrawn by the claim because it is for or about an erased person (then what the
        racing event wrote about the pair goes as the erasure would have taken it)."""
        if claimed is None:
            return None
        if claimed["withdrawn"]:
            logger.info(
                "%s: delivery withdrawn at send time key=%s", ERASED_PARTICIPANT, delivery_key
            )
            await self._conn.execute(_FORGET_ERASED_IN_PAIR, tenant_id, delivery_key)
            return None
        attempts: int = claimed["attempts"]
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
