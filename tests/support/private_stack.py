"""A private local stack for tests that change the servers: own directory, own free ports.

Never the shared ``.stack``: tests that kill brokers or format secured storage run on one
of these and stop it at the end.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from binome_devstack import StackSettings
from binome_devstack.processes import port_is_free
from binome_devstack.settings import NODE_PORT_STRIDE, default_cache_root
from binome_devstack.stack import stop_stack

PORT_RANGE = (20000, 32000)
"""Below Linux's ephemeral range (32768+): no client connection takes one meanwhile."""


def free_ports(count: int) -> list[int]:
    """``count`` free ports in :data:`PORT_RANGE`, not necessarily consecutive."""
    chosen = [port for port in random.sample(range(*PORT_RANGE), 200) if port_is_free(port)]
    assert len(chosen) >= count, f"no {count} free ports in {PORT_RANGE}"
    return chosen[:count]


def free_port_block(size: int) -> int:
    """The first of ``size`` consecutive free ports."""
    for base in random.sample(range(*PORT_RANGE), 200):
        if all(port_is_free(port) for port in range(base, base + size)):
            return base
    raise AssertionError(f"no {size} consecutive free ports in {PORT_RANGE}")


def private_settings(*, brokers: int = 1, secure: bool = False) -> StackSettings:
    """Settings of a fresh stack dir whose Kafka nodes and PostgreSQL have free ports."""
    directory = Path(tempfile.mkdtemp(prefix="binome-stack-test-"))
    # As root, PostgreSQL runs as the postgres user, which must reach the directory.
    directory.chmod(0o755)
    base = free_port_block(NODE_PORT_STRIDE * brokers + 1)
    return StackSettings(
        stack_dir=directory,
        kafka_port=base,
        kafka_controller_port=base + 1,
        pg_port=base + NODE_PORT_STRIDE * brokers,
        cache_root=default_cache_root(os.environ),
        kafka_brokers=brokers,
        kafka_secure=secure,
    )


@contextmanager
def stopped_and_removed(settings: StackSettings) -> Iterator[StackSettings]:
    """Yield ``settings``; then stop whatever runs in that stack dir and delete it."""
    try:
        yield settings
    finally:
        stop_stack(settings=settings)
        shutil.rmtree(settings.stack_dir, ignore_errors=True)
