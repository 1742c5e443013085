"""The delivery ledger as handlers see it: deliveries planned in the consumer's transaction
(one row per recipient and reason, with its first sending job), pending reminders cancelled,
a person's deliveries erased and those naming them withdrawn."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.adapters.stored_messages import stored_message
from binome_notifications.domain.directory import ErasedPerson
from binome_notifications.domain.model import Notification, NotificationKind
from binome_notifications.domain.sending import (
    DELIVER_JOB,
    DeliveryStatus,
    turn_job_id,
    turn_payload,
)
from binome_shared.db.status import rows_affected

WITHDRAWN = "withdrawn: participant erased / retiré : participant effacé"
"""The outcome recorded on a delivery withdrawn because it named an erased person."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedDelivery:
    """A rendered notification to record, with its cause and when its first job is due."""

    notification: Notification
    message: OutgoingEmail | OutgoingWebhook
    tenant_id: str
    caused_by: uuid.UUID
    correlation_id: uuid.UUID
    pair_id: str | None
    due_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingReminder:
    """A reminder not sent yet, as a later revision of its session may make it obsolete."""

    delivery_key: str
    kind: NotificationKind
    subject_id: str


class DeliveryLedger(Protocol):
    """What handlers need from the ledger (Postgres in production, a fake in unit tests)."""

    async def plan(self, deliveries: Sequence[PlannedDelivery]) -> int: ...

    async def pending_reminders(self, tenant_id: str, pair_id: str) -> list[PendingReminder]: ...

    async def cancel(
        self, tenant_id: str, delivery_keys: Sequence[str], *, now: datetime
    ) -> None: ...

    async def erase_recipient(self, *, tenant_id: str, recipient_id: str) -> int: ...

    async def withdraw_naming(
        self, *, tenant_id: str, erased: ErasedPerson, now: datetime
    ) -> int: ...


# One statement for all the deliveries of one event: each row and its first job are written
# together, and a delivery already planned (same key) plans no second job.
_PLAN = """
WITH planned AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::uuid[], $7::text[], $8::text[], $9::text[], $10::uuid[],
                         $11::timestamptz[], $12::timestamptz[], $13::text[],
                         $14::text[], $15::timestamptz[], $16::text[])
        WITH ORDINALITY AS p(delivery_key, kind, recipient_id, programme_id, subject_id,
                             caused_by, tenant_id, channel, pair_id, correlation_id, send_at,
                             expires_at, message, job_id, due_at, payload, position)
), created AS (
    INSERT INTO deliveries (delivery_key, kind, recipient_id, programme_id, subject_id,
        caused_by, tenant_id, channel, pair_id, correlation_id, send_at, expires_at, message)
    SELECT delivery_key, kind, recipient_id, programme_id, subject_id, caused_by, tenant_id,
           channel, pair_id, correlation_id, send_at, expires_at, message::jsonb
    FROM planned ORDER BY position
    ON CONFLICT (tenant_id, delivery_key) DO NOTHING
    RETURNING delivery_key
), first_jobs AS (
    INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
    SELECT planned.job_id, $17, planned.due_at, planned.payload::jsonb
    FROM planned JOIN created USING (delivery_key)
    ORDER BY planned.position
    ON CONFLICT (job_id) DO NOTHING
)
SELECT count(*) FROM created
"""
_PENDING_REMINDERS = """
SELECT delivery_key, kind, subject_id FROM deliveries
WHERE tenant_id = $1 AND pair_id = $2 AND kind = 'session_reminder' AND status = 'pending'
"""
_CANCEL = """
UPDATE deliveries SET status = 'cancelled', finished_at = $3, message = NULL
WHERE tenant_id = $1 AND delivery_key = ANY($2::text[]) AND status = 'pending'
"""
_ERASE = "DELETE FROM deliveries WHERE tenant_id = $1 AND recipient_id = $2"
# Deliveries to other people that name an erased person are withdrawn, not re-rendered: every
# message about a pair is about both members (an introduction, an invitation, a nudge, an HR
# alert about the pair), so without the person there is nothing left to say; the programme's
# summaries and reports name nobody. A delivery still 'sending' is withdrawn too, so that an
# interrupted send is not resent in doubt. The same for what went to their address as a
# programme's HR contact. Ended deliveries hold no content any more.
_WITHDRAW = """
UPDATE deliveries
SET status = 'cancelled', finished_at = $4, message = NULL, last_outcome = $5
WHERE tenant_id = $1 AND status IN ('pending', 'sending')
  AND (pair_id = ANY($2::text[]) OR lower(message->>'to_address') = ANY($3::text[]))
"""
# An SMTP server's reply may quote the address it refused.
_FORGET_OUTCOMES = """
UPDATE deliveries SET last_outcome = NULL
WHERE tenant_id = $1 AND last_outcome IS NOT NULL
  AND EXISTS (SELECT FROM unnest($2::text[]) AS address
              WHERE position(address IN lower(last_outcome)) > 0)
"""
_COUNTS = """
SELECT kind, status, count(*) AS deliveries, coalesce(sum(attempts), 0) AS attempts,
       coalesce(sum(in_doubt_resends), 0) AS in_doubt_resends
FROM deliveries WHERE tenant_id = $1 GROUP BY kind, status ORDER BY kind, status
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryCount:
    """How many deliveries of one kind stand at one status (no personal data)."""

    kind: NotificationKind
    status: DeliveryStatus
    deliveries: int
    attempts: int
    in_doubt_resends: int


class PostgresDeliveries:
    """:class:`DeliveryLedger` on the service's schema, inside the caller's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def plan(self, deliveries: Sequence[PlannedDelivery]) -> int:
        """Record deliveries and schedule their sending; a delivery planned before (same key)
        is left as it is. Returns how many were new."""
        if not deliveries:
            return 0
        notifications = [delivery.notification for delivery in deliveries]
        keys = [notification.delivery_key for notification in notifications]
        created: int = await self._conn.fetchval(
            _PLAN,
            keys,
            [notification.kind.value for notification in notifications],
            [notification.recipient.recipient_id for notification in notifications],
            [notification.programme_id for notification in notifications],
            [notification.subject_id for notification in notifications],
            [delivery.caused_by for delivery in deliveries],
            [delivery.tenant_id for delivery in deliveries],
            [notification.channel.value for notification in notifications],
            [delivery.pair_id for delivery in deliveries],
            [delivery.correlation_id for delivery in deliveries],
            [notification.send_at for notification in notifications],
            [delivery.expires_at for delivery in deliveries],
            [json.dumps(stored_message(delivery.message)) for delivery in deliveries],
            [turn_job_id(key, 1) for key in keys],
            [delivery.due_at for delivery in deliveries],
            [
                json.dumps(turn_payload(delivery.tenant_id, key, 1))
                for delivery, key in zip(deliveries, keys, strict=True)
            ],
            DELIVER_JOB,
        )
        return created

    async def pending_reminders(self, tenant_id: str, pair_id: str) -> list[PendingReminder]:
        """The tenant's pair's reminders not sent yet."""
        rows = await self._conn.fetch(_PENDING_REMINDERS, tenant_id, pair_id)
        return [
            PendingReminder(
                delivery_key=row["delivery_key"],
                kind=NotificationKind(row["kind"]),
                subject_id=row["subject_id"],
            )
            for row in rows
        ]

    async def cancel(self, tenant_id: str, delivery_keys: Sequence[str], *, now: datetime) -> None:
        """Cancel these deliveries of the tenant if they are still pending; their content is
        dropped."""
        if delivery_keys:
            await self._conn.execute(_CANCEL, tenant_id, list(delivery_keys), now)

    async def erase_recipient(self, *, tenant_id: str, recipient_id: str) -> int:
        """GDPR: forget every delivery to this person, pending or past; how many rows."""
        status = await self._conn.execute(_ERASE, tenant_id, recipient_id)
        return rows_affected(status)

    async def withdraw_naming(self, *, tenant_id: str, erased: ErasedPerson, now: datetime) -> int:
        """GDPR: withdraw the deliveries not sent yet that name an erased person (about their
        pairs, or to their address as a programme's HR contact), and forget their address in
        recorded outcomes; how many were withdrawn."""
        addresses = sorted(erased.addresses)
        status = await self._conn.execute(
            _WITHDRAW, tenant_id, list(erased.pair_ids), addresses, now, WITHDRAWN
        )
        if addresses:
            await self._conn.execute(_FORGET_OUTCOMES, tenant_id, addresses)
        return rows_affected(status)

    async def counts(self, tenant_id: str) -> list[DeliveryCount]:
        """One tenant's deliveries by kind and status, with their attempts and in-doubt
        resends (rows planned before deliveries had a tenant belong to none: not counted)."""
        return [
            DeliveryCount(
                kind=NotificationKind(row["kind"]),
                status=DeliveryStatus(row["status"]),
                deliveries=row["deliveries"],
                attempts=row["attempts"],
                in_doubt_resends=row["in_doubt_resends"],
            )
            for row in await self._conn.fetch(_COUNTS, tenant_id)
        ]
