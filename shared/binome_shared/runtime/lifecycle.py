"""The live parts of a running service and their life: start-up, work, shutdown.

Start-up runs in the background while the HTTP endpoints already answer (``/health`` 200,
``/ready`` 503 naming what is missing): wait for Postgres, migrate, wait for Kafka and check
the topics, start the consumer, then the outbox relay and the jobs. A stop request (SIGTERM,
SIGINT) cancels whatever start-up step is under way — each is safe to repeat at the next
start — and otherwise lets the work in hand finish within ``graceful_timeout_seconds``:
the consumer's batch commits (or stays unacknowledged, to be redelivered), the relay's
batch is marked sent only if Kafka acknowledged it, unsent outbox rows wait for the next
start, and a job cut short rolls back and runs again.

What runs beside the consumer (relay, jobs, parking sweep) is :mod:`.background`; the wait
for Kafka and the declared topics is :mod:`.declared_topics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as MetricCounter

from binome_shared.db.migrations import apply_migrations, pending_migrations
from binome_shared.messaging.backoff import keep_trying
from binome_shared.messaging.consumer import (
    TRANSIENT_ERRORS,
    Clock,
    ConsumerPolicy,
    ReliableConsumer,
    ShutdownDuringOutageError,
)
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.scheduler import JobRunner
from binome_shared.runtime.background import BackgroundWork
from binome_shared.runtime.declared_topics import wait_for_declared_topics
from binome_shared.runtime.health import GroupMembership, HasKafkaConsumer, OperatorMetrics
from binome_shared.runtime.postgres_tls import asyncpg_connection
from binome_shared.runtime.provisioning import wait_for_provisioned_pool
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.subscription import received_records

if TYPE_CHECKING:
    from binome_shared.runtime.definition import ServiceDefinition

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT_SECONDS = 5.0
"""The longest a client (pool, producer, a service's own) may take to close at the end."""

EXIT_FATAL = 1


class NotStartedError(RuntimeError):
    """The service's pool or consumer was asked for before its start-up made them."""

    def __init__(self) -> None:
        super().__init__("the service has not started")


class ServiceRuntime:
    """The live parts of a running service: pool, consumer, relay and their state."""

    def __init__(
        self,
        *,
        definition: ServiceDefinition,
        settings: ServiceSettings,
        clock: Clock,
        metrics: CollectorRegistry,
        broker: KafkaBroker,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock
        self.broker = broker
        self.outbox = Outbox(topic_prefix=settings.topic_prefix)
        self.stop_event = asyncio.Event()
        self.exit_code = 0
        self.membership = GroupMembership()
        self.subscriber: HasKafkaConsumer | None = None
        self._pool: asyncpg.Pool | None = None
        self._consumer: ReliableConsumer | None = None
        self._background: BackgroundWork | None = None
        self._topics_as_declared = False
        self._broker_started = False
        self._migrations_done = False
        self._startup: asyncio.Task[None] | None = None
        self._stop_deadline: float | None = None
        self._processed = MetricCounter(
            "binome_messages_total",
            "Messages consumed, by type and outcome (done, duplicate, rejected, parked, "
            "failed, undecodable, unstorable, ignored); records of no known type are "
            "counted as type (unknown).",
            ["service", "type", "outcome"],
            registry=metrics,
        )
        self._dead_letters = MetricCounter(
            "binome_dead_letters",
            "Messages dead-lettered, by reason code (a rejection's own code, handler_failed, "
            "malformed_json, schema_invalid, prerequisite_never_arrived, …).",
            ["service", "code"],
            registry=metrics,
        )
        self.operator_metrics = OperatorMetrics(
            service=definition.name,
            registry=metrics,
            relay=lambda: None if self._background is None else self._background.relay,
        )

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise NotStartedError
        return self._pool

    @property
    def consumer(self) -> ReliableConsumer:
        if self._consumer is None:
            raise NotStartedError
        return self._consumer

    @property
    def jobs(self) -> JobRunner | None:
        """The scheduled jobs' runner, once started (None for a service without jobs)."""
        return None if self._background is None else self._background.jobs

    # --- start-up ---------------------------------------------------------------------

    async def launch(self) -> None:
        """Begin the start-up in the background (the HTTP endpoints answer meanwhile)."""
        if not self.stop_event.is_set():
            self._startup = asyncio.create_task(self._start_up(), name="start-up")
            self._startup.add_done_callback(self._after_start_up)

    def _after_start_up(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        logger.error("start-up failed: the service stops", exc_info=task.exception())
        self.exit_code = EXIT_FATAL
        self.request_stop("start-up failed")

    async def _start_up(self) -> None:
        self._pool = await wait_for_provisioned_pool(
            self._open_pool,
            service=self.definition.name,
            migrating=self.settings.migrate_on_start,
            stop=self.stop_event,
        )
        if self._pool is None:
            return
        if self.settings.migrate_on_start:
            await keep_trying(
                self._migrate,
                what="Postgres (migrations)",
                stop=self.stop_event,
                retry_on=TRANSIENT_ERRORS,
            )
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
            on_dead_letters=self._count_dead_letters,
        )
        if not await wait_for_declared_topics(self.definition, self.settings, self.stop_event):
            return
        self._topics_as_declared = True
        await keep_trying(self._start_broker, what="Kafka (consumer)", stop=self.stop_event)
        if self.stop_event.is_set():
            return
        self._background = BackgroundWork(
            definition=self.definition,
            settings=self.settings,
            pool=self.pool,
            outbox=self.outbox,
            clock=self.clock,
            consumer=self.consumer,
            stop=self.stop_event,
        )
        await self._background.start()
        logger.info("service started")

    async def _open_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            **asyncpg_connection(self.settings, self.settings.database_url),
            min_size=2,
            max_size=self.settings.db_pool_max_size,
            server_settings={
                "search_path": self.definition.name,
                "application_name": f"binome-{self.definition.name}",
            },
        )

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await apply_migrations(conn, list(self.definition.migrations))

    async def _start_broker(self) -> None:
        try:
            await self.broker.start()
        except BaseException:
            # A half-started broker (producer up, consumer not) would be started twice.
            with contextlib.suppress(Exception):
                await self.broker.stop()
            raise
        self._broker_started = True

    # --- work ---------------------------------------------------------------------------

    async def consume(self, message: Any) -> None:
        """FastStream's batch subscriber: process, commit, then acknowledge the offsets."""
        received = received_records(message)
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

    def _count_dead_letters(self, codes: Counter[str]) -> None:
        for code, count in codes.items():
            self._dead_letters.labels(self.definition.name, code).inc(count)

    # --- probes -------------------------------------------------------------------------

    async def readiness(self) -> dict[str, bool]:
        """What /ready reports, by check name; ready when every one is true."""
        checks = {
            "postgres": False,
            "migrations": False,
            "kafka": False,
            "topics": self._topics_as_declared,
        }
        if self.definition.subscriptions:
            # Started is not enough: until the group coordinator assigns partitions the
            # consumer reads nothing (about 8 s after a restart).
            checks["consumer"] = self._broker_started and self.membership.joined
        checks["relay"] = self._background is not None and self._background.relay_connected
        if self._broker_started:
            with contextlib.suppress(Exception):
                checks["kafka"] = bool(await self.broker.ping(timeout=2.0))
        if self._pool is not None:
            try:
                async with asyncio.timeout(2.0), self._pool.acquire() as conn:
                    checks["postgres"] = (await conn.fetchval("SELECT 1")) == 1
                    if not self._migrations_done:
                        pending = await pending_migrations(conn, list(self.definition.migrations))
                        self._migrations_done = not pending
                    checks["migrations"] = self._migrations_done
            except Exception as error:  # any failure means "not ready"; the reason is logged
                logger.info("readiness check failed: %s", type(error).__name__)
        if self.stop_event.is_set():
            checks["running"] = False
        return checks

    async def sample_metrics(self) -> None:
        """Refresh the gauges sampled at scrape time (lag, outbox backlog)."""
        consumer = self.subscriber.consumer if self.subscriber is not None else None
        await self.operator_metrics.sample(pool=self._pool, consumer=consumer)

    # --- shutdown -----------------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        """SIGTERM, SIGINT or a fatal error: stop waiting, finish the work in hand, exit."""
        if self.stop_event.is_set():
            logger.info("already stopping (%s)", reason)
            return
        loop = asyncio.get_running_loop()
        self._stop_deadline = loop.time() + self.settings.graceful_timeout_seconds
        logger.info(
            "stopping (%s): finishing the work in hand within %.0f s",
            reason,
            self.settings.graceful_timeout_seconds,
        )
        self.stop_event.set()

    async def shutdown(self) -> None:
        """Wind everything down, in order: start-up, consumer, relay and jobs, clients."""
        if not self.stop_event.is_set():
            self.request_stop("server shutdown")
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        if self._startup is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._startup
        if self._broker_started:
            # FastStream stops fetching, gives the batch in hand up to graceful_timeout to
            # commit and acknowledge, then leaves the group.
            await self._close(
                "the consumer",
                self.broker.stop,
                within=self.settings.graceful_timeout_seconds + CLOSE_TIMEOUT_SECONDS,
            )
            self.membership.left()
        if self._background is not None:
            loop = asyncio.get_running_loop()
            remaining = max(0.0, (self._stop_deadline or loop.time()) - loop.time())
            await self._background.finish(within=remaining)
        for hook in self.definition.shutdown_hooks:
            await self._close("a shutdown hook", hook)
        if self._background is not None:
            await self._close("the relay's producer", self._background.producer.stop)
        if self._pool is not None:
            pool = self._pool
            await self._close("the Postgres pool", pool.close)
            pool.terminate()
        logger.info("service stopped cleanly")

    @staticmethod
    async def _close(
        what: str, close: Callable[[], Awaitable[Any]], *, within: float = CLOSE_TIMEOUT_SECONDS
    ) -> None:
        try:
            async with asyncio.timeout(within):
                await close()
        except Exception:  # one failing close must not keep the others from closing
            logger.exception("closing %s failed", what)
