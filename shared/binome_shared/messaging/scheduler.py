"""Durable, replica-safe scheduled work, driven by an injectable clock.

A job is a row in ``scheduled_jobs`` with a deterministic id (scheduling the same job twice
is a no-op), a type, a due time and a JSON payload. The runner claims due rows with
``FOR UPDATE SKIP LOCKED`` and runs each job's handler in the same transaction that marks it
done, so a job's effects (rows, outbox events) happen once, whichever replica runs it and
however often the process restarts. Repeating jobs move their due time forward instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from binome_shared.db.claims import PLAN_FREELY, WALK_THE_INDEX
from binome_shared.messaging.consumer import TRANSIENT_ERRORS, Clock, UnitOfWork
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.tracing import job_span

logger = logging.getLogger(__name__)

_SCHEDULE = """
INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload, repeat_every)
VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (job_id) DO NOTHING
RETURNING true
"""
_RESCHEDULE = """
INSERT INTO scheduled_jobs (job_id, job_type, due_at, payload, repeat_every)
VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (job_id) DO UPDATE
    SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0,
        last_error = NULL, done_at = NULL, outcome = NULL
"""
_CANCEL = """
UPDATE scheduled_jobs SET done_at = $2, outcome = 'cancelled'
WHERE job_id = $1 AND done_at IS NULL
RETURNING true
"""
_CLAIM_DUE = """
SELECT job_id, job_type, due_at, payload, repeat_every, attempts
FROM scheduled_jobs
WHERE done_at IS NULL AND due_at <= $1
ORDER BY due_at, job_id
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_DONE = """
UPDATE scheduled_jobs SET done_at = $2, outcome = $3, attempts = attempts + 1 WHERE job_id = $1
"""
_REPEAT = """
UPDATE scheduled_jobs SET due_at = $2, attempts = 0, last_error = NULL WHERE job_id = $1
"""
_RETRY = """
UPDATE scheduled_jobs SET due_at = $2, attempts = attempts + 1, last_error = $3 WHERE job_id = $1
"""


@dataclass(frozen=True, slots=True)
class Job:
    """A due job as its handler sees it."""

    job_id: str
    job_type: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


JobHandler = Callable[[Job, UnitOfWork], Awaitable[None]]


async def schedule(
    conn: asyncpg.Connection,
    *,
    job_id: str,
    job_type: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    repeat_every: timedelta | None = None,
    replace: bool = False,
) -> bool:
    """Plan a job in the caller's transaction; returns False if it was already planned.

    With ``replace`` an existing job (done or not) is planned again with the new time and
    payload — a rescheduled session moves its reminder.
    """
    arguments = (job_id, job_type, due_at, json.dumps(dict(payload or {})), repeat_every)
    if replace:
        await conn.execute(_RESCHEDULE, *arguments)
        return True
    return bool(await conn.fetchval(_SCHEDULE, *arguments))


async def cancel(conn: asyncpg.Connection, job_id: str, *, now: datetime) -> bool:
    """Call a job off if it has not run yet; returns whether it was pending."""
    return bool(await conn.fetchval(_CANCEL, job_id, now))


@dataclass(frozen=True, slots=True)
class SchedulerPolicy:
    batch_size: int = 200
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    poll_interval_seconds: float = 1.0


class JobRunner:
    """Runs due jobs, once each, in transactions shared with their effects."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        handlers: Mapping[str, JobHandler],
        outbox: Outbox,
        clock: Clock,
        source: str,
        policy: SchedulerPolicy | None = None,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._outbox = outbox
        self._clock = clock
        self._source = source
        self._policy = policy or SchedulerPolicy()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due jobs now (the clock jumped, or a job was planned for now)."""
        self._wake.set()

    async def run_due(self) -> int:
        """Run every job due at the clock's current time; returns how many ran."""
        total = 0
        while True:
            ran = await self._run_batch()
            total += ran
            if ran < self._policy.batch_size:
                return total

    async def _run_batch(self) -> int:
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(WALK_THE_INDEX)  # scheduled_jobs_due_order
            rows = await conn.fetch(_CLAIM_DUE, now, self._policy.batch_size)
            await conn.execute(PLAN_FREELY)  # the jobs' own queries
            for row in rows:
                await self._run_one(conn, row, now)
        return len(rows)

    async def _run_one(self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
        job = Job(
            job_id=row["job_id"],
            job_type=row["job_type"],
            due_at=row["due_at"],
            payload=json.loads(row["payload"]),
            attempts=row["attempts"],
        )
        handler = self._handlers.get(job.job_type)
        if handler is None:
            await conn.execute(_DONE, job.job_id, now, "no_handler")
            logger.error("no handler for scheduled job type %s", job.job_type)
            return
        uow = UnitOfWork(conn=conn, outbox=self._outbox, now=now, source=self._source)
        try:
            # Jobs run outside any message: each opens its own span, so what it publishes
            # is in a trace.
            with job_span(job.job_type, job.job_id):
                async with conn.transaction():
                    await handler(job, uow)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:  # a failing job is retried later, then given up
            attempts = job.attempts + 1
            if attempts >= self._policy.max_attempts:
                logger.error("scheduled job %s gave up after %d attempts", job.job_type, attempts)
                await conn.execute(_DONE, job.job_id, now, f"failed: {type(error).__name__}")
            else:
                retry_at = now + self._policy.retry_base * 2 ** (attempts - 1)
                await conn.execute(_RETRY, job.job_id, retry_at, f"{type(error).__name__}: {error}")
            return
        repeat = row["repeat_every"]
        if repeat is not None:
            next_due = job.due_at + repeat
            while next_due <= now:  # after a long pause, run once, not once per missed period
                next_due += repeat
            await conn.execute(_REPEAT, job.job_id, next_due)
        else:
            await conn.execute(_DONE, job.job_id, now, "done")

    async def run(self, stop: asyncio.Event) -> None:
        """Run due jobs until ``stop``; waits out database outages, never dies of an error."""
        while not stop.is_set():
            # Cleared before looking, so a wake-up that arrives during the run is not lost.
            self._wake.clear()
            try:
                await self.run_due()
            except TRANSIENT_ERRORS as error:
                logger.warning("scheduler waits for the database (%s)", type(error).__name__)
            except Exception:  # a bug must not stop every later job: log it and go on
                logger.exception("scheduled jobs failed; trying again at the next tick")
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            try:
                await asyncio.wait(
                    waiters,
                    timeout=self._policy.poll_interval_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()
