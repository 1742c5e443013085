"""SIGTERM stops a service promptly in every state it can be in, and loses nothing.

Each test brings a real service process to one state (starting, waiting out an outage,
consuming, relaying, sending e-mail), sends SIGTERM, and checks that the process exits 0
within :data:`STOP_BOUND_SECONDS` (a correctness bound, not a speed figure: it is the
graceful timeout given to the work in hand plus a margin), then that a restart finishes the
work exactly once. Outages are made with a proxy in front of the shared Postgres, which
itself keeps running for everybody else.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.topics import SESSIONS_EVENTS
from tests.integration.messaging.factories import pair_formed, programme_defined
from tests.support.outage import CuttableProxy, SilentServer
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, free_port
from tests.support.waiting import eventually, metric
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

GRACEFUL_TIMEOUT_SECONDS = 5
STOP_BOUND_SECONDS = 15.0
PAIRS_PROCESSED = (
    "SELECT count(*) FROM processed_messages WHERE message_type = 'binome.pairing.pair-formed'"
)


async def sigterm(service: ServiceProcess, signum: int = signal.SIGTERM) -> int:
    """Send SIGTERM (or ``signum``); the exit status, which must come within the bound."""
    assert service.process is not None
    sent = time.monotonic()
    service.process.send_signal(signum)
    status = await service.wait_exit(timeout=STOP_BOUND_SECONDS)
    assert time.monotonic() - sent <= STOP_BOUND_SECONDS
    return status


def logged(service: ServiceProcess, text: str) -> Any:
    async def check() -> bool:
        return text in service.log_path.read_text(errors="replace")

    return check


def start(service_factory: Any, name: str, **env: str) -> ServiceProcess:
    process: ServiceProcess = service_factory(
        name, BINOME_GRACEFUL_TIMEOUT_SECONDS=str(GRACEFUL_TIMEOUT_SECONDS), **env
    )
    return process


@pytest.fixture
async def postgres_proxy(admin_dsn: str) -> AsyncIterator[CuttableProxy]:
    port = urlsplit(admin_dsn).port
    assert port is not None
    proxy = CuttableProxy(port)
    await proxy.start()
    yield proxy
    await proxy.stop()


def through(proxy: CuttableProxy, dsn: str) -> str:
    """``dsn`` with its port replaced by the proxy's."""
    parts = urlsplit(dsn)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))


@dataclass(frozen=True)
class Waiting:
    """A service pointed at a closed port, and the line it logs while it waits."""

    service: str
    variable: str
    address: str
    logs: str


WAITING_FOR_POSTGRES = Waiting(
    "pairing",
    "BINOME_DATABASE_URL",
    "postgresql://binome_pairing:x@127.0.0.1:{port}/binome",
    "Postgres unavailable",
)
WAITING_FOR_KAFKA = Waiting(
    "sessions", "BINOME_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:{port}", "Kafka unavailable"
)


@pytest.mark.parametrize(
    "waiting",
    [WAITING_FOR_POSTGRES, WAITING_FOR_KAFKA],
    ids=["waiting-for-postgres", "waiting-for-kafka"],
)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_sigterm_or_sigint_while_starting_up_exits_at_once(
    service_factory: Any, waiting: Waiting, stop_signal: signal.Signals
) -> None:
    closed = free_port()  # nothing listens there
    service = start(
        service_factory, waiting.service, **{waiting.variable: waiting.address.format(port=closed)}
    )
    await eventually(logged(service, waiting.logs), True)

    assert await sigterm(service, stop_signal) == 0, service.log_tail()
    log = service.log_path.read_text()
    assert f"stopping ({stop_signal.name})" in log
    assert "service stopped cleanly" in log


async def test_sigterm_while_consuming_commits_or_redelivers_every_record_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    await kafka.publish(programme_defined())
    sessions = start(service_factory, "sessions", BINOME_CONSUMER_BATCH_SIZE="50")
    await sessions.wait_ready()
    for index in range(600):
        await kafka.publish(pair_formed(index))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) > 0 FROM pairs"), True)

    assert await sigterm(sessions) == 0, sessions.log_tail()
    assert await database.fetchval("sessions", PAIRS_PROCESSED) < 600, "stopped mid-stream"

    restarted = start(service_factory, "sessions")
    await restarted.wait_ready()
    await eventually(lambda: database.fetchval("sessions", PAIRS_PROCESSED), 600)
    assert await database.fetchval("sessions", "SELECT count(DISTINCT pair_id) FROM pairs") == 600


async def test_sigterm_while_waiting_out_a_postgres_outage_leaves_the_batch_for_the_next_start(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    postgres_proxy: CuttableProxy,
) -> None:
    await kafka.publish(programme_defined())
    sessions = start(
        service_factory,
        "sessions",
        BINOME_DATABASE_URL=through(postgres_proxy, database.dsn("sessions")),
    )
    await sessions.wait_ready()
    for index in range(20):
        await kafka.publish(pair_formed(index))
    await eventually(lambda: database.fetchval("sessions", PAIRS_PROCESSED), 20)

    postgres_proxy.cut()
    for index in range(20, 50):
        await kafka.publish(pair_formed(index))
    await eventually(logged(sessions, "waits for the infrastructure"), True)
    # Nothing of the outage's records is committed: the lag says so, partition by partition.
    await eventually(lambda: metric(sessions.url, "binome_consumer_lag"), 30.0)

    assert await sigterm(sessions) == 0, sessions.log_tail()
    assert "will be redelivered" in sessions.log_path.read_text()

    postgres_proxy.restore()
    restarted = start(service_factory, "sessions")
    await restarted.wait_ready()
    await eventually(lambda: database.fetchval("sessions", PAIRS_PROCESSED), 50)
    assert await database.fetchval("sessions", "SELECT count(*) FROM pairs") == 50


async def test_sigterm_while_relaying_marks_only_what_kafka_acknowledged(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    rows = 40_000
    topic = SESSIONS_EVENTS.full_name(kafka.prefix)
    await _fill_outbox(database, topic, rows)
    sessions = start(service_factory, "sessions")
    sent = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
    await eventually(lambda: _positive(database.fetchval("sessions", sent)), True)

    assert await sigterm(sessions) == 0, sessions.log_tail()
    assert await database.fetchval("sessions", sent) < rows, "stopped mid-relay"

    restarted = start(service_factory, "sessions")
    await restarted.wait_ready()
    await eventually(lambda: database.fetchval("sessions", sent), rows, timeout=120)
    records = await kafka.read_all(topic, expect=rows, timeout=120)
    assert len(records) == rows
    assert len({record.value for record in records}) == rows


async def _positive(count: Any) -> bool:
    return int(await count) > 0


async def _fill_outbox(database: ProvisionedDatabase, topic: str, rows: int) -> None:
    conn: asyncpg.Connection = await database.connect("sessions")
    try:
        await conn.copy_records_to_table(
            "outbox",
            columns=["event_id", "topic", "key", "value", "header_names", "header_values"],
            records=[
                (uuid.uuid4(), topic, f"pair-{n % 97}".encode(), f"row-{n}".encode(), [], [])
                for n in range(rows)
            ],
        )
    finally:
        await conn.close()


@pytest.fixture
async def stalled_smtp() -> AsyncIterator[SilentServer]:
    server = SilentServer()
    await server.start()
    yield server
    await server.stop()


def notifications_env(smtp_port: int) -> dict[str, str]:
    return {
        "BINOME_SMTP_HOST": "127.0.0.1",
        "BINOME_SMTP_PORT": str(smtp_port),
        "BINOME_SMTP_FROM": "binome@binome.example.com",
        "BINOME_PUBLIC_BASE_URL": "https://rh.example.com",
    }


async def test_sigterm_while_an_smtp_server_stalls_exits_and_the_next_start_sends(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    stalled_smtp: SilentServer,
    tmp_path: Path,
) -> None:
    notifications = start(
        service_factory,
        "notifications",
        BINOME_SMTP_TIMEOUT_SECONDS="600",
        **notifications_env(stalled_smtp.port),
    )
    await notifications.wait_ready()
    for envelope in (make.define_programme(), *make.enrol_pair(), make.pair_formed()):
        await kafka.publish(envelope)
    sending = "SELECT count(*) FROM deliveries WHERE status = 'sending'"
    await eventually(lambda: database.fetchval("notifications", sending), 1)
    assert stalled_smtp.connections >= 1

    assert await sigterm(notifications) == 0, notifications.log_tail()

    async with SmtpSink(directory=tmp_path / "mail") as sink:
        restarted = start(service_factory, "notifications", **notifications_env(sink.port))
        await restarted.wait_ready()
        statuses = "SELECT string_agg(status, ',' ORDER BY status) FROM deliveries"
        await eventually(lambda: database.fetchval("notifications", statuses), "sent,sent")
        await asyncio.sleep(1)  # a duplicate would arrive now
        assert len(sink.stored) == 2
