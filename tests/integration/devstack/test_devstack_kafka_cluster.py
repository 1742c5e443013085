"""``binome-stack up --brokers 3`` for real: a broker SIGKILLed under a steady flow of
commands through a running service loses nothing and does nothing twice.

The cluster is private (own stack dir and ports); the database comes from the usual test
stack. Topics are replicated three times and need two copies in sync, as in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from binome_devstack import Stack, ensure_stack
from binome_devstack.kafka import KafkaServer
from binome_devstack.kafka_provision import create_platform_topics
from binome_devstack.processes import process_alive, wait_until
from tests.integration.messaging.factories import pair_formed, programme_defined
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.private_stack import private_settings, stopped_and_removed
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

REPLICAS = 3
COMMANDS = 240
SEND_INTERVAL_SECONDS = 0.03
KILL_AFTER = 80
DOWN_SECONDS = 3.0
PAIRS = "SELECT count(*) FROM pairs"
PAIRS_PROCESSED = (
    "SELECT count(*) FROM processed_messages WHERE message_type = 'binome.pairing.pair-formed'"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Stack]:
    with stopped_and_removed(private_settings(brokers=REPLICAS)) as settings:
        yield ensure_stack(kafka=True, postgres=False, settings=settings)


@pytest.fixture(scope="module")
def kafka_bootstrap(cluster: Stack) -> str:
    """Overrides the shared stack's bootstrap: the services and helpers use the cluster."""
    return cluster.kafka_bootstrap


@pytest.fixture
async def topic_prefix(cluster: Stack) -> str:
    """The platform's topics under a fresh prefix, with 3 replicas and min ISR 2."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_platform_topics(cluster.settings, prefix)
    return prefix


async def partitions_of(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """What the cluster says of each partition of ``topic`` (leader, replicas, isr)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return list(described["partitions"])


async def replica_counts(bootstrap: str, topic: str) -> tuple[list[int], list[int]]:
    """Replicas and in-sync replicas of each partition of ``topic``."""
    partitions = await partitions_of(bootstrap, topic)
    return [len(p["replicas"]) for p in partitions], [len(p["isr"]) for p in partitions]


async def leader_of(bootstrap: str, topic: str) -> int:
    """The node leading partition 0 of ``topic``: killing it forces an election."""
    partitions = await partitions_of(bootstrap, topic)
    return int(next(p["leader"] for p in partitions if p["partition"] == 0))


@dataclass
class Progress:
    """Rows seen over time, to measure the longest stretch in which the flow stood still."""

    samples: list[tuple[float, int]] = field(default_factory=list)
    published: int = 0

    def longest_pause(self) -> float:
        longest, since = 0.0, None
        for (moment, count), (_, previous) in zip(self.samples[1:], self.samples, strict=False):
            if count == previous and count < COMMANDS:
                since = since if since is not None else moment
                longest = max(longest, moment - since)
            else:
                since = None
        return longest


async def watch(database: ProvisionedDatabase, progress: Progress) -> None:
    while True:
        count = int(await database.fetchval("sessions", PAIRS))
        progress.samples.append((time.monotonic(), count))
        if count >= COMMANDS:
            return
        await asyncio.sleep(0.1)


def sigkill(node: KafkaServer) -> None:
    pid = node.pid_status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not process_alive(pid), timeout=10)


async def test_a_broker_killed_under_a_flow_of_commands_loses_nothing(
    cluster: Stack, database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    events = f"{kafka.prefix}binome.pairing.events"
    replicas, _ = await replica_counts(cluster.kafka_bootstrap, events)
    assert set(replicas) == {REPLICAS}
    victim = cluster.kafka_nodes[await leader_of(cluster.kafka_bootstrap, events) - 1]
    # The service gets the whole cluster's bootstrap list, as an operator writes it.
    assert cluster.kafka_bootstrap.count(",") == REPLICAS - 1
    sessions = service_factory(
        "sessions",
        # Production's topic policy, which this cluster can meet (the tests' default is 1/1).
        BINOME_TOPIC_REPLICATION_FACTOR=str(REPLICAS),
        BINOME_TOPIC_MIN_INSYNC_REPLICAS=str(REPLICAS - 1),
    )
    await sessions.wait_ready()
    await kafka.publish(programme_defined())
    progress = Progress()
    watcher = asyncio.create_task(watch(database, progress))

    for index in range(COMMANDS):
        if index == KILL_AFTER:
            await asyncio.to_thread(sigkill, victim)
            killed_at = time.monotonic()
        elif (
            index > KILL_AFTER
            and time.monotonic() - killed_at > DOWN_SECONDS
            and not victim.is_running()
        ):
            await asyncio.to_thread(victim.start, wait=False)
        await kafka.publish(pair_formed(index))
        await asyncio.sleep(SEND_INTERVAL_SECONDS)

    await asyncio.wait_for(watcher, timeout=60)
    await victim.await_ready(60)
    pause = progress.longest_pause()
    print(f"\nflow paused at most {pause:.1f} s while node {victim.node} was killed and restarted")
    assert await database.fetchval("sessions", PAIRS) == COMMANDS
    assert (
        await database.fetchval("sessions", "SELECT count(DISTINCT pair_id) FROM pairs") == COMMANDS
    )
    assert await database.fetchval("sessions", PAIRS_PROCESSED) == COMMANDS
    assert sessions.process.poll() is None, "the service rode out the broker's death"
    await eventually(
        lambda: replica_counts(cluster.kafka_bootstrap, events),
        (replicas, replicas),
        timeout=60,
    )
