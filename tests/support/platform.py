"""Real infrastructure for integration and e2e tests: the local stack, per-test databases
and topics, service processes, and Kafka helpers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import ALL_TOPICS, TopicSpec
from binome_shared.db.migrations import apply_migrations, service_migrations
from binome_shared.db.provision import SERVICES, ServiceDatabase, provision
from binome_shared.messaging.cloudevents import KafkaRecord, ReceivedRecord, decode, encode
from binome_shared.runtime.topic_policy import SINGLE_BROKER_SETTINGS, single_broker_policy
from binome_shared.runtime.topics import ensure_topics

PASSWORDS = {service: f"binome_{service}" for service in SERVICES}
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ProvisionedDatabase:
    """A database of its own for one test, provisioned and migrated like production."""

    __test__ = False

    admin_dsn: str
    name: str

    def dsn(self, service: str) -> str:
        return ServiceDatabase(service).dsn(
            admin_dsn=self.admin_dsn, password=PASSWORDS[service], database=self.name
        )

    def admin(self) -> str:
        base, _, _ = self.admin_dsn.rpartition("/")
        return f"{base}/{self.name}"

    async def connect(self, service: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(service), server_settings={"search_path": service})

    async def fetchval(self, service: str, query: str, *args: Any) -> Any:
        conn = await self.connect(service)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    async def fetch(self, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await self.connect(service)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    @contextlib.asynccontextmanager
    async def pool(self, service: str, *, connections: int) -> AsyncIterator[asyncpg.Pool]:
        """Up to ``connections`` connections as ``service`` (its schema first): enough for
        the transactions a test holds open at once, plus one to look at them."""
        created = await asyncpg.create_pool(
            self.dsn(service),
            min_size=1,
            max_size=connections,
            server_settings={"search_path": service},
        )
        try:
            yield created
        finally:
            await created.close()


@dataclass(frozen=True)
class DatabaseTemplate:
    """A provisioned, migrated database that tests copy (one per test run)."""

    admin_dsn: str
    name: str


async def build_template(admin_dsn: str) -> DatabaseTemplate:
    """Provision and migrate a template database once per test run; tests copy it.

    Its name is unique, so that two test runs on one server (CI and a developer, or a
    benchmark) never fight over it.
    """
    template = DatabaseTemplate(admin_dsn=admin_dsn, name=f"binome_tpl_{uuid.uuid4().hex[:10]}")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{template.name}"')
    finally:
        await conn.close()
    await provision(admin_dsn, passwords=PASSWORDS, database=template.name)
    migrated = ProvisionedDatabase(admin_dsn=admin_dsn, name=template.name)
    for service in SERVICES:
        service_conn = await migrated.connect(service)
        try:
            await apply_migrations(service_conn, service_migrations(f"binome_{service}"))
        finally:
            await service_conn.close()
    return template


async def drop_template(template: DatabaseTemplate) -> None:
    await drop_test_database(ProvisionedDatabase(admin_dsn=template.admin_dsn, name=template.name))


async def create_test_database(template: DatabaseTemplate) -> ProvisionedDatabase:
    name = f"binome_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(template.admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
    finally:
        await conn.close()
    return ProvisionedDatabase(admin_dsn=template.admin_dsn, name=name)


async def drop_test_database(database: ProvisionedDatabase) -> None:
    conn = await asyncpg.connect(database.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_topics(
    bootstrap: str, prefix: str, topics: Sequence[TopicSpec] = ALL_TOPICS
) -> None:
    """Create the platform's topics (and their dead-letter topics) under ``prefix``, one
    copy each (the test stack runs one broker)."""
    await ensure_topics(bootstrap, topics, policy=single_broker_policy(), prefix=prefix)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic whose name starts with ``prefix``: the local broker keeps its data
    across restarts, and thousands of left-over test partitions slow it down for good."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


class Kafka:
    """Produce envelopes or raw records, and read what a topic holds."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self._producer = self._new_producer()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True
        )

    async def start(self) -> None:
        if self._producer._closed:  # aiokafka producers cannot be restarted
            self._producer = self._new_producer()
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, envelope: Envelope[Any]) -> None:
        record = encode(envelope, topic=envelope.data.topic.full_name(self.prefix))
        await self.send(record)

    async def send(self, record: KafkaRecord) -> None:
        await self._producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=list(record.headers)
        )

    async def read_all(self, topic: str, *, expect: int, timeout: float = 30.0) -> list[Any]:
        """Read ``topic`` from the start until at least ``expect`` records (or time-out),
        then a little longer to catch any extra (duplicate) record."""
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        records: list[Any] = []
        try:
            deadline = time.monotonic() + timeout
            settle_until: float | None = None
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for partition_records in batch.values():
                    records.extend(partition_records)
                if len(records) >= expect and settle_until is None:
                    settle_until = time.monotonic() + 1.0
                if settle_until is not None and time.monotonic() > settle_until:
                    break
        finally:
            await consumer.stop()
        return records


def received(record: Any) -> ReceivedRecord:
    return ReceivedRecord.of(record)


async def read_envelopes(
    kafka: Kafka, topic: TopicSpec, *, expect: int, timeout: float = 30.0
) -> list[Envelope[Any]]:
    """Every message on ``topic`` (this test's prefix), decoded, in offset order per key."""
    records = await kafka.read_all(topic.full_name(kafka.prefix), expect=expect, timeout=timeout)
    records.sort(key=lambda record: (record.timestamp, record.partition, record.offset))
    return [decode(received(record), CATALOGUE) for record in records]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServiceProcess:
    """One service running as a real OS process (``binome-<name> serve``)."""

    name: str
    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    argv: list[str] | None = None
    """The command line; by default ``python -m binome_<name>.cli serve``."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> None:
        env = {**self.env, **extra_env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv or [sys.executable, "-m", f"binome_{self.name}.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(f"{self.url}/ready", timeout=3)
                    if response.status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready after {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self, timeout: float = 40.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return int(self.process.returncode)

    async def wait_exit(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not exit:\n{self.log_tail()}")
            await asyncio.sleep(0.1)
        return int(self.process.returncode)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def service_env(
    *, name: str, database: ProvisionedDatabase, bootstrap: str, prefix: str, port: int
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BINOME_")}
    env.update(
        {
            "BINOME_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "BINOME_DATABASE_URL": database.dsn(name),
            "BINOME_HTTP_PORT": str(port),
            "BINOME_TOPIC_PREFIX": prefix,
            "BINOME_LOG_FORMAT": "text",
            "BINOME_RELAY_POLL_INTERVAL_SECONDS": "0.5",
            "BINOME_GRACEFUL_TIMEOUT_SECONDS": "10",
            **SINGLE_BROKER_SETTINGS,
        }
    )
    return env
