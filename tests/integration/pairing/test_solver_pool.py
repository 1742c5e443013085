"""The pairing service's worker process: same answers as in process, and a worker that dies
is an infrastructure failure the consumer retries, never a reason to dead-letter a round."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.adapters.solver_pool import (
    WORKER_NICENESS,
    SolverPool,
    SolverWorkerLostError,
)
from binome_pairing.rounds import RoundProblem, solve_in_process
from binome_shared.messaging.consumer import TRANSIENT_ERRORS

pytestmark = pytest.mark.integration


def cohort_problem(mentees: int, mentors: int, seed: int = 11) -> RoundProblem:
    cohort = generate_cohort(mentees=mentees, mentors=mentors, seed=seed)
    return RoundProblem(
        rules=cohort.rules,
        profiles_json=[profile.model_dump_json() for profile in cohort.participants],
        reporting_lines=cohort.reporting_lines,
        locked_pairs=[],
        forbidden_pairs=set(),
    )


@pytest.fixture
async def solver() -> AsyncIterator[SolverPool]:
    pool = SolverPool()
    yield pool
    await pool.close()


async def wait_until_dead(pid: int) -> None:
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} still alive")


async def test_a_round_solved_in_the_worker_is_the_round_solved_in_process(
    solver: SolverPool,
) -> None:
    problem = cohort_problem(30, 34)

    in_worker = await solver.solve(problem)

    assert in_worker == await solve_in_process(problem)
    new_pairs = in_worker.new_pairs(0, len(in_worker.new_pairs_json))
    assert len(new_pairs) == in_worker.report.stats.new_pairs >= 25
    assert set(in_worker.members) == {
        member for pair in new_pairs for member in (pair.mentor_id, pair.mentee_id)
    }
    [worker] = solver.worker_pids()
    assert worker != os.getpid()
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, worker) == min(own + WORKER_NICENESS, 19)


async def test_a_dead_worker_fails_the_round_as_transient_then_a_new_worker_solves_it(
    solver: SolverPool,
) -> None:
    problem = cohort_problem(12, 14)
    await solver.solve(problem)
    [first_worker] = solver.worker_pids()

    os.kill(first_worker, signal.SIGKILL)  # what the kernel's OOM killer does
    await wait_until_dead(first_worker)
    with pytest.raises(SolverWorkerLostError) as lost:
        await solver.solve(problem)

    assert isinstance(lost.value, TRANSIENT_ERRORS), "the consumer must retry, not dead-letter"
    assert await solver.solve(problem) == await solve_in_process(problem)
    [second_worker] = solver.worker_pids()
    assert second_worker != first_worker


async def test_a_worker_killed_mid_round_fails_that_round_as_transient(
    solver: SolverPool,
) -> None:
    await solver.solve(cohort_problem(2, 2))  # the worker exists and has the engine loaded
    [worker] = solver.worker_pids()
    solving = asyncio.create_task(solver.solve(cohort_problem(1500, 1600)))
    await asyncio.sleep(0.5)
    assert not solving.done(), "the round should still be solving"

    os.kill(worker, signal.SIGKILL)

    with pytest.raises(SolverWorkerLostError):
        await solving


async def test_closing_stops_a_worker_in_the_middle_of_a_round(solver: SolverPool) -> None:
    await solver.solve(cohort_problem(2, 2))
    [worker] = solver.worker_pids()
    solving = asyncio.create_task(solver.solve(cohort_problem(1500, 1600)))
    await asyncio.sleep(0.5)

    await solver.close()

    await wait_until_dead(worker)
    with pytest.raises((SolverWorkerLostError, asyncio.CancelledError)):
        await solving
    with pytest.raises(RuntimeError, match="closed"):
        await solver.solve(cohort_problem(2, 2))
