"""The one composition of a Binôme service process, shared by all three services.

A service is described by a :class:`ServiceDefinition` (what it subscribes to, which handler
takes which message, what it publishes); :func:`build_app` turns it into an ASGI application:
a FastStream ``KafkaBroker`` whose batch subscriber feeds the :class:`ReliableConsumer`, an
outbox relay, and ``/health``, ``/ready``, ``/metrics`` and ``/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client import Counter as MetricCounter

from binome_shared.contracts.base import Message
from binome_shared.contracts.registry import Registry
from binome_shared.contracts.topics import TopicSpec
from binome_shared.db.migrations import Migration, apply_migrations, pending_migrations
from binome_shared.messaging.backoff import keep_trying
from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.consumer import (
    Clock,
    ConsumerPolicy,
    ReliableConsumer,
    Route,
    ShutdownDuringOutageError,
)
from binome_shared.messaging.outbox import Outbox, OutboxRelay
from binome_shared.messaging.scheduler import JobHandler, JobRunner, schedule
from binome_shared.messaging.topics import ensure_topics
from binome_shared.runtime.clock import SimulatedClock, SystemClock
from binome_shared.runtime.observability import tracer_provider
from binome_shared.runtime.settings import ServiceSettings

logger = logging.getLogger(__name__)

PARKING_RETRY_SECONDS = 5
"""How often parked messages are tried again (a replica may have parked one just as another
committed what it waited for, so the release did not see it)."""


HttpHandler = Callable[["ServiceRuntime", Mapping[str, Any]], Awaitable[AsgiResponse]]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Work a service does every ``every`` (stall checks, progress reports), once per period
    across all replicas."""

    job_type: str
    every: timedelta


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """Everything that makes one service different from another."""

    name: str
    subscriptions: Sequence[TopicSpec]
    routes: Mapping[type[Message], Route]
    publishes: Sequence[type[Message]]
    registry: Registry
    migrations: Sequence[Migration]
    description: str = ""
    http_routes: Mapping[str, HttpHandler] = field(default_factory=dict)
    jobs: Mapping[str, JobHandler] = field(default_factory=dict)
    periodic_jobs: Sequence[PeriodicJob] = ()
    shutdown_hooks: Sequence[Callable[[], Awaitable[None]]] = ()
    """Closed last, after the consumer, the relay and the jobs stopped (own pools, clients)."""

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of everything this service publishes."""
        return f"/binome/{self.name}"

    def consumer_group(self, prefix: str = "") -> str:
        return f"{prefix}binome-{self.name}"


class ServiceRuntime:
    """The live parts of a running service: pool, consumer, relay and their state."""

    def __init__(
        self,
        *,
        definition: ServiceDefinition,
        settings: ServiceSettings,
        clock: Clock,
        metrics: CollectorRegistry,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock
        self.outbox = Outbox(topic_prefix=settings.topic_prefix)
        self.stop_event = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._consumer: ReliableConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._producer: AIOKafkaProducer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.jobs: JobRunner | None = None
        self._migrations_done = False
        self._processed = MetricCounter(
            "binome_messages_total",
            "Messages consumed, by type and outcome (done, duplicate, rejected, parked, "
            "failed, undecodable, ignored).",
            ["service", "type", "outcome"],
            registry=metrics,
        )
        self._outbox_pending = Gauge(
            "binome_outbox_pending",
            "Outbox rows not yet acknowledged by Kafka (sampled by /ready and /metrics).",
            ["service"],
            registry=metrics,
        )

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the service has not started")
        return self._pool

    @property
    def consumer(self) -> ReliableConsumer:
        if self._consumer is None:
            raise RuntimeError("the service has not started")
        return self._consumer

    async def start(self) -> None:
        """Open the pool (waiting for Postgres), migrate, and prepare the consumer."""
        self._pool = await keep_trying(
            lambda: asyncpg.create_pool(
                self.settings.database_url,
                min_size=2,
                max_size=self.settings.db_pool_max_size,
                server_settings={
                    "search_path": self.definition.name,
                    "application_name": f"binome-{self.definition.name}",
                },
            ),
            what="Postgres",
            stop=self.stop_event,
            retry_on=(OSError, asyncpg.PostgresError),
        )
        if self.settings.migrate_on_start:
            async with self.pool.acquire() as conn:
                await apply_migrations(conn, list(self.definition.migrations))
        self._consumer = ReliableConsumer(
            pool=self.pool,
            registry=self.definition.registry,
            routes=self.definition.routes,
            outbox=self.outbox,
            clock=self.clock,
            source=self.definition.source,
            consumer_group=self.definition.consumer_group(self.settings.topic_prefix),
            policy=ConsumerPolicy(max_attempts=self.settings.consumer_max_attempts),
            on_outcomes=self._count,
        )

    async def ensure_topics(self) -> None:
        """Create the service's topics with their declared partitions (and their DLQs)."""
        topics = {*self.definition.subscriptions, *(m.topic for m in self.definition.publishes)}
        try:
            await ensure_topics(
                self.settings.kafka_bootstrap_servers,
                sorted(topics, key=lambda t: t.name),
                prefix=self.settings.topic_prefix,
            )
        except Exception as error:  # the broker may be down: the relay and consumer wait for it
            logger.warning("could not check topics (%s)", type(error).__name__)

    async def start_background(self) -> None:
        """Start the outbox relay once the broker is up."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=f"binome-{self.definition.name}-relay-{self.settings.instance_id}",
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )
        self._relay = OutboxRelay(
            pool=self.pool,
            producer=self._producer,
            schema=self.definition.name,
            batch_size=self.settings.relay_batch_size,
            poll_interval=self.settings.relay_poll_interval_seconds,
        )
        self._tasks.append(asyncio.create_task(self._run_relay(), name="outbox-relay"))
        if self.definition.jobs:
            await self._plan_periodic_jobs()
            self.jobs = JobRunner(
                pool=self.pool,
                handlers=self.definition.jobs,
                outbox=self.outbox,
                clock=self.clock,
                source=self.definition.source,
            )
            self._tasks.append(asyncio.create_task(self.jobs.run(self.stop_event), name="jobs"))
        self._tasks.append(asyncio.create_task(self._expire_parked_periodically(), name="parking"))

    async def _plan_periodic_jobs(self) -> None:
        async with self.pool.acquire() as conn:
            for periodic in self.definition.periodic_jobs:
                await schedule(
                    conn,
                    job_id=f"periodic:{periodic.job_type}",
                    job_type=periodic.job_type,
                    due_at=self.clock.now() + periodic.every,
                    repeat_every=periodic.every,
                )

    async def _run_relay(self) -> None:
        assert self._producer is not None
        assert self._relay is not None
        # aiokafka raises KafkaConnectionError and friends while the broker is away.
        await keep_trying(self._producer.start, what="Kafka (relay)", stop=self.stop_event)
        await self._relay.run(self.stop_event)

    async def _expire_parked_periodically(self) -> None:
        """Every few seconds, retry parked messages; every minute, dead-letter stale ones."""
        ticks = 0
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), PARKING_RETRY_SECONDS)
            if self.stop_event.is_set():
                return
            ticks += 1
            try:
                await self.consumer.retry_parked()
                if ticks % (60 // PARKING_RETRY_SECONDS) == 0:
                    expired = await self.consumer.expire_parked()
                    if expired:
                        logger.warning(
                            "dead-lettered %d messages whose prerequisite never came", expired
                        )
            except Exception as error:  # an outage: try again next period
                logger.warning("parking sweep failed: %s", type(error).__name__)

    async def begin_shutdown(self) -> None:
        """SIGTERM: stop waiting out outages; the batch in hand still finishes and commits."""
        self.stop_event.set()

    async def finish_shutdown(self) -> None:
        """After the broker stopped: let the relay drain its batch, then close everything."""
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=self.settings.graceful_timeout_seconds)
        for hook in self.definition.shutdown_hooks:
            try:
                await hook()
            except Exception:  # one failing hook must not keep the others from closing
                logger.exception("a shutdown hook failed")
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()

    async def consume(self, message: Any) -> None:
        """FastStream's batch subscriber: process, commit, then acknowledge the offsets."""
        raw = message.raw_message
        records = [
            unwrapped.record if isinstance(unwrapped, _RecordWithoutHeaders) else unwrapped
            for unwrapped in (raw if isinstance(raw, tuple) else (raw,))
        ]
        received = [
            ReceivedRecord(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=record.headers or (),
            )
            for record in records
        ]
        try:
            await self.consumer.process(received, self.stop_event)
        except ShutdownDuringOutageError:
            logger.warning(
                "stopping during an outage: %d records will be redelivered", len(received)
            )
            await message.nack()
            return
        await message.ack()

    def _count(self, outcomes: Counter[tuple[str, str]]) -> None:
        for (message_type, outcome), count in outcomes.items():
            self._processed.labels(self.definition.name, message_type, outcome).inc(count)

    async def readiness(self, broker: KafkaBroker) -> dict[str, bool]:
        """What /ready reports: Kafka and Postgres reachable, migrations applied."""
        checks = {"kafka": False, "postgres": False, "migrations": False}
        with contextlib.suppress(Exception):
            checks["kafka"] = bool(await broker.ping(timeout=2.0))
        if self._pool is not None:
            try:
                async with asyncio.timeout(2.0), self._pool.acquire() as conn:
                    checks["postgres"] = (await conn.fetchval("SELECT 1")) == 1
                    if not self._migrations_done:
                        pending = await pending_migrations(conn, list(self.definition.migrations))
                        self._migrations_done = not pending
                    checks["migrations"] = self._migrations_done
                    self._outbox_pending.labels(self.definition.name).set(
                        await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                    )
            except Exception as error:  # any failure means "not ready"; the reason is logged
                logger.info("readiness check failed: %s", type(error).__name__)
        return checks


def build_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    asyncapi: Callable[[], dict[str, Any]] | None = None,
) -> tuple[AsgiFastStream, ServiceRuntime]:
    """The ASGI application of one service, and its runtime (for tests and the demo)."""
    metrics = CollectorRegistry()
    # The messaging core opens a span per message (or per batched run), continuing the
    # producer's trace; FastStream's telemetry middleware would add a span per Kafka batch
    # and read every record's baggage (a tenth of the consumer's time) for nothing more.
    tracer_provider(definition.name)
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"binome-{definition.name}-{settings.instance_id}",
        graceful_timeout=settings.graceful_timeout_seconds,
        # Our JSON handler, not FastStream's coloured one; per-message lines only at DEBUG.
        logger=logging.getLogger("faststream.broker"),
        log_level=logging.DEBUG,
        middlewares=[
            KafkaPrometheusMiddleware(registry=metrics, app_name=f"binome-{definition.name}"),
        ],
    )
    runtime = ServiceRuntime(
        definition=definition,
        settings=settings,
        clock=clock or (SimulatedClock() if settings.clock == "simulated" else SystemClock()),
        metrics=metrics,
    )
    if definition.subscriptions:
        subscriber = broker.subscriber(
            *[topic.full_name(settings.topic_prefix) for topic in definition.subscriptions],
            group_id=definition.consumer_group(settings.topic_prefix),
            batch=True,
            max_records=settings.consumer_batch_size,
            batch_timeout_ms=5,  # also the idle sleep between empty polls: keep latency low
            fetch_max_wait_ms=20,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=_parse_without_headers,
            decoder=_keep_raw,
            title=f"binome-{definition.name}",
        )

        @subscriber
        async def consume(message: KafkaMessage) -> None:
            await runtime.consume(message)

    @get(include_in_schema=False)
    async def health(scope: Any) -> AsgiResponse:  # noqa: ARG001 - liveness needs no input
        return json_response({"status": "alive", "service": definition.name})

    @get(include_in_schema=False)
    async def ready(scope: Any) -> AsgiResponse:  # noqa: ARG001
        checks = await runtime.readiness(broker)
        return json_response(
            {"ready": all(checks.values()), **checks}, 200 if all(checks.values()) else 503
        )

    @get(include_in_schema=False)
    async def metrics_endpoint(scope: Any) -> AsgiResponse:  # noqa: ARG001
        return AsgiResponse(generate_latest(metrics), 200, {"content-type": CONTENT_TYPE_LATEST})

    routes: list[tuple[str, Any]] = [
        ("/health", health),
        ("/ready", ready),
        ("/metrics", metrics_endpoint),
    ]
    if asyncapi is not None:
        document = asyncapi()

        @get(include_in_schema=False)
        async def asyncapi_endpoint(scope: Any) -> AsgiResponse:  # noqa: ARG001
            return json_response(document)

        routes.append(("/asyncapi.json", asyncapi_endpoint))
    for path, handler in definition.http_routes.items():
        routes.append((path, _bind(handler, runtime)))
    if isinstance(runtime.clock, SimulatedClock):
        routes.append(("/admin/clock", _clock_endpoint(runtime, runtime.clock)))

    app = AsgiFastStream(
        broker,
        logger=logging.getLogger("faststream.app"),
        asgi_routes=routes,
        on_startup=[runtime.start, runtime.ensure_topics],
        after_startup=[runtime.start_background],
        on_shutdown=[runtime.begin_shutdown],
        after_shutdown=[runtime.finish_shutdown],
    )
    return app, runtime


@dataclass(frozen=True, slots=True)
class _RecordWithoutHeaders:
    """A Kafka record as FastStream's batch parser sees it: everything but the headers.

    That parser decodes every header value of every record as UTF-8 text. One binary value
    (a signature from another producer) would break the whole batch, before the reliable
    consumer could judge a single record; and the consumer reads the headers itself.
    """

    record: Any

    @property
    def headers(self) -> tuple[()]:
        return ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


async def _parse_without_headers(
    records: tuple[Any, ...], original_parser: Callable[[tuple[Any, ...]], Awaitable[Any]]
) -> Any:
    return await original_parser(tuple(_RecordWithoutHeaders(record) for record in records))


async def _keep_raw(message: Any) -> None:
    """Skip FastStream's JSON decoding: the reliable consumer reads raw records itself, so an
    unreadable body becomes a dead letter with its reason instead of an error before us."""
    del message


def _clock_endpoint(runtime: ServiceRuntime, clock: SimulatedClock) -> Any:
    """``GET``/``POST /admin/clock`` (simulated clock only): read or move the service's time."""

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        status, body = 200, b""
        if scope["method"] == "POST":
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            try:
                clock.set(datetime.fromisoformat(json.loads(b"".join(chunks))["now"]))
                if runtime.jobs is not None:
                    runtime.jobs.wake()
            except (ValueError, KeyError, TypeError) as error:
                status, body = 400, json.dumps({"error": str(error)}).encode()
        if not body:
            body = json.dumps({"now": clock.now().isoformat()}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return endpoint


def _bind(handler: HttpHandler, runtime: ServiceRuntime) -> Any:
    @get(include_in_schema=False)
    async def bound(scope: Any) -> AsgiResponse:
        return await handler(runtime, scope)

    return bound


def json_response(body: Mapping[str, Any], status: int = 200) -> AsgiResponse:
    """A JSON answer for the service's HTTP endpoints (UTF-8, accents kept)."""
    return AsgiResponse(
        json.dumps(body, ensure_ascii=False, default=str).encode(),
        status,
        {"content-type": "application/json; charset=utf-8"},
    )
