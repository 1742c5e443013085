"""A round whose worker process dies is retried by the consumer, not dead-lettered: the
pairing service's real handlers and worker pool, the messaging core, a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing import handlers
from binome_pairing.adapters.solver_pool import SolverPool
from binome_pairing.rounds import RoundProblem, SolvedRound
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import EnrolParticipant, RequestMatching
from binome_shared.messaging.consumer import ConsumerPolicy, ReliableConsumer
from binome_shared.messaging.outbox import Outbox
from tests.integration.pairing.test_pairing_enrolment_batches import Clock, records
from tests.support.programmes import hr_command, programme_definition

pytestmark = pytest.mark.integration

PROGRAMME = "prog-lost-worker"


@pytest.fixture
async def solver() -> AsyncIterator[SolverPool]:
    created = SolverPool()
    yield created
    await created.close()


class KillingTheWorker:
    """The pool's solver, except that the worker of the first ``times`` tries is killed as
    the round starts (what the kernel's OOM killer does to a round too large for the pod)."""

    def __init__(self, solver: SolverPool, *, times: int) -> None:
        self.solver = solver
        self.times = times
        self.calls = 0

    async def __call__(self, problem: RoundProblem) -> SolvedRound:
        self.calls += 1
        if self.calls <= self.times:
            await self.solver.solve(replace(problem, profiles_json=[]))  # the worker is up
            [worker] = self.solver.worker_pids()
            os.kill(worker, signal.SIGKILL)
        return await self.solver.solve(problem)


async def test_a_round_whose_worker_dies_is_solved_again_and_never_dead_lettered(
    pool: asyncpg.Pool, solver: SolverPool
) -> None:
    cohort = generate_cohort(mentees=6, mentors=7, seed=3)
    # As many deaths as the attempts after which a failing message is dead-lettered: only
    # an infrastructure failure survives that many.
    policy = ConsumerPolicy(max_attempts=3, retry_delay=0.01)
    solve = KillingTheWorker(solver, times=policy.max_attempts)
    consumer = ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes=handlers.routes(solve),
        outbox=Outbox(),
        clock=Clock(),
        source="/binome/pairing",
        consumer_group="binome-pairing",
        policy=policy,
    )
    request = hr_command(RequestMatching(round_id="r1"), programme_id=PROGRAMME)

    await consumer.process(
        records(
            [
                hr_command(programme_definition(cohort.rules), programme_id=PROGRAMME),
                *[
                    hr_command(EnrolParticipant(participant=profile), programme_id=PROGRAMME)
                    for profile in cohort.participants
                ],
                request,
            ]
        ),
        asyncio.Event(),
    )

    assert solve.calls == policy.max_attempts + 1, "tried again after each death"
    outcomes = dict(await pool.fetch("SELECT outcome, count(*) FROM processed_messages GROUP BY 1"))
    assert outcomes == {"done": 2 + len(cohort.participants)}
    assert await pool.fetchval("SELECT count(*) FROM pairs") == 6
    headers = await pool.fetch("SELECT header_names FROM outbox")
    assert not [row for row in headers if "binome_dlq_code" in row["header_names"]]
