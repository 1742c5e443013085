"""The local stack for real: Kafka 4.1 and PostgreSQL 15 serve, survive restarts, stop cleanly.

The restart tests run on a private stack (own directory, own free ports) so they never pull
the shared ``.stack`` out from under a developer's services or another test session.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import UnknownTopicOrPartitionError

from binome_devstack import Component, PortInUseError, Stack, StackSettings, ensure_stack
from binome_devstack.processes import PidState, PidStatus, port_is_free, wait_until
from binome_devstack.settings import default_cache_root
from binome_devstack.stack import stop_stack

pytestmark = pytest.mark.integration

SAFETY_BOUND_SECONDS = 60
STACK_CLI = [sys.executable, "-m", "binome_devstack.cli"]


def _free_ports(count: int) -> list[int]:
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


def _private_settings() -> StackSettings:
    directory = Path(tempfile.mkdtemp(prefix="binome-stack-test-"))
    # As root, PostgreSQL runs as the postgres user, which must reach the directory.
    directory.chmod(0o755)
    kafka_port, controller_port, pg_port = _free_ports(3)
    return StackSettings(
        stack_dir=directory,
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        pg_port=pg_port,
        cache_root=default_cache_root(os.environ),
    )


def _cli_environment(settings: StackSettings) -> dict[str, str]:
    return {
        **os.environ,
        "BINOME_LANG": "en",
        "BINOME_STACK_DIR": str(settings.stack_dir),
        "BINOME_STACK_KAFKA_PORT": str(settings.kafka_port),
        "BINOME_STACK_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "BINOME_STACK_PG_PORT": str(settings.pg_port),
    }


def _run_cli(settings: StackSettings, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STACK_CLI, *arguments],
        env=_cli_environment(settings),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[Stack]:
    stack = ensure_stack()
    yield stack
    stack.stop_started()


@pytest.fixture(scope="module")
def private_stack() -> Iterator[Stack]:
    settings = _private_settings()
    stack = ensure_stack(settings=settings)
    yield stack
    stop_stack(settings=settings)
    shutil.rmtree(settings.stack_dir, ignore_errors=True)


async def _create_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    """The local broker creates no topic on first use: each is made with its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def _partitions(bootstrap: str, topic: str) -> int | None:
    """The topic's partition count, or None if it does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return None
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return len(described["partitions"])


async def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"pair-1")
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, *, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"devstack-test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(SAFETY_BOUND_SECONDS):
            while len(values) < count:
                batches = await consumer.getmany(timeout_ms=500)
                values.extend(record.value for records in batches.values() for record in records)
    finally:
        await consumer.stop()
    return values


async def _fetch(dsn: str, query: str) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def test_the_shared_stack_round_trips_a_kafka_message(shared_stack: Stack) -> None:
    topic = f"devstack-shared-{uuid.uuid4().hex}"
    await _create_topic(shared_stack.kafka_bootstrap, topic)

    await _produce(shared_stack.kafka_bootstrap, topic, b"bonjour")

    assert await _consume(shared_stack.kafka_bootstrap, topic, count=1) == [b"bonjour"]


async def test_the_shared_stack_serves_the_binome_database(shared_stack: Stack) -> None:
    identity = await _fetch(
        shared_stack.admin_dsn, "SELECT current_database() || '/' || current_user"
    )

    assert identity == "binome/binome_admin"


def test_a_second_ensure_stack_reuses_what_runs(private_stack: Stack) -> None:
    again = ensure_stack(settings=private_stack.settings)

    assert private_stack.started == {Component.KAFKA, Component.POSTGRES}
    assert again.started == frozenset()
    assert again.kafka is not None
    assert again.kafka.is_ready()


async def test_postgres_keeps_its_data_across_stop_and_start(private_stack: Stack) -> None:
    postgres = private_stack.postgres
    assert postgres is not None
    connection = await asyncpg.connect(private_stack.admin_dsn)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS survivor (name text)")
        await connection.execute("INSERT INTO survivor VALUES ('Camille')")
    finally:
        await connection.close()

    assert await postgres.astop() is True
    assert not postgres.is_running()
    assert port_is_free(postgres.port)
    assert await postgres.astart() is True

    assert await _fetch(private_stack.admin_dsn, "SELECT string_agg(name, ',') FROM survivor") == (
        "Camille"
    )


async def test_kafka_keeps_its_messages_across_stop_and_start(private_stack: Stack) -> None:
    kafka = private_stack.kafka
    assert kafka is not None
    topic = f"devstack-restart-{uuid.uuid4().hex}"
    await _create_topic(kafka.kafka_bootstrap, topic)
    await _produce(kafka.kafka_bootstrap, topic, b"before")

    assert await kafka.astop() is True
    assert not kafka.is_running()
    assert port_is_free(kafka.port)
    assert port_is_free(private_stack.settings.kafka_controller_port)
    assert await kafka.astart() is True
    await _produce(kafka.kafka_bootstrap, topic, b"after")

    assert await _consume(kafka.kafka_bootstrap, topic, count=2) == [b"before", b"after"]


async def test_a_sigkilled_stack_is_detected_and_started_again(private_stack: Stack) -> None:
    kafka, postgres = private_stack.kafka, private_stack.postgres
    assert kafka is not None
    assert postgres is not None
    for server in (kafka, postgres):
        status = server.pid_status()
        assert status.pid is not None
        os.kill(status.pid, signal.SIGKILL)

    for server in (kafka, postgres):
        assert await asyncio.to_thread(_becomes_stale, server.pid_status) is True

    assert await kafka.astart() is True
    assert await postgres.astart() is True
    assert await _fetch(private_stack.admin_dsn, "SELECT current_database()") == "binome"
    topic = f"devstack-after-kill-{uuid.uuid4().hex}"
    await _create_topic(kafka.kafka_bootstrap, topic)
    await _produce(kafka.kafka_bootstrap, topic, b"again")
    assert await _consume(kafka.kafka_bootstrap, topic, count=1) == [b"again"]


def _becomes_stale(read_status: Callable[[], PidStatus]) -> bool:
    return wait_until(lambda: read_status().state is PidState.STALE, timeout=30)


def test_a_port_held_by_a_foreign_process_is_named_with_its_variable() -> None:
    settings = _private_settings()
    try:
        with socket.socket() as foreign:
            foreign.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            foreign.bind(("127.0.0.1", settings.pg_port))
            foreign.listen()

            with pytest.raises(PortInUseError) as raised:
                ensure_stack(kafka=False, settings=settings)

        assert raised.value.port == settings.pg_port
        assert "BINOME_STACK_PG_PORT" in str(raised.value)
    finally:
        shutil.rmtree(settings.stack_dir, ignore_errors=True)


def test_cli_owner_files_stop_only_what_each_up_started() -> None:
    settings = _private_settings()
    first_owner = settings.stack_dir / "first.owner"
    second_owner = settings.stack_dir / "second.owner"
    try:
        first = _run_cli(settings, "up", "--no-kafka", "--owner-file", str(first_owner))
        assert first.returncode == 0, first.stderr
        assert "PostgreSQL ready in" in first.stderr
        assert first_owner.read_text(encoding="utf-8") == "postgres\n"

        second = _run_cli(settings, "up", "--no-kafka", "--owner-file", str(second_owner))
        assert "already running and healthy" in second.stderr
        assert second_owner.read_text(encoding="utf-8") == ""

        assert _run_cli(settings, "status").returncode == 1  # Kafka was left out
        assert _run_cli(settings, "down", "--owner-file", str(second_owner)).returncode == 0
        assert not port_is_free(settings.pg_port)

        assert _run_cli(settings, "down", "--owner-file", str(first_owner)).returncode == 0
        assert port_is_free(settings.pg_port)
        assert not first_owner.exists()
        assert "PostgreSQL: stopped" in _run_cli(settings, "status").stdout
    finally:
        _run_cli(settings, "down")
        shutil.rmtree(settings.stack_dir, ignore_errors=True)


async def test_the_broker_creates_no_topic_a_client_merely_names(private_stack: Stack) -> None:
    kafka = private_stack.kafka
    assert kafka is not None
    topic = f"devstack-undeclared-{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.kafka_bootstrap, request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises(UnknownTopicOrPartitionError):
            await producer.send_and_wait(topic, b"lost?")
    finally:
        await producer.stop()

    assert await _partitions(kafka.kafka_bootstrap, topic) is None


def test_cli_down_and_up_keep_kafka_topics_like_postgres_data_and_reset_wipes_both() -> None:
    settings = _private_settings()
    topic = f"devstack-kept-{uuid.uuid4().hex}"
    survivor = "SELECT count(*) FROM pg_tables WHERE tablename = 'survivor'"
    try:
        first = _run_cli(settings, "up")
        assert first.returncode == 0, first.stderr
        assert "Formatting fresh Kafka storage" in first.stderr
        asyncio.run(_create_topic(settings.kafka_bootstrap, topic, partitions=6))
        asyncio.run(_produce(settings.kafka_bootstrap, topic, b"sent before the restart"))
        asyncio.run(_fetch(settings.admin_dsn, "CREATE TABLE survivor (name text)"))

        assert _run_cli(settings, "down").returncode == 0
        again = _run_cli(settings, "up")
        assert again.returncode == 0, again.stderr
        assert "Formatting" not in again.stderr

        assert asyncio.run(_partitions(settings.kafka_bootstrap, topic)) == 6
        assert asyncio.run(_consume(settings.kafka_bootstrap, topic, count=1)) == [
            b"sent before the restart"
        ]
        assert asyncio.run(_fetch(settings.admin_dsn, survivor)) == 1

        reset = _run_cli(settings, "reset")
        assert reset.returncode == 0, reset.stderr
        assert "Kafka: data deleted" in reset.stderr
        assert "PostgreSQL: data deleted" in reset.stderr
        assert port_is_free(settings.kafka_port)
        assert port_is_free(settings.pg_port)

        fresh = _run_cli(settings, "up")
        assert fresh.returncode == 0, fresh.stderr
        assert asyncio.run(_partitions(settings.kafka_bootstrap, topic)) is None
        assert asyncio.run(_fetch(settings.admin_dsn, survivor)) == 0
    finally:
        _run_cli(settings, "down")
        shutil.rmtree(settings.stack_dir, ignore_errors=True)
