"""Ask a service's ``/health`` at a steady pace and record how long each answer took.

It runs in a process of its own (``python -m tests.support.health_watch URL``) so that
nothing in the test's process (its event loop, the GIL) delays the asking or the timing.
It says ``watching`` once the first answer came, stops when its standard input closes and
prints what it saw as JSON.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

POLL_EVERY = 0.05


@dataclass
class HealthAnswers:
    """Each answer's latency (seconds) and when it was asked (``time.monotonic()``)."""

    latencies: list[float] = field(default_factory=list)
    asked_at: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@contextmanager
def watching_health(url: str) -> Iterator[HealthAnswers]:
    """Watch ``url``'s ``/health`` for the duration of the block (from its first answer on);
    the answers are filled in when it ends."""
    answers = HealthAnswers()
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tests.support.health_watch", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert watcher.stdout is not None
    if watcher.stdout.readline() != b"watching\n":
        watcher.kill()
        raise AssertionError(f"{url}/health could not be watched")
    try:
        yield answers
    finally:
        output, _ = watcher.communicate(input=b"", timeout=60)
        seen = json.loads(output)
        answers.latencies.extend(seen["latencies"])
        answers.asked_at.extend(seen["asked_at"])
        answers.failures.extend(seen["failures"])


def _watch(url: str) -> HealthAnswers:
    answers = HealthAnswers()
    with httpx.Client(timeout=10.0) as client:
        while True:
            started = time.monotonic()
            try:
                response = client.get(f"{url}/health")
                if response.status_code != 200:
                    answers.failures.append(f"status {response.status_code}")
            except httpx.HTTPError as error:
                answers.failures.append(repr(error))
            answers.latencies.append(time.monotonic() - started)
            answers.asked_at.append(started)
            if len(answers.latencies) == 1:
                print("watching", flush=True)
            if select.select([sys.stdin], [], [], POLL_EVERY)[0]:
                return answers  # standard input closed: the test is done


if __name__ == "__main__":
    seen = _watch(sys.argv[1])
    json.dump(
        {"latencies": seen.latencies, "asked_at": seen.asked_at, "failures": seen.failures},
        sys.stdout,
    )
