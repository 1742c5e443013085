"""Sending planned deliveries, one scheduled job each: claim → send → record.

The durable scheduler runs a delivery's job once across replicas: the job row stays locked
(``FOR UPDATE SKIP LOCKED``) while it runs, so no other replica can take it; a process that
dies releases it and the job runs again. The scheduler runs a whole batch of jobs in one
transaction, so the delivery's own state is written on a connection of its own, committed at
each step — otherwise a crash late in a batch would undo the records of the messages already
sent in it and send them all again.

1. *claim*: ``status = 'sending'``, ``attempts + 1``, committed before anything leaves;
2. *send*: one SMTP transaction or one HTTP request;
3. *record*: sent / failed (with NotificationSent / NotificationFailed in the outbox, same
   transaction) or pending again with ``next_attempt_at``; the next turn's job is planned in
   the scheduler's transaction.

A job that finds its delivery still ``sending`` knows the previous attempt was interrupted
between claim and record: the message may or may not have gone. It sends again (same
Message-ID), counts it in ``in_doubt_resends`` and marks the event ``possible_duplicate``;
see docs/notifications.md for why at-least-once is the chosen side of that window.

Sending is latency-bound (an SMTP transaction is several round trips), so a dispatcher may
keep several sends in flight (``delivery_concurrency`` in
:class:`~binome_notifications.bootstrap.NotificationsSettings`, default 1: one at a time).
The job then only claims, and a background task sends and records. Claiming commits, in
the same statement, the delivery's next turn a grace period later: if this process dies
mid-send, that turn finds the delivery still ``sending`` and resends it in doubt, exactly as
a re-run job does in the sequential mode. The record step calls that turn off (or moves it
to the retry time) without waiting on a row a running batch holds (``SKIP LOCKED``); a turn
that runs while its send is still in flight here just looks again later.

Records of sends that finish close together are committed together (one transaction for
all the sends waiting to be recorded, a group commit). A send keeps its sending slot until
its record is committed, so at most ``delivery_concurrency`` deliveries are ever sent but
not recorded: the crash worst case is unchanged. A group that fails to commit is recorded
again one delivery per transaction, so one bad row cannot hold the others back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from binome_notifications.adapters import deliveries
from binome_notifications.adapters.deliveries import Settlement, StoredDelivery
from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.domain.policy import AttemptOutcome, RateLimiter, RetryPolicy
from binome_notifications.domain.sending import (
    After,
    Before,
    Delivered,
    DeliveryStatus,
    GiveUp,
    RetryAt,
    after_attempt,
    before_attempt,
)
from binome_shared import failpoints
from binome_shared.contracts.base import Envelope, Event
from binome_shared.contracts.notifications_events import NotificationFailed, NotificationSent
from binome_shared.messaging.consumer import UnitOfWork
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.scheduler import Job, schedule

logger = logging.getLogger(__name__)

_EVENT_NAMESPACE = uuid.UUID("0b7f5d52-8a3e-4c55-9a53-2f4f0d6f1c3a")
_MIN_DEFERRAL = timedelta(seconds=1)
_DEFAULT_IN_FLIGHT_GRACE = timedelta(minutes=2)

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


@dataclass(slots=True, kw_only=True)
class _Finished:
    """A send that returned, waiting for its record to be committed."""

    delivery: StoredDelivery
    step: After
    attempt: int
    outcome: AttemptOutcome
    turn: int
    now: datetime
    recorded: asyncio.Future[None]


class EmailSender(Protocol):
    """One SMTP attempt (see :class:`~binome_notifications.adapters.smtp.SmtpEmailSender`)."""

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures."""
        ...


class WebhookPoster(Protocol):
    """One HTTP attempt (see :class:`~binome_notifications.adapters.webhooks.WebhookSender`)."""

    async def send(self, webhook: OutgoingWebhook) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures."""
        ...


PoolFactory = Callable[[], Awaitable[asyncpg.Pool]]


class Dispatcher:
    """The ``deliver`` job: sends one delivery and records what happened."""

    def __init__(
        self,
        *,
        pool_factory: PoolFactory,
        outbox: Outbox,
        source: str,
        email_sender: Callable[[], EmailSender],
        webhook_sender: Callable[[], Awaitable[WebhookPoster]],
        retry_policy: RetryPolicy,
        per_recipient: RateLimiter,
        per_receiver: RateLimiter,
        rng: random.Random | None = None,
        concurrency: int = 1,
        in_flight_grace: timedelta = _DEFAULT_IN_FLIGHT_GRACE,
    ) -> None:
        self._pool_factory = pool_factory
        self._pool: asyncpg.Pool | None = None
        self._outbox = outbox
        self._source = source
        self._email_sender = email_sender
        self._webhook_sender = webhook_sender
        self._retry_policy = retry_policy
        self._per_recipient = per_recipient
        self._per_receiver = per_receiver
        self._rng = rng or random.Random()
        if concurrency < 1:
            raise ValueError("delivery concurrency must be at least 1")
        self._concurrency = concurrency
        self._in_flight_grace = in_flight_grace
        self._slots: asyncio.Semaphore | None = None
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._to_record: list[_Finished] = []
        self._recorder: asyncio.Task[None] | None = None

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await self._pool_factory()
        return self._pool

    async def run_job(self, job: Job, uow: UnitOfWork) -> None:
        """Send the delivery named in ``job``'s payload, or plan its next turn."""
        key = str(job.payload["delivery_key"])
        turn = int(job.payload.get("turn", 1))
        now = uow.now
        pool = await self._connections()
        if key in self._in_flight:  # still being sent by this process: not in doubt
            await _plan_turn(uow, key, turn + 1, now + self._in_flight_grace)
            return
        async with pool.acquire() as conn:
            delivery = await deliveries.load(conn, key)
        decision = before_attempt(delivery.state if delivery else None, now=now)
        if decision is Before.NOTHING or delivery is None:
            return
        if decision is Before.NOT_YET:
            assert delivery.state.next_attempt_at is not None
            await _plan_turn(uow, key, turn + 1, delivery.state.next_attempt_at)
            return
        if decision is Before.EXPIRE:
            async with pool.acquire() as conn:
                await deliveries.expire(conn, key, now=now)
            logger.info("delivery expired kind=%s key=%s", delivery.kind.value, key)
            return
        message = delivery.message
        if message is None:  # content is dropped only when a delivery ends
            return
        limiter, bucket = self._bucket(message)
        decision_now = limiter.acquire(bucket, now)
        if not decision_now.allowed:
            retry_at = max(decision_now.retry_at, now + _MIN_DEFERRAL)
            logger.info("delivery deferred by rate limit kind=%s key=%s", delivery.kind.value, key)
            await _plan_turn(uow, key, turn + 1, retry_at)
            return
        in_doubt = decision is Before.RESEND_IN_DOUBT
        if in_doubt:
            logger.warning(
                "delivery interrupted mid-send, sending again kind=%s key=%s",
                delivery.kind.value,
                key,
            )
        if self._concurrency > 1:
            await self._send_in_background(
                delivery, message, key=key, turn=turn, now=now, in_doubt=in_doubt
            )
        else:
            await self._send_in_turn(
                uow, delivery, message, key=key, turn=turn, now=now, in_doubt=in_doubt
            )

    async def _send_in_turn(
        self,
        uow: UnitOfWork,
        delivery: StoredDelivery,
        message: OutgoingEmail | OutgoingWebhook,
        *,
        key: str,
        turn: int,
        now: datetime,
        in_doubt: bool,
    ) -> None:
        """Claim, send and record before the next job (one send at a time)."""
        pool = await self._connections()
        async with pool.acquire() as conn:
            attempt = await deliveries.claim(conn, key, now=now, in_doubt=in_doubt)
        if attempt is None:
            return
        failpoints.crash_if_armed("notifications.after_claim")
        outcome = await self._send(message)
        if outcome.delivered:
            failpoints.crash_if_armed(
                "notifications.after_smtp_accept"
                if isinstance(message, OutgoingEmail)
                else "notifications.after_webhook_accept"
            )
        step = after_attempt(
            outcome, attempts=attempt, now=now, policy=self._retry_policy, rng=self._rng
        )
        async with pool.acquire() as conn, conn.transaction():
            await self._record(conn, delivery, step, attempt=attempt, outcome=outcome, now=now)
        if isinstance(step, RetryAt):
            await _plan_turn(uow, key, turn + 1, step.at)

    async def _send_in_background(
        self,
        delivery: StoredDelivery,
        message: OutgoingEmail | OutgoingWebhook,
        *,
        key: str,
        turn: int,
        now: datetime,
        in_doubt: bool,
    ) -> None:
        """Claim (with the recovery turn) now; send and record in a background task."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        slots = self._slots
        await slots.acquire()
        try:
            pool = await self._connections()
            async with pool.acquire() as conn:
                attempt = await deliveries.claim_with_recovery_turn(
                    conn,
                    key,
                    now=now,
                    in_doubt=in_doubt,
                    turn=turn + 1,
                    recovery_at=now + self._in_flight_grace,
                )
        except BaseException:
            slots.release()
            raise
        if attempt is None:
            slots.release()
            return
        failpoints.crash_if_armed("notifications.after_claim")
        self._in_flight[key] = asyncio.create_task(
            self._finish(delivery, message, attempt=attempt, turn=turn, now=now),
            name=f"deliver:{key}",
        )

    async def _finish(
        self,
        delivery: StoredDelivery,
        message: OutgoingEmail | OutgoingWebhook,
        *,
        attempt: int,
        turn: int,
        now: datetime,
    ) -> None:
        key = delivery.delivery_key
        try:
            outcome = await self._send(message)
            if outcome.delivered:
                failpoints.crash_if_armed(
                    "notifications.after_smtp_accept"
                    if isinstance(message, OutgoingEmail)
                    else "notifications.after_webhook_accept"
                )
            step = after_attempt(
                outcome, attempts=attempt, now=now, policy=self._retry_policy, rng=self._rng
            )
            finished = _Finished(
                delivery=delivery,
                step=step,
                attempt=attempt,
                outcome=outcome,
                turn=turn,
                now=now,
                recorded=asyncio.get_running_loop().create_future(),
            )
            self._to_record.append(finished)
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_finished(), name="record")
            await finished.recorded
        except Exception:  # the recovery turn sends it again (in doubt): nothing is lost
            logger.exception("background delivery failed kind=%s key=%s", delivery.kind.value, key)
        finally:
            self._in_flight.pop(key, None)
            if self._slots is not None:
                self._slots.release()

    async def _record_finished(self) -> None:
        """Commit the waiting records, a group at a time, until none is left."""
        while self._to_record:
            group, self._to_record = self._to_record, []
            try:
                await self._record_group(group)
            except Exception:
                logger.warning("group record failed, recording one by one size=%d", len(group))
                for finished in group:
                    try:
                        await self._record_group([finished])
                    except Exception as error:
                        _resolve(finished, error)
                    else:
                        _resolve(finished, None)
            else:
                for finished in group:
                    _resolve(finished, None)

    async def _record_group(self, group: list[_Finished]) -> None:
        """Record every send of ``group`` in one transaction, events included."""
        settled = [
            (finished, finished.step)
            for finished in group
            if isinstance(finished.step, Delivered | GiveUp)
        ]
        pool = await self._connections()
        async with pool.acquire() as conn, conn.transaction():
            resends = await deliveries.settle_many(
                conn,
                [
                    Settlement(
                        delivery_key=finished.delivery.delivery_key,
                        status=DeliveryStatus.FAILED
                        if isinstance(step, GiveUp)
                        else DeliveryStatus.SENT,
                        finished_at=finished.now,
                        outcome=step.reason
                        if isinstance(step, GiveUp)
                        else finished.outcome.detail,
                    )
                    for finished, step in settled
                ],
            )
            events = [
                self._settlement_event(
                    finished.delivery,
                    step,
                    attempt=finished.attempt,
                    resends=resends[finished.delivery.delivery_key],
                    now=finished.now,
                )
                for finished, step in settled
                if finished.delivery.delivery_key in resends
            ]
            for finished, step in settled:
                if isinstance(step, GiveUp):
                    _log_failure(finished.delivery, step, attempt=finished.attempt)
            await self._outbox.add_many(conn, events)
            for finished in group:
                if isinstance(finished.step, RetryAt):
                    key = finished.delivery.delivery_key
                    await deliveries.postpone(
                        conn, key, retry_at=finished.step.at, outcome=finished.outcome.detail
                    )
                    recovery_turn = deliveries.job_id(key, finished.turn + 1)
                    await conn.execute(_MOVE_TURN, recovery_turn, finished.step.at)
            if settled:
                await conn.execute(
                    _CALL_OFF_TURNS,
                    [
                        deliveries.job_id(finished.delivery.delivery_key, finished.turn + 1)
                        for finished, _ in settled
                    ],
                    [finished.now for finished, _ in settled],
                )

    async def _record(
        self,
        conn: asyncpg.Connection,
        delivery: StoredDelivery,
        step: After,
        *,
        attempt: int,
        outcome: AttemptOutcome,
        now: datetime,
    ) -> None:
        """Settle or postpone the delivery; the event goes out with the settlement."""
        key = delivery.delivery_key
        match step:
            case Delivered() | GiveUp():
                status, detail = (
                    (DeliveryStatus.FAILED, step.reason)
                    if isinstance(step, GiveUp)
                    else (DeliveryStatus.SENT, outcome.detail)
                )
                resends = await deliveries.settle(conn, key, status=status, now=now, outcome=detail)
                if resends is not None:
                    await self._outbox.add(
                        conn,
                        self._settlement_event(
                            delivery, step, attempt=attempt, resends=resends, now=now
                        ),
                    )
                if isinstance(step, GiveUp):
                    _log_failure(delivery, step, attempt=attempt)
            case RetryAt(at=retry_at):
                await deliveries.postpone(conn, key, retry_at=retry_at, outcome=outcome.detail)

    def _settlement_event(
        self,
        delivery: StoredDelivery,
        step: Delivered | GiveUp,
        *,
        attempt: int,
        resends: int,
        now: datetime,
    ) -> Envelope[Event]:
        """NotificationSent or NotificationFailed for a delivery that just ended."""
        key = delivery.delivery_key
        if isinstance(step, GiveUp):
            return self._envelope(
                delivery,
                NotificationFailed(
                    delivery_key=key,
                    kind=delivery.kind.value,
                    channel=delivery.channel,
                    recipient_id=delivery.recipient_id,
                    subject_id=delivery.subject_id,
                    attempts=attempt,
                    permanent=step.permanent,
                    reason=step.reason,
                ),
                now=now,
                outcome="failed",
            )
        return self._envelope(
            delivery,
            NotificationSent(
                delivery_key=key,
                kind=delivery.kind.value,
                channel=delivery.channel,
                recipient_id=delivery.recipient_id,
                subject_id=delivery.subject_id,
                attempts=attempt,
                possible_duplicate=resends > 0,
            ),
            now=now,
            outcome="sent",
        )

    def _bucket(self, message: OutgoingEmail | OutgoingWebhook) -> tuple[RateLimiter, str]:
        if isinstance(message, OutgoingWebhook):
            return self._per_receiver, message.receiver_id
        return self._per_recipient, message.to_address.lower()

    async def _send(self, message: OutgoingEmail | OutgoingWebhook) -> AttemptOutcome:
        if isinstance(message, OutgoingWebhook):
            return await (await self._webhook_sender()).send(message)
        return await self._email_sender().send(message)

    def _envelope(
        self, delivery: StoredDelivery, event: Event, *, now: datetime, outcome: str
    ) -> Envelope[Event]:
        return Envelope[Event](
            id=uuid.uuid5(_EVENT_NAMESPACE, f"{delivery.delivery_key}:{outcome}"),
            source=self._source,
            time=now,
            tenant_id=delivery.tenant_id or "unknown",
            programme_id=delivery.programme_id,
            correlation_id=delivery.correlation_id,
            causation_id=delivery.caused_by,
            subject=delivery.subject_id,
            schema_version=type(event).schema_version,
            data=event,
        )

    async def drain(self) -> None:
        """Wait until the sends in flight have finished and been recorded."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def close(self) -> None:
        """Let the sends in flight finish and record, then close the own connections."""
        await self.drain()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _resolve(finished: _Finished, error: Exception | None) -> None:
    if finished.recorded.done():
        return
    if error is None:
        finished.recorded.set_result(None)
    else:
        finished.recorded.set_exception(error)


def _log_failure(delivery: StoredDelivery, step: GiveUp, *, attempt: int) -> None:
    logger.warning(
        "delivery failed kind=%s key=%s permanent=%s attempts=%d",
        delivery.kind.value,
        delivery.delivery_key,
        step.permanent,
        attempt,
    )


async def _plan_turn(uow: UnitOfWork, key: str, turn: int, due_at: datetime) -> None:
    await schedule(
        uow.conn,
        job_id=deliveries.job_id(key, turn),
        job_type=deliveries.DELIVER_JOB,
        due_at=due_at,
        payload={"delivery_key": key, "turn": turn},
    )
