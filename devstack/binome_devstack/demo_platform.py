"""The running platform of a demo: its processes, its clock, and knowing when it is idle.

A demo run owns a database and a topic prefix of its own, the three service processes
(simulated clock) and a local SMTP sink writing ``.eml`` files. What it started is written
to ``run.json`` in the state directory, so ``demo down`` (or the next run) stops exactly
those processes and nothing else.

"Idle" (:meth:`PlatformProbe.settle`) means: every consumer group has read every message of
its topics, no outbox holds an unsent row, and no scheduled job is due at the services'
time. Only then does the demo move the clock again, so each week is played out fully.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from binome_devstack.local_action_keys import LocalActionKeys
from binome_devstack.local_tokens import LocalTokens
from binome_devstack.processes import process_alive, terminate
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import (
    ALL_TOPICS,
    HR_COMMANDS,
    PAIRING_EVENTS,
    SESSION_COMMANDS,
    SESSIONS_EVENTS,
    TopicSpec,
)
from binome_shared.db.provision import SERVICES, ServiceDatabase, provision
from binome_shared.messaging.cloudevents import ReceivedRecord, decode, encode
from binome_shared.messaging.direct_send import send_traced
from binome_shared.runtime.topic_policy import SINGLE_BROKER_SETTINGS

SUBSCRIPTIONS: Mapping[str, tuple[TopicSpec, ...]] = {
    "pairing": (HR_COMMANDS,),
    "sessions": (PAIRING_EVENTS, SESSION_COMMANDS, HR_COMMANDS),
    "notifications": (HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS),
}
DEFAULT_PORTS: Mapping[str, int] = {"pairing": 8001, "sessions": 8002, "notifications": 8003}
DEFAULT_SMTP_PORT = 2525
PASSWORDS = {service: f"binome_{service}" for service in SERVICES}
DEMO_SOURCE = "/hr/demo-platform"
CALENDAR_SOURCE = "/calendar/demo-participants"


class DemoError(RuntimeError):
    """Something the demo cannot go on without; the message says where to look."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoPlaces:
    """Where a demo run keeps its state and writes its results, and the ports it uses."""

    state_dir: Path
    output_dir: Path
    database: str
    ports: Mapping[str, int]
    smtp_port: int

    @property
    def mail_dir(self) -> Path:
        """Where the SMTP sink writes every e-mail it accepts."""
        return self.output_dir / "mail"

    @property
    def run_file(self) -> Path:
        """What the current run started (pids, prefix, database)."""
        return self.state_dir / "run.json"

    @property
    def tokens_dir(self) -> Path:
        """The local key that signs bearer tokens for the programme-data endpoints."""
        return self.state_dir / "tokens"

    def log_file(self, name: str) -> Path:
        """The log of one process of the run."""
        return self.state_dir / f"{name}.log"


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoRun:
    """One run's own corner of the shared stack."""

    run_id: str
    topic_prefix: str
    database: str
    admin_dsn: str
    """The stack's administrator, connected to this run's database."""
    kafka_bootstrap: str

    def service_dsn(self, service: str) -> str:
        """The service's own role on this run's database."""
        return ServiceDatabase(service).dsn(
            admin_dsn=self.admin_dsn, password=PASSWORDS[service], database=self.database
        )

    def topic(self, spec: TopicSpec) -> str:
        """A topic's full name in this run."""
        return spec.full_name(self.topic_prefix)


def database_dsn(admin_dsn: str, database: str) -> str:
    """``admin_dsn`` pointed at ``database``."""
    base, _, _ = admin_dsn.rpartition("/")
    return f"{base}/{database}"


async def recreate_database(admin_dsn: str, database: str) -> None:
    """Drop the previous run's database and provision a fresh one (schemas and roles)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    await provision(admin_dsn, passwords=PASSWORDS, database=database)


async def delete_topics(bootstrap: str, prefix: str) -> int:
    """Delete a finished run's topics (and dead-letter topics); returns how many existed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [
            name
            for spec in ALL_TOPICS
            for name in (spec.full_name(prefix), spec.dead_letter_name(prefix))
            if name in existing
        ]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


# ---------------------------------------------------------------------------- processes


def read_run_file(places: DemoPlaces) -> dict[str, Any] | None:
    """What the last run recorded, or None."""
    try:
        data = json.loads(places.run_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_run_file(places: DemoPlaces, data: Mapping[str, Any]) -> None:
    """Record what this run started, at once (a Ctrl-C must find it)."""
    places.state_dir.mkdir(parents=True, exist_ok=True)
    places.run_file.write_text(json.dumps(data, indent=2), encoding="utf-8")


def stop_recorded_processes(places: DemoPlaces, say: Callable[[str], None]) -> int:
    """Stop the processes a run recorded (services first, the sink last)."""
    recorded = read_run_file(places) or {}
    pids: dict[str, int] = dict(recorded.get("pids", {}))
    stopped = 0
    for name in sorted(pids, key=lambda name: name == "smtp-sink"):
        pid = pids[name]
        if process_alive(pid):
            terminate(pid, timeout=30)
            say(f"  {name}: stopped (pid {pid})")
            stopped += 1
    if recorded:
        write_run_file(places, {**recorded, "pids": {}})
    return stopped


class DemoProcesses:
    """Starts the run's SMTP sink and services, and records their pids."""

    def __init__(
        self,
        *,
        places: DemoPlaces,
        run: DemoRun,
        extra_env: Mapping[str, str],
        own_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``extra_env`` goes to every service, ``own_env[name]`` to service ``name`` only
        (a service refuses to start with a ``BINOME_*`` variable it does not read)."""
        self._places = places
        self._run = run
        self._extra_env = dict(extra_env)
        self._own_env = {name: dict(env) for name, env in (own_env or {}).items()}
        self._pids: dict[str, int] = {}

    def _record(self) -> None:
        write_run_file(
            self._places,
            {
                "run_id": self._run.run_id,
                "topic_prefix": self._run.topic_prefix,
                "database": self._run.database,
                "pids": self._pids,
            },
        )

    def _spawn(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> int:
        log = self._places.log_file(name).open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own modules, fixed arguments
            list(command),
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops them in order
        )
        log.close()
        self._pids[name] = process.pid
        self._record()
        return process.pid

    def start_sink(self) -> int:
        """The local SMTP server that writes each accepted e-mail as an ``.eml`` file."""
        self._places.mail_dir.mkdir(parents=True, exist_ok=True)
        return self._spawn(
            "smtp-sink",
            [
                sys.executable,
                "-m",
                "binome_devstack.notifications.preview_cli",
                "smtp-sink",
                "--port",
                str(self._places.smtp_port),
                "--dir",
                str(self._places.mail_dir),
            ],
            os.environ,
        )

    def service_env(self, name: str) -> dict[str, str]:
        """A service's environment: this run's database, prefix and port, simulated clock,
        one copy of each topic (the stack runs one broker), and only what it reads."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("BINOME_")}
        env.update(
            {
                "BINOME_KAFKA_BOOTSTRAP_SERVERS": self._run.kafka_bootstrap,
                "BINOME_DATABASE_URL": self._run.service_dsn(name),
                "BINOME_HTTP_PORT": str(self._places.ports[name]),
                "BINOME_TOPIC_PREFIX": self._run.topic_prefix,
                "BINOME_CLOCK": "simulated",
                "BINOME_INSTANCE_ID": f"demo-{name}",
                **SINGLE_BROKER_SETTINGS,
                # Tokens from `python -m binome_devstack.local_tokens` read progress and counts.
                **LocalTokens(self._places.tokens_dir).service_env(),
                # Links in the demo's e-mails are signed and verified with a local key pair.
                **LocalActionKeys(self._places.tokens_dir).service_env(name),
            }
        )
        if name == "notifications":
            env["BINOME_SMTP_PORT"] = str(self._places.smtp_port)
            # The e-mails' action links lead to the service that performs each action.
            env["BINOME_ACTION_LINK_BASE_URLS"] = json.dumps(
                {
                    owner: f"http://127.0.0.1:{self._places.ports[owner]}"
                    for owner in ("pairing", "sessions", "notifications")
                }
            )
        env.update(self._extra_env)
        env.update(self._own_env.get(name, {}))
        return env

    def start_service(self, name: str) -> int:
        """``binome-<name> serve`` in the background."""
        return self._spawn(
            name,
            [sys.executable, "-m", f"binome_{name}.cli", "serve"],
            self.service_env(name),
        )

    def start_tool(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> int:
        """Another process of the run (the report server), stopped with the services."""
        return self._spawn(name, command, env)

    async def wait_ready(self, name: str, *, limit_seconds: float = 120.0) -> None:
        """Until the service answers ``/ready`` with 200 (Kafka, Postgres, migrations)."""
        deadline = time.monotonic() + limit_seconds
        url = f"http://127.0.0.1:{self._places.ports[name]}/ready"
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if not process_alive(self._pids[name]):
                    raise DemoError(f"{name} exited: see {self._places.log_file(name)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url, timeout=3)).status_code == 200:
                        return
                await asyncio.sleep(0.3)
        raise DemoError(
            f"{name} is not ready after {limit_seconds:.0f} s: see {self._places.log_file(name)}"
        )


# ---------------------------------------------------------------------------- the clock


async def move_clocks(places: DemoPlaces, moment: datetime) -> None:
    """Move every service's simulated clock to ``moment`` (due jobs then run at once)."""
    async with httpx.AsyncClient(timeout=30) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"http://127.0.0.1:{places.ports[name]}/admin/clock",
                    json={"now": moment.isoformat()},
                )
                for name in SERVICES
            )
        )
    for name, response in zip(SERVICES, responses, strict=True):
        if response.status_code != 200:
            raise DemoError(f"{name} refused the clock move: {response.text}")


# ---------------------------------------------------------------------------- Kafka


class CommandSender:
    """Sends HR and participants' commands with an idempotent producer (``acks=all``)."""

    def __init__(self, run: DemoRun) -> None:
        self._run = run
        self._producer = AIOKafkaProducer(
            bootstrap_servers=run.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            client_id="binome-demo",
        )

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def send(self, envelopes: Sequence[Envelope[Any]]) -> None:
        """Send in order and wait until the broker has acknowledged every one."""
        records = [
            encode(envelope, topic=self._run.topic(envelope.data.topic)) for envelope in envelopes
        ]
        await send_traced(self._producer, records)


class EventReader:
    """Reads a topic of this run from its start, in the background, decoded (HR's view)."""

    def __init__(self, run: DemoRun, topic: TopicSpec) -> None:
        self._consumer = AIOKafkaConsumer(
            run.topic(topic),
            bootstrap_servers=run.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.envelopes: list[Envelope[Message]] = []
        self._task: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        """Start reading."""
        await self._consumer.start()
        self._task = asyncio.create_task(self._read(), name="demo-event-reader")

    async def _read(self) -> None:
        async for record in self._consumer:
            self.envelopes.append(decode(ReceivedRecord.of(record), CATALOGUE))
            self._arrived.set()

    async def wait_for(
        self, found: Callable[[list[Envelope[Message]]], bool], *, limit_seconds: float, what: str
    ) -> None:
        """Until ``found(envelopes read so far)`` holds."""
        deadline = time.monotonic() + limit_seconds
        while not found(self.envelopes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DemoError(f"waited {limit_seconds:.0f} s for {what}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=min(remaining, 1.0))

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


# ---------------------------------------------------------------------------- idleness


class PlatformProbe:
    """Tells whether the platform has finished reacting to everything sent so far."""

    def __init__(self, run: DemoRun) -> None:
        self._run = run
        self._admin = AIOKafkaAdminClient(bootstrap_servers=run.kafka_bootstrap)
        self._offsets = AIOKafkaConsumer(bootstrap_servers=run.kafka_bootstrap, group_id=None)
        self._pool: asyncpg.Pool | None = None
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def start(self) -> None:
        """Connect to Kafka and PostgreSQL."""
        await self._admin.start()
        await self._offsets.start()
        self._pool = await asyncpg.create_pool(self._run.admin_dsn, min_size=1, max_size=2)
        for service, topics in SUBSCRIPTIONS.items():
            partitions: list[TopicPartition] = []
            for spec in topics:
                partitions.extend(
                    TopicPartition(self._run.topic(spec), partition)
                    for partition in range(spec.partitions)
                )
            self._partitions[service] = partitions

    async def stop(self) -> None:
        """Disconnect."""
        await self._offsets.stop()
        await self._admin.close()
        if self._pool is not None:
            await self._pool.close()

    async def backlog(self, now: datetime) -> dict[str, int]:
        """Per service: messages not yet read, outbox rows not yet sent, jobs due."""
        assert self._pool is not None
        every = [partition for group in self._partitions.values() for partition in group]
        ends = await self._offsets.end_offsets(list(set(every)))
        backlog: dict[str, int] = {}
        async with self._pool.acquire() as conn:
            for service in SERVICES:
                committed = await self._admin.list_consumer_group_offsets(
                    f"{self._run.topic_prefix}binome-{service}"
                )
                unread = 0
                for partition in self._partitions[service]:
                    done = committed.get(partition)
                    unread += ends[partition] - (done.offset if done and done.offset >= 0 else 0)
                pending = await conn.fetchval(
                    f"SELECT (SELECT count(*) FROM {service}.outbox WHERE sent_at IS NULL)"
                    f" + (SELECT count(*) FROM {service}.scheduled_jobs"
                    "     WHERE done_at IS NULL AND due_at <= $1)",
                    now,
                )
                if service == "notifications":  # sends in flight (BINOME_DELIVERY_CONCURRENCY)
                    pending += await conn.fetchval(
                        "SELECT count(*) FROM notifications.deliveries WHERE status = 'sending'"
                    )
                backlog[service] = unread + int(pending)
        return backlog

    async def settle(self, now: datetime, *, limit_seconds: float = 600.0) -> None:
        """Wait until the platform is idle twice in a row (a batch may be in flight)."""
        deadline = time.monotonic() + limit_seconds
        idle_in_a_row = 0
        while idle_in_a_row < 2:
            backlog = await self.backlog(now)
            idle_in_a_row = idle_in_a_row + 1 if not any(backlog.values()) else 0
            if time.monotonic() > deadline:
                raise DemoError(
                    f"the platform is still busy after {limit_seconds:.0f} s: {backlog}"
                )
            await asyncio.sleep(0.05 if idle_in_a_row else 0.15)
