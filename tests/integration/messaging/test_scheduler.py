"""The durable schedule on a real Postgres: due jobs run once, across replicas and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from binome_shared.messaging.consumer import UnitOfWork
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.scheduler import Job, JobRunner, SchedulerPolicy, cancel, schedule
from binome_shared.runtime.clock import SimulatedClock
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(
        database.dsn("sessions"),
        min_size=1,
        max_size=4,
        server_settings={"search_path": "sessions"},
    )
    async with created.acquire() as conn:
        await conn.execute("CREATE TABLE effects (job_id text NOT NULL, at timestamptz NOT NULL)")
    yield created
    await created.close()


async def record(job: Job, uow: UnitOfWork) -> None:
    await uow.conn.execute("INSERT INTO effects VALUES ($1, $2)", job.job_id, uow.now)


def runner(pool: asyncpg.Pool, clock: SimulatedClock, handler: Any = record) -> JobRunner:
    return JobRunner(
        pool=pool,
        handlers={"record": handler},
        outbox=Outbox(),
        clock=clock,
        source="/t",
        policy=SchedulerPolicy(max_attempts=3, retry_base=timedelta(minutes=1)),
    )


async def test_a_job_runs_when_due_and_only_once(pool: asyncpg.Pool) -> None:
    clock = SimulatedClock(start=START)
    async with pool.acquire() as conn:
        assert await schedule(
            conn, job_id="reminder:1", job_type="record", due_at=START + timedelta(days=1)
        )
        assert not await schedule(conn, job_id="reminder:1", job_type="record", due_at=START)
    jobs = runner(pool, clock)
    assert await jobs.run_due() == 0
    clock.set(START + timedelta(days=1))
    assert await jobs.run_due() == 1
    assert await jobs.run_due() == 0
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1


async def test_two_replicas_racing_run_each_job_once(pool: asyncpg.Pool) -> None:
    clock = SimulatedClock(start=START)
    async with pool.acquire() as conn:
        for index in range(300):
            await schedule(conn, job_id=f"job:{index}", job_type="record", due_at=START)
    first, second = runner(pool, clock), runner(pool, clock)
    counts = await asyncio.gather(first.run_due(), second.run_due())
    assert sum(counts) == 300
    assert await pool.fetchval("SELECT count(DISTINCT job_id) FROM effects") == 300
    assert await pool.fetchval("SELECT count(*) FROM effects") == 300


async def test_a_repeating_job_runs_once_per_period_even_after_a_long_pause(
    pool: asyncpg.Pool,
) -> None:
    clock = SimulatedClock(start=START)
    async with pool.acquire() as conn:
        await schedule(
            conn,
            job_id="periodic:stalls",
            job_type="record",
            due_at=START,
            repeat_every=timedelta(days=7),
        )
    jobs = runner(pool, clock)
    for week in range(3):
        clock.set(START + timedelta(days=7 * week))
        assert await jobs.run_due() == 1
    clock.set(START + timedelta(days=7 * 10))
    assert await jobs.run_due() == 1, "ten missed weeks are one run, not ten"
    assert await pool.fetchval("SELECT due_at FROM scheduled_jobs") == START + timedelta(days=77)


async def test_a_failing_job_is_retried_with_backoff_then_given_up(pool: asyncpg.Pool) -> None:
    calls = 0

    async def broken(job: Job, uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        await uow.conn.execute("INSERT INTO effects VALUES ($1, $2)", job.job_id, uow.now)
        raise RuntimeError("SMTP down")

    clock = SimulatedClock(start=START)
    async with pool.acquire() as conn:
        await schedule(conn, job_id="send:1", job_type="record", due_at=START)
    jobs = runner(pool, clock, broken)
    assert await jobs.run_due() == 1
    assert await jobs.run_due() == 0, "the retry waits for its backoff"
    clock.set(START + timedelta(minutes=1))
    await jobs.run_due()
    clock.set(START + timedelta(minutes=3))
    await jobs.run_due()
    assert calls == 3
    row = await pool.fetchrow("SELECT outcome, attempts FROM scheduled_jobs")
    assert row["outcome"] == "failed: RuntimeError"
    assert row["attempts"] == 3
    assert await pool.fetchval("SELECT count(*) FROM effects") == 0, "failed attempts left nothing"


async def test_a_cancelled_or_rescheduled_job_runs_at_its_new_time_only(pool: asyncpg.Pool) -> None:
    clock = SimulatedClock(start=START)
    async with pool.acquire() as conn:
        await schedule(conn, job_id="a", job_type="record", due_at=START)
        await schedule(conn, job_id="b", job_type="record", due_at=START)
        assert await cancel(conn, "a", now=START)
        await schedule(
            conn, job_id="b", job_type="record", due_at=START + timedelta(hours=2), replace=True
        )
    jobs = runner(pool, clock)
    assert await jobs.run_due() == 0
    clock.set(START + timedelta(hours=2))
    assert await jobs.run_due() == 1
    assert [row["job_id"] for row in await pool.fetch("SELECT job_id FROM effects")] == ["b"]
