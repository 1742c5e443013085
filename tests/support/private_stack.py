"""A private local stack (own directory, own free ports) for tests that restart or
reconfigure servers, so they never pull the shared ``.stack`` out from under anyone."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from binome_devstack import StackSettings
from binome_devstack.processes import port_is_free
from binome_devstack.settings import default_cache_root


def free_ports(count: int) -> list[int]:
    """Free ports below Linux's ephemeral range (32768+), so that no client connection
    opened meanwhile can take one as its local port before the servers bind it."""
    chosen: list[int] = []
    candidates = random.sample(range(20000, 32000), 200)
    for port in candidates:
        if len(chosen) == count:
            break
        if port_is_free(port):
            chosen.append(port)
    assert len(chosen) == count, "no free ports between 20000 and 32000"
    return chosen


def private_settings() -> StackSettings:
    directory = Path(tempfile.mkdtemp(prefix="binome-stack-test-"))
    # As root, PostgreSQL runs as the postgres user, which must reach the directory.
    directory.chmod(0o755)
    kafka_port, controller_port, pg_port = free_ports(3)
    return StackSettings(
        stack_dir=directory,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        pg_port=pg_port,
        cache_root=default_cache_root(os.environ),
    )
