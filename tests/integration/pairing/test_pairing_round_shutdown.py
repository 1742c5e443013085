"""SIGTERM in the middle of a round: the service exits without waiting for the solve, its
worker process is gone, nothing of the round is written, and the next instance solves it."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_shared.contracts.hr_commands import RequestMatching
from tests.integration.pairing.test_pairing_large_round import PROGRAMME, enrol_directly
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.programmes import hr_command
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def solving_worker(service_pid: int, *, busy_for: float, timeout: float = 120) -> int:
    """The service's solver worker (a child of its fork server) once it has been busy with
    the round for ``busy_for`` seconds of CPU."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children(service_pid):
            for worker in children(child):
                if cpu_seconds(worker) >= busy_for:
                    return worker
        await asyncio.sleep(0.1)
    raise AssertionError("no worker process solving the round")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_round_cut_by_sigterm_is_solved_by_the_next_instance(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    cohort = generate_cohort(mentees=5000, mentors=5000, seed=2027)
    first = service_factory("pairing", BINOME_GRACEFUL_TIMEOUT_SECONDS="1")
    await first.wait_ready()
    await enrol_directly(database, kafka, cohort)
    request = hr_command(RequestMatching(round_id="r-cut"), programme_id=PROGRAMME)
    await kafka.publish(request)
    worker = await solving_worker(first.process.pid, busy_for=0.5)

    stopping = time.monotonic()
    first.terminate(timeout=40)  # uvicorn exits with the signal's status once shut down
    stopped_in = time.monotonic() - stopping
    log = first.log_path.read_text()
    assert "service stopped cleanly" in log
    assert "closing a shutdown hook failed" not in log
    assert "leaked semaphore" not in log

    assert not alive(worker), "the worker must not outlive the service"
    assert stopped_in < 20, f"the service took {stopped_in:.0f} s to stop"
    done = "SELECT outcome FROM processed_messages WHERE event_id = $1"
    assert await database.fetchval("pairing", done, request.id) is None
    assert await database.fetchval("pairing", "SELECT count(*) FROM pairs") == 0

    second = service_factory("pairing")
    await second.wait_ready()
    await eventually(lambda: database.fetchval("pairing", done, request.id), "done", timeout=600)
    assert await database.fetchval("pairing", "SELECT count(*) FROM pairs") >= 4900


async def test_the_worker_and_its_fork_server_end_with_a_killed_service(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    cohort = generate_cohort(mentees=40, mentors=40, seed=5)
    service = service_factory("pairing")
    await service.wait_ready()
    await enrol_directly(database, kafka, cohort)
    await kafka.publish(hr_command(RequestMatching(round_id="r-small"), programme_id=PROGRAMME))
    await eventually(
        lambda: database.fetchval("pairing", "SELECT count(*) > 0 FROM pairs"), True, timeout=120
    )
    [fork_server] = [child for child in children(service.process.pid) if children(child)]
    [worker] = children(fork_server)

    service.kill()  # SIGKILL: no shutdown hook runs

    await eventually(lambda: asyncio.sleep(0, [alive(worker), alive(fork_server)]), [False, False])
