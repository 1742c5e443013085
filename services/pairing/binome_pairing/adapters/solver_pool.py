"""Rounds solved in a worker process, so that the service's event loop never waits for one.

A 10,000 × 10,000 round is seconds of CPU. On the event loop it would stop everything else
the process does: ``/health`` (the liveness probe restarts the pod), the Kafka consumer's
heartbeats (the group evicts it and rebalances), the outbox relay. In a worker process the
loop only awaits a future.

Choices, and why:

- ``forkserver``, not ``fork``: forking a process that runs an asyncio loop, the Kafka
  client's and the executor's threads and an asyncpg pool copies locks held by other
  threads and sockets it does not own. The fork server is a fresh interpreter started once;
  workers are forked from it, with the engine (numpy, scipy) already imported, so a worker
  recreated after a crash is ready in milliseconds instead of seconds.
- One worker: the consumer handles one batch at a time, so at most one round of this
  process is being solved at any moment; more workers would only hold memory.
- The worker runs at a lower priority (``nice`` +10): where it shares a CPU limit with the
  service, the event loop is scheduled first, so probes and heartbeats still answer at once.
- The worker lives on between rounds (no ``max_tasks_per_child``: on Python 3.11 it can
  leave the executor with no worker at all, cpython#115634). It keeps the memory of its
  largest round (about 0.6 GB after a 10,000 × 10,000 one): the pod needs that much at
  the peak of a round anyway.
- The worker exits when the service process dies, even by SIGKILL: nothing else would
  stop it (it holds both ends of its own task queue, and the fork server lives as long
  as it does). In a container the runtime kills them together; elsewhere (tests, a
  laptop) they would linger.
- Before the first round, the objects alive in the service (its modules, schemas, clients:
  about 100,000, all kept for good) are frozen out of the garbage collector
  (``gc.freeze()``). Writing a large round's pairs allocates hundreds of thousands of
  short-lived objects in this process, which triggers full collections; each walks every
  tracked object, and with the service's own objects in the walk one took 100-270 ms of
  the event loop on a loaded machine. Frozen, they are skipped.
- A worker that dies (OOM-killed, a crash in native code) breaks the executor for good:
  the executor is replaced, and the round is failed with :class:`SolverWorkerLostError`,
  which the consumer treats as an infrastructure failure (retry, never dead-letter).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess

from binome_pairing.rounds import RoundProblem, SolvedRound, solve_round

logger = logging.getLogger(__name__)

PRELOADED_MODULES = ["binome_pairing.rounds"]
"""Imported once by the fork server, so every worker starts with the engine loaded."""

WORKER_NICENESS = 10
"""Added to the worker's nice value: the CPU goes to the event loop first."""

WORKER_EXIT_SECONDS = 2.0
"""How long :meth:`SolverPool.close` waits for a terminated worker to be gone before it
kills it (twice this stays within the time the runtime gives a shutdown hook)."""


class SolverWorkerLostError(ChildProcessError):
    """The worker process solving a round died: the infrastructure failed, not the message.

    ``ChildProcessError`` is an ``OSError``, one of the consumer's ``TRANSIENT_ERRORS``: the
    batch's transaction rolls back and the batch is tried again after a pause, as during a
    database outage, instead of counting as one of the attempts that lead to the dead-letter
    topic. (``BrokenProcessPool`` itself is a ``RuntimeError``, which would be judged as a
    failure of the message and dead-lettered after three tries.) A round that kills its
    worker every time (too little memory for its size) therefore waits rather than being
    thrown away: HR's request stays valid, the pod's memory limit is what must change, and
    the consumer's "waits for the infrastructure" warnings say so.
    """


class SolverPool:
    """A process pool of one worker for rounds, created on the first round."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    async def solve(self, problem: RoundProblem) -> SolvedRound:
        """Solve ``problem`` in the worker; the event loop stays free meanwhile.

        If the caller is cancelled (the service stopping) the worker carries on until
        :meth:`close` terminates it; the round's transaction is rolled back either way.
        """
        executor = await self._current_executor()
        started = time.perf_counter()
        try:
            solved = await asyncio.get_running_loop().run_in_executor(
                executor, solve_round, problem
            )
        except BrokenProcessPool as broken:
            self._discard(executor)
            raise SolverWorkerLostError(f"the round's worker process died ({broken})") from broken
        logger.info(
            "round of %d participants solved in the worker in %.1f s: %d new pairs",
            len(problem.profiles_json),
            time.perf_counter() - started,
            len(solved.new_pairs_json),
        )
        return solved

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (for logs and tests)."""
        return [
            worker.pid for worker in self._workers() if worker.pid is not None and worker.is_alive()
        ]

    async def close(self) -> None:
        """Stop the pool at shutdown; a round still being solved is abandoned.

        Its transaction was already rolled back (the broker stopped the consumer before the
        shutdown hooks run), so Kafka redelivers the command to the next instance. Waiting
        for the worker to finish would only delay the exit by the rest of the solve.
        """
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.to_thread(_stop, executor, self._workers(executor))

    async def _current_executor(self) -> ProcessPoolExecutor:
        async with self._starting:
            if self._closed:
                raise RuntimeError("the solver pool is closed: the service is stopping")
            if self._executor is None:
                gc.freeze()
                # Starting a worker waits for the fork server to import the engine (seconds
                # the first time): a thread does that wait, not the event loop.
                self._executor = await asyncio.to_thread(_started_executor)
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        """Forget a broken executor (its workers are already gone); the next round makes a
        new one. Two rounds failing on the same executor discard it once."""
        if self._executor is executor:
            logger.warning("the solver's worker process died; a new one takes the next round")
            self._executor = None
            executor.shutdown(wait=False, cancel_futures=True)

    def _workers(self, executor: ProcessPoolExecutor | None = None) -> list[BaseProcess]:
        chosen = executor or self._executor
        if chosen is None:
            return []
        # The executor's own table of its processes: Python 3.14 adds terminate_workers(),
        # 3.11 has no public way to reach a worker that is busy.
        processes = chosen._processes
        return list(processes.values()) if processes else []  # None once it is shut down


def _started_executor() -> ProcessPoolExecutor:
    """A new executor whose worker is up: later submissions from the event loop find it
    there instead of starting it (which blocks the caller until the worker is forked)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED_MODULES)
    executor = ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=_prepare_worker,
        initargs=(os.getpid(),),
    )
    executor.submit(os.getpid).result()
    return executor


def _prepare_worker(service_pid: int) -> None:
    """In the worker, before its first round: lower its priority, and end it with the
    service process."""
    os.nice(WORKER_NICENESS)
    try:
        service = os.pidfd_open(service_pid)
    except ProcessLookupError:
        os._exit(1)  # the service is already gone
    threading.Thread(
        target=_exit_when_readable, args=(service,), name="service-watch", daemon=True
    ).start()


def _exit_when_readable(pidfd: int) -> None:
    select.select([pidfd], [], [])  # a process's pidfd becomes readable when it exits
    os._exit(1)


def _stop(executor: ProcessPoolExecutor, workers: list[BaseProcess]) -> None:
    """Terminate the workers, then let the executor see them gone and release its queues
    (a shutdown that does not wait leaves them to the interpreter's exit, with warnings)."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(WORKER_EXIT_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join(WORKER_EXIT_SECONDS)
    executor.shutdown(wait=True, cancel_futures=True)
