"""The ``deliver`` job: one delivery's turn, from the ledger's state to a claimed attempt.

The durable scheduler runs a delivery's job once across replicas: the job row stays locked
(``FOR UPDATE SKIP LOCKED``) while it runs, so no other replica can take it; a process that
dies releases it and the job runs again. The scheduler runs a whole batch of jobs in one
transaction, so the delivery's own state is written on a connection of its own, committed at
each step — otherwise a crash late in a batch would undo the records of the messages already
sent in it and send them all again.

1. *claim*: ``status = 'sending'``, ``attempts + 1``, committed before anything leaves;
2. *send*: one SMTP transaction or one HTTP request (:mod:`.channels`);
3. *record*: sent / failed (with NotificationSent / NotificationFailed in the outbox, same
   transaction) or pending again with ``next_attempt_at`` (:mod:`.recording`); the next
   turn's job is planned in the scheduler's transaction.

A job that finds its delivery still ``sending`` knows the previous attempt was interrupted
between claim and record: the message may or may not have gone. It sends again (same
Message-ID), counts it in ``in_doubt_resends`` and marks the event ``possible_duplicate``;
see docs/notifications.md for why at-least-once is the chosen side of that window.

Sending is latency-bound (an SMTP transaction is several round trips), so a dispatcher may
keep several sends in flight (``delivery_concurrency`` in
:class:`~binome_notifications.bootstrap.NotificationsSettings`, default 1: one at a time).
The job then only claims, and a background task sends and records (:mod:`.in_flight`).
Claiming commits, in the same statement, the delivery's next turn a grace period later: if
this process dies mid-send, that turn finds the delivery still ``sending`` and resends it in
doubt, exactly as a re-run job does in the sequential mode. The record step calls that turn
off (or moves it to the retry time) without waiting on a row a running batch holds
(``SKIP LOCKED``); a turn that runs while its send is still in flight here just looks again
later.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from binome_notifications.adapters.attempts import PostgresAttempts, StoredDelivery
from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.domain.policy import RateLimiter, RetryPolicy
from binome_notifications.domain.sending import (
    DELIVER_JOB,
    Before,
    RetryAt,
    after_attempt,
    before_attempt,
    turn_job_id,
    turn_payload,
)
from binome_notifications.sending.channels import Channels, EmailSender, WebhookPoster
from binome_notifications.sending.in_flight import SendsInFlight
from binome_notifications.sending.recording import (
    AttemptsFactory,
    FinishedAttempt,
    OutcomeRecorder,
)
from binome_shared import failpoints
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork
from binome_shared.messaging.scheduler import Job, schedule

logger = logging.getLogger(__name__)

_MIN_DEFERRAL = timedelta(seconds=1)
_DEFAULT_IN_FLIGHT_GRACE = timedelta(minutes=2)

PoolFactory = Callable[[], Awaitable[asyncpg.Pool]]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Due:
    """A delivery whose turn it is to be sent: what to send, and whether it is in doubt."""

    delivery: StoredDelivery
    message: OutgoingEmail | OutgoingWebhook
    turn: int
    now: datetime
    in_doubt: bool


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
        attempts: AttemptsFactory = PostgresAttempts,
    ) -> None:
        self._pool_factory = pool_factory
        self._pool: asyncpg.Pool | None = None
        self._attempts = attempts
        self._channels = Channels(
            email_sender=email_sender,
            webhook_sender=webhook_sender,
            per_recipient=per_recipient,
            per_receiver=per_receiver,
        )
        self._retry_policy = retry_policy
        self._rng = rng or random.Random()
        self._recorder = OutcomeRecorder(outbox=outbox, source=source, attempts=attempts)
        self._concurrency = concurrency
        self._in_flight = SendsInFlight(
            concurrency=concurrency, recorder=self._recorder, connections=self._connections
        )
        self._in_flight_grace = in_flight_grace

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await self._pool_factory()
        return self._pool

    async def run_job(self, job: Job, uow: UnitOfWork) -> None:
        """Send the delivery named in ``job``'s payload, or plan its next turn."""
        tenant_id = str(job.payload["tenant_id"])
        key = str(job.payload["delivery_key"])
        turn = int(job.payload.get("turn", 1))
        now = uow.now
        pool = await self._connections()
        if key in self._in_flight:  # still being sent by this process: not in doubt
            await _plan_turn(uow, tenant_id, key, turn + 1, now + self._in_flight_grace)
            return
        async with pool.acquire() as conn:
            delivery = await self._attempts(conn).delivery(tenant_id, key)
        decision = before_attempt(delivery.state if delivery else None, now=now)
        if decision is Before.NOTHING or delivery is None:
            return
        if decision is Before.NOT_YET:
            assert delivery.state.next_attempt_at is not None
            await _plan_turn(uow, tenant_id, key, turn + 1, delivery.state.next_attempt_at)
            return
        if decision is Before.EXPIRE:
            async with pool.acquire() as conn:
                await self._attempts(conn).expire(tenant_id, key, now=now)
            logger.info("delivery expired kind=%s key=%s", delivery.kind.value, key)
            return
        message = delivery.message
        if message is None:  # content is dropped only when a delivery ends
            return
        throttled = self._channels.throttle(message, now)
        if not throttled.allowed:
            retry_at = max(throttled.retry_at, now + _MIN_DEFERRAL)
            logger.info("delivery deferred by rate limit kind=%s key=%s", delivery.kind.value, key)
            await _plan_turn(uow, tenant_id, key, turn + 1, retry_at)
            return
        due = _Due(
            delivery=delivery,
            message=message,
            turn=turn,
            now=now,
            in_doubt=decision is Before.RESEND_IN_DOUBT,
        )
        if due.in_doubt:
            logger.warning(
                "delivery interrupted mid-send, sending again kind=%s key=%s",
                delivery.kind.value,
                key,
            )
        if self._concurrency > 1:
            await self._send_in_background(due)
        else:
            await self._send_in_turn(uow, due)

    async def _send_in_turn(self, uow: UnitOfWork, due: _Due) -> None:
        """Claim, send and record before the next job (one send at a time)."""
        tenant_id, key = due.delivery.tenant_id, due.delivery.delivery_key
        pool = await self._connections()
        async with pool.acquire() as conn:
            attempt = await self._attempts(conn).claim(
                tenant_id, key, now=due.now, in_doubt=due.in_doubt
            )
        if attempt is None:
            return
        failpoints.crash_if_armed("notifications.after_claim")
        finished = await self._attempt(due, attempt)
        async with pool.acquire() as conn, conn.transaction():
            await self._recorder.record(conn, finished)
        if isinstance(finished.step, RetryAt):
            await _plan_turn(uow, tenant_id, key, due.turn + 1, finished.step.at)

    async def _send_in_background(self, due: _Due) -> None:
        """Claim (with the recovery turn) now; send and record in a background task."""
        key = due.delivery.delivery_key
        await self._in_flight.take_slot()
        try:
            pool = await self._connections()
            async with pool.acquire() as conn:
                attempt = await self._attempts(conn).claim_with_recovery_turn(
                    due.delivery.tenant_id,
                    key,
                    now=due.now,
                    in_doubt=due.in_doubt,
                    turn=due.turn + 1,
                    recovery_at=due.now + self._in_flight_grace,
                )
        except BaseException:
            self._in_flight.give_back_slot()
            raise
        if attempt is None:
            self._in_flight.give_back_slot()
            return
        failpoints.crash_if_armed("notifications.after_claim")

        async def send() -> FinishedAttempt:
            return await self._attempt(due, attempt)

        self._in_flight.start(key, send)

    async def _attempt(self, due: _Due, attempt: int) -> FinishedAttempt:
        """One send, and what the retry policy makes of its outcome."""
        outcome = await self._channels.send(due.message)
        step = after_attempt(
            outcome, attempts=attempt, now=due.now, policy=self._retry_policy, rng=self._rng
        )
        return FinishedAttempt(
            delivery=due.delivery,
            step=step,
            attempt=attempt,
            outcome=outcome,
            turn=due.turn,
            now=due.now,
        )

    async def drain(self) -> None:
        """Wait until the sends in flight have finished and been recorded."""
        await self._in_flight.drain()

    async def close(self) -> None:
        """Let the sends in flight finish and record, then close the own connections."""
        await self.drain()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _plan_turn(
    uow: UnitOfWork, tenant_id: str, key: str, turn: int, due_at: datetime
) -> None:
    await schedule(
        uow.conn,
        job_id=turn_job_id(key, turn),
        job_type=DELIVER_JOB,
        due_at=due_at,
        payload=turn_payload(tenant_id, key, turn),
    )
