"""The delivery ledger, as named statements: one row per (recipient, reason), planned in the
consumer's transaction, claimed before each send and settled after it."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from binome_notifications.adapters.messages import (
    CalendarAttachment,
    OutgoingEmail,
    OutgoingWebhook,
)
from binome_notifications.domain.content import CalendarMethod
from binome_notifications.domain.model import Language, Notification, NotificationKind
from binome_notifications.domain.planning import supersedes_reminder
from binome_notifications.domain.sending import DeliveryState, DeliveryStatus
from binome_notifications.domain.triggers import Trigger

DELIVER_JOB = "deliver"
"""The scheduled job type that sends one delivery."""

# One statement: the delivery and its first job are written together, and a delivery that
# was already planned (same key) plans no second job.
_PLAN = """
WITH created AS (
    INSERT INTO deliveries (delivery_key, kind, recipient_id, programme_id, subject_id,
        caused_by, tenant_id, channel, pair_id, correlation_id, send_at, expires_at, message)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)
    ON CONFLICT (delivery_key) DO NOTHING
    RETURNING delivery_key
), first_job AS (
    INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
    SELECT $14, $15, $16, $17::jsonb FROM created
    ON CONFLICT (job_id) DO NOTHING
)
SELECT count(*) > 0 FROM created
"""
_PENDING_REMINDERS = """
SELECT delivery_key, kind, subject_id FROM deliveries
WHERE pair_id = $1 AND kind = 'session_reminder' AND status = 'pending'
"""
_CANCEL = """
UPDATE deliveries SET status = 'cancelled', finished_at = $2, message = NULL
WHERE delivery_key = ANY($1::text[]) AND status = 'pending'
"""
_ERASE = "DELETE FROM deliveries WHERE tenant_id = $1 AND recipient_id = $2"
_STATE = """
SELECT delivery_key, kind, channel, recipient_id, programme_id, subject_id, tenant_id,
       caused_by, correlation_id, status, attempts, next_attempt_at, expires_at, message
FROM deliveries WHERE delivery_key = $1
"""
_CLAIM = """
UPDATE deliveries
SET status = 'sending', attempts = attempts + 1, last_attempt_at = $2,
    in_doubt_resends = in_doubt_resends + $3::int
WHERE delivery_key = $1 AND status IN ('pending', 'sending')
RETURNING attempts
"""
_SETTLE = """
UPDATE deliveries
SET status = $2, finished_at = $3, last_outcome = $4, next_attempt_at = NULL, message = NULL
WHERE delivery_key = $1 AND status = 'sending'
RETURNING in_doubt_resends
"""
_RETRY = """
UPDATE deliveries SET status = 'pending', next_attempt_at = $2, last_outcome = $3
WHERE delivery_key = $1 AND status = 'sending'
RETURNING true
"""
# One statement, so atomic without a transaction: the attempt and its recovery turn (the
# delivery's next job, a grace period later) are committed together or not at all.
_CLAIM_WITH_RECOVERY_TURN = """
WITH claimed AS (
    UPDATE deliveries
    SET status = 'sending', attempts = attempts + 1, last_attempt_at = $2,
        in_doubt_resends = in_doubt_resends + $3::int
    WHERE delivery_key = $1 AND status IN ('pending', 'sending')
    RETURNING attempts
), recovery_turn AS (
    INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload)
    SELECT $4, $5, $6, $7::jsonb FROM claimed
    ON CONFLICT (job_id) DO NOTHING
)
SELECT attempts FROM claimed
"""
_SETTLE_MANY = """
UPDATE deliveries AS d
SET status = s.status, finished_at = s.finished_at, last_outcome = s.outcome,
    next_attempt_at = NULL, message = NULL
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
    AS s(delivery_key, status, finished_at, outcome)
WHERE d.delivery_key = s.delivery_key AND d.status = 'sending'
RETURNING d.delivery_key, d.in_doubt_resends
"""
_EXPIRE = """
UPDATE deliveries SET status = 'expired', finished_at = $2, message = NULL
WHERE delivery_key = $1 AND status IN ('pending', 'sending')
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDelivery:
    """A delivery as its job reads it: its state, where it goes and what it says."""

    delivery_key: str
    kind: NotificationKind
    channel: str
    recipient_id: str
    programme_id: str
    subject_id: str
    tenant_id: str
    caused_by: uuid.UUID
    correlation_id: uuid.UUID
    state: DeliveryState
    message: OutgoingEmail | OutgoingWebhook | None


def job_id(delivery_key: str, turn: int) -> str:
    """The scheduled job of a delivery's ``turn``-th run (each retry is a job of its own)."""
    return f"{DELIVER_JOB}:{delivery_key}:{turn}"


async def plan(
    conn: asyncpg.Connection,
    *,
    notification: Notification,
    message: OutgoingEmail | OutgoingWebhook,
    tenant_id: str,
    caused_by: uuid.UUID,
    correlation_id: uuid.UUID,
    pair_id: str | None,
    due_at: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Record a delivery and schedule its sending; a second plan for the same key does nothing
    and returns False."""
    key = notification.delivery_key
    created: bool = await conn.fetchval(
        _PLAN,
        key,
        notification.kind.value,
        notification.recipient.recipient_id,
        notification.programme_id,
        notification.subject_id,
        caused_by,
        tenant_id,
        notification.channel.value,
        pair_id,
        correlation_id,
        notification.send_at,
        expires_at,
        json.dumps(stored_message(message)),
        job_id(key, 1),
        DELIVER_JOB,
        due_at,
        json.dumps({"delivery_key": key, "turn": 1}),
    )
    return created


async def cancel_superseded_reminders(
    conn: asyncpg.Connection, *, pair_id: str, trigger: Trigger, now: datetime
) -> int:
    """Cancel the pair's pending reminders that ``trigger`` makes obsolete; how many."""
    rows = await conn.fetch(_PENDING_REMINDERS, pair_id)
    obsolete = [
        row["delivery_key"]
        for row in rows
        if supersedes_reminder(
            trigger,
            pending_kind=NotificationKind(row["kind"]),
            pending_subject_id=row["subject_id"],
        )
    ]
    if obsolete:
        await conn.execute(_CANCEL, obsolete, now)
    return len(obsolete)


async def cancel_pending_reminders_of_pair(
    conn: asyncpg.Connection, *, pair_id: str, now: datetime
) -> int:
    """Cancel every pending reminder of a pair that no longer exists; how many."""
    keys = [row["delivery_key"] for row in await conn.fetch(_PENDING_REMINDERS, pair_id)]
    if keys:
        await conn.execute(_CANCEL, keys, now)
    return len(keys)


async def erase_recipient(conn: asyncpg.Connection, *, tenant_id: str, recipient_id: str) -> int:
    """GDPR: forget every delivery to this person, pending or past; how many rows."""
    status = await conn.execute(_ERASE, tenant_id, recipient_id)
    return int(status.rsplit(" ", 1)[1])


async def load(conn: asyncpg.Connection, delivery_key: str) -> StoredDelivery | None:
    """The delivery, or None if it was erased."""
    row = await conn.fetchrow(_STATE, delivery_key)
    if row is None:
        return None
    raw_message = row["message"]
    return StoredDelivery(
        delivery_key=row["delivery_key"],
        kind=NotificationKind(row["kind"]),
        channel=row["channel"],
        recipient_id=row["recipient_id"],
        programme_id=row["programme_id"],
        subject_id=row["subject_id"],
        tenant_id=row["tenant_id"] or "",
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


async def claim(
    conn: asyncpg.Connection, delivery_key: str, *, now: datetime, in_doubt: bool
) -> int | None:
    """Mark an attempt as begun (committed before the send); returns its number, or None if
    the delivery ended or was erased meanwhile."""
    attempts: int | None = await conn.fetchval(_CLAIM, delivery_key, now, int(in_doubt))
    return attempts


async def claim_with_recovery_turn(
    conn: asyncpg.Connection,
    delivery_key: str,
    *,
    now: datetime,
    in_doubt: bool,
    turn: int,
    recovery_at: datetime,
) -> int | None:
    """:func:`claim`, and plan the delivery's ``turn``-th job at ``recovery_at`` in the same
    statement (no transaction round trips); None if the delivery ended or was erased."""
    attempts: int | None = await conn.fetchval(
        _CLAIM_WITH_RECOVERY_TURN,
        delivery_key,
        now,
        int(in_doubt),
        job_id(delivery_key, turn),
        DELIVER_JOB,
        recovery_at,
        json.dumps({"delivery_key": delivery_key, "turn": turn}),
    )
    return attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """The end of one delivery, for :func:`settle_many`."""

    delivery_key: str
    status: DeliveryStatus
    finished_at: datetime
    outcome: str


async def settle_many(conn: asyncpg.Connection, settlements: list[Settlement]) -> dict[str, int]:
    """:func:`settle` for several deliveries in one statement; per delivery still being sent,
    how many of its attempts were in-doubt resends (erased ones are left out)."""
    if not settlements:
        return {}
    rows = await conn.fetch(
        _SETTLE_MANY,
        [settlement.delivery_key for settlement in settlements],
        [settlement.status.value for settlement in settlements],
        [settlement.finished_at for settlement in settlements],
        [settlement.outcome for settlement in settlements],
    )
    return {row["delivery_key"]: row["in_doubt_resends"] for row in rows}


async def settle(
    conn: asyncpg.Connection,
    delivery_key: str,
    *,
    status: DeliveryStatus,
    now: datetime,
    outcome: str,
) -> int | None:
    """Record the end of a delivery (sent or failed) and drop its content; returns how many
    attempts were in-doubt resends, or None if the delivery was erased meanwhile."""
    resends: int | None = await conn.fetchval(_SETTLE, delivery_key, status.value, now, outcome)
    return resends


async def postpone(
    conn: asyncpg.Connection, delivery_key: str, *, retry_at: datetime, outcome: str
) -> bool:
    """Record a transient failure; the delivery is pending again from ``retry_at``."""
    return bool(await conn.fetchval(_RETRY, delivery_key, retry_at, outcome))


async def expire(conn: asyncpg.Connection, delivery_key: str, *, now: datetime) -> None:
    """A reminder whose session already began: never send it."""
    await conn.execute(_EXPIRE, delivery_key, now)


def stored_message(message: OutgoingEmail | OutgoingWebhook) -> dict[str, Any]:
    """A rendered message as JSON, kept until its delivery ends."""
    if isinstance(message, OutgoingWebhook):
        return {
            "channel": "webhook",
            "delivery_key": message.delivery_key,
            "kind": message.kind.value,
            "receiver_id": message.receiver_id,
            "body": message.body.decode(),
        }
    calendar = message.calendar
    return {
        "channel": "email",
        "delivery_key": message.delivery_key,
        "kind": message.kind.value,
        "to_address": message.to_address,
        "to_name": message.to_name,
        "language": message.language.value,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "calendar": None
        if calendar is None
        else {
            "ics": base64.b64encode(calendar.ics).decode(),
            "method": calendar.method.value,
            "filename": calendar.filename,
        },
    }


def outgoing_from_stored(stored: dict[str, Any]) -> OutgoingEmail | OutgoingWebhook:
    """The inverse of :func:`stored_message`."""
    kind = NotificationKind(stored["kind"])
    if stored["channel"] == "webhook":
        return OutgoingWebhook(
            delivery_key=stored["delivery_key"],
            kind=kind,
            receiver_id=stored["receiver_id"],
            body=stored["body"].encode(),
        )
    calendar = stored["calendar"]
    return OutgoingEmail(
        delivery_key=stored["delivery_key"],
        kind=kind,
        to_address=stored["to_address"],
        to_name=stored["to_name"],
        language=Language(stored["language"]),
        subject=stored["subject"],
        text=stored["text"],
        html=stored["html"],
        calendar=None
        if calendar is None
        else CalendarAttachment(
            ics=base64.b64decode(calendar["ics"]),
            method=CalendarMethod(calendar["method"]),
            filename=calendar["filename"],
        ),
    )
