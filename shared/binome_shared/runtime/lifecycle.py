"""The live parts of a running service and their life: start-up, work, shutdown.

Start-up runs in the background while the HTTP endpoints already answer (``/health`` 200,
``/ready`` 503 naming what is missing): wait for Postgres, migrate, wait for Kafka and check
the topics, start the consumer, then the outbox relay and the jobs. A stop request (SIGTERM,
SIGINT) cancels whatever start-up step is under way — each is safe to repeat at the next
start — and otherwise lets the work in hand finish within ``graceful_timeout_seconds``:
the consumer's batch commits (or stays unacknowledged, to be redelivered), the relay's
batch is marked sent only if Kafka acknowledged it, unsent outbox rows wait for the next
start, and a job cut short rolls back and runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as MetricCounter

from binome_shared.db.migrations import apply_migrations, pending_migrations
from binome_shared.messaging.backoff import Backoff, keep_trying, sleep_unless
from binome_shared.messaging.consumer import (
    TRANSIENT_ERRORS,
    Clock,
    ConsumerPolicy,
    ReliableConsumer,
    ShutdownDuringOutageError,
)
from binome_shared.messaging.outbox import Outbox, OutboxRelay
from binome_shared.messaging.relay_producer import RelayProducer
from binome_shared.messaging.scheduler import JobRunner, schedule
from binome_shared.messaging.topics import TopicsNotAsDeclaredError, ensure_topics
from binome_shared.runtime.health import GroupMembership, HasKafkaConsumer, OperatorMetrics
from binome_shared.runtime.kafka_diagnosis import kafka_refusal
from binome_shared.runtime.kafka_security import aiokafka_security
from binome_shared.runtime.postgres_tls import asyncpg_connection
from binome_shared.runtime.provisioning import wait_for_provisioned_pool
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.subscription import received_records
from binome_shared.runtime.topic_policy import TopicPolicy

if TYPE_CHECKING:
    from binome_shared.runtime.service import ServiceDefinition

logger = logging.getLogger(__name__)

PARKING_RETRY_SECONDS = 5
"""How often parked messages are tried again (a replica may have parked one just as another
committed what it waited for, so the release did not see it)."""

TOPIC_RECHECK_SECONDS = 30.0
"""How often a service refusing its topics looks again (someone may add partitions, or
create the missing ones)."""

CLOSE_TIMEOUT_SECONDS = 5.0
"""The longest a client (pool, producer, a service's own) may take to close at the end."""

EXIT_FATAL = 1


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
        self.jobs: JobRunner | None = None
        self._pool: asyncpg.Pool | None = None
        self._consumer: ReliableConsumer | None = None
        self._relay: OutboxRelay | None = None
        self._producer: RelayProducer | None = None
        self._producer_connected = False
        self._topics_as_declared = False
        self._broker_started = False
        self._migrations_done = False
        self._startup: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
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
            service=definition.name, registry=metrics, relay=lambda: self._relay
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
        if not await self._wait_for_declared_topics():
            return
        await keep_trying(self._start_broker, what="Kafka (consumer)", stop=self.stop_event)
        if self.stop_event.is_set():
            return
        await self._start_background()
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

    async def _wait_for_declared_topics(self) -> bool:
        """Wait for Kafka, create missing topics (unless provisioned as code), and refuse
        (not ready, logged) missing topics or topics with fewer partitions than declared;
        False if stopped meanwhile."""
        topics = {*self.definition.subscriptions, *(m.topic for m in self.definition.publishes)}
        backoff = Backoff(first=0.5, cap=5.0)
        while not self.stop_event.is_set():
            try:
                await ensure_topics(
                    self.settings.kafka_bootstrap_servers,
                    sorted(topics, key=lambda t: t.name),
                    policy=TopicPolicy.from_settings(self.settings),
                    prefix=self.settings.topic_prefix,
                    create=self.settings.create_topics,
                    client_options=aiokafka_security(self.settings),
                    dead_letters_of=self.definition.subscriptions,
                )
            except TopicsNotAsDeclaredError as error:
                logger.error(
                    "refusing to run until the topics are as declared: %s; %s; checking again "
                    "in %.0f s",
                    error,
                    error.remedy,
                    TOPIC_RECHECK_SECONDS,
                )
                await sleep_unless(self.stop_event, TOPIC_RECHECK_SECONDS)
            except Exception as error:  # the broker is unreachable, or refuses us: wait
                delay = backoff.next()
                refusal = await self._kafka_refusal(error)
                if refusal is None:
                    logger.warning(
                        "Kafka unavailable (%s); retrying in %.1f s", type(error).__name__, delay
                    )
                else:
                    logger.error(
                        "Kafka refuses this service: %s; not ready, retrying in %.1f s",
                        refusal,
                        delay,
                    )
                await sleep_unless(self.stop_event, delay)
            else:
                self._topics_as_declared = True
                return True
        return False

    async def _kafka_refusal(self, error: Exception) -> str | None:
        """Why the broker refuses this service (wrong password, untrusted certificate), asked
        of the broker directly: aiokafka reports any failed bootstrap as a connection error."""
        if not isinstance(error, KafkaConnectionError):
            return None
        return await kafka_refusal(self.settings.kafka_bootstrap_servers, self.settings)

    async def _start_broker(self) -> None:
        try:
            await self.broker.start()
        except BaseException:
            # A half-started broker (producer up, consumer not) would be started twice.
            with contextlib.suppress(Exception):
                await self.broker.stop()
            raise
        self._broker_started = True

    async def _start_background(self) -> None:
        """Start the outbox relay, the scheduled jobs and the parking sweep."""
        self._producer = RelayProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=f"binome-{self.definition.name}-relay-{self.settings.instance_id}",
            linger_ms=2,
            **aiokafka_security(self.settings),
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
        if self.stop_event.is_set():
            return
        self._producer_connected = True
        await self._relay.run(self.stop_event)

    async def _expire_parked_periodically(self) -> None:
        """Every few seconds, retry parked messages; every minute, dead-letter stale ones."""
        ticks = 0
        while not self.stop_event.is_set():
            await sleep_unless(self.stop_event, PARKING_RETRY_SECONDS)
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
        # The producer started, and its last send (if any) reached the broker.
        checks["relay"] = (
            self._producer_connected and self._relay is not None and self._relay.connected
        )
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
        await self._finish_tasks()
        for hook in self.definition.shutdown_hooks:
            await self._close("a shutdown hook", hook)
        if self._producer is not None:
            await self._close("the relay's producer", self._producer.stop)
        if self._pool is not None:
            pool = self._pool
            await self._close("the Postgres pool", pool.close)
            pool.terminate()
        logger.info("service stopped cleanly")

    async def _finish_tasks(self) -> None:
        """Let the relay, the jobs and the sweep end by themselves until the deadline, then
        cancel them (a relay batch not acknowledged stays unsent; a job rolls back)."""
        loop = asyncio.get_running_loop()
        remaining = max(0.0, (self._stop_deadline or loop.time()) - loop.time())
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=remaining)
            for task in late:
                logger.warning("%s did not finish in time: cancelled", task.get_name())
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    @staticmethod
    async def _close(
        what: str, close: Callable[[], Awaitable[Any]], *, within: float = CLOSE_TIMEOUT_SECONDS
    ) -> None:
        try:
            async with asyncio.timeout(within):
                await close()
        except Exception:  # one failing close must not keep the others from closing
            logger.exception("closing %s failed", what)
