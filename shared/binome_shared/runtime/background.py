"""What a started service runs beside its consumer: the outbox relay, the scheduled jobs and
the parking sweep, each a task that ends by itself once the service is asked to stop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import asyncpg

from binome_shared.db.used_action_links import prune_used_action_links
from binome_shared.messaging.backoff import keep_trying, sleep_unless
from binome_shared.messaging.consumer import Clock, ReliableConsumer
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.relay import OutboxRelay
from binome_shared.messaging.relay_producer import RelayProducer
from binome_shared.messaging.scheduler import JobRunner, schedule
from binome_shared.runtime.kafka_security import aiokafka_security
from binome_shared.runtime.settings import ServiceSettings

if TYPE_CHECKING:
    from binome_shared.runtime.definition import ServiceDefinition

logger = logging.getLogger(__name__)

PARKING_RETRY_SECONDS = 5
"""How often parked messages are tried again (a replica may have parked one just as another
committed what it waited for, so the release did not see it)."""


class BackgroundWork:
    """The relay, the jobs and the parking sweep of one service process."""

    def __init__(
        self,
        *,
        definition: ServiceDefinition,
        settings: ServiceSettings,
        pool: asyncpg.Pool,
        outbox: Outbox,
        clock: Clock,
        consumer: ReliableConsumer,
        stop: asyncio.Event,
    ) -> None:
        self._definition = definition
        self._pool = pool
        self._clock = clock
        self._consumer = consumer
        self._stop = stop
        self._outbox = outbox
        self.producer = RelayProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"binome-{definition.name}-relay-{settings.instance_id}",
            linger_ms=2,
            **aiokafka_security(settings),
        )
        self.relay = OutboxRelay(
            pool=pool,
            producer=self.producer,
            schema=definition.name,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval_seconds,
        )
        self.jobs: JobRunner | None = None
        self.producer_connected = False
        self.tasks: list[asyncio.Task[None]] = []

    @property
    def relay_connected(self) -> bool:
        """The producer started, and its last send (if any) reached the broker."""
        return self.producer_connected and self.relay.connected

    async def start(self) -> None:
        """Start the outbox relay, the scheduled jobs and the parking sweep."""
        self.tasks.append(asyncio.create_task(self._run_relay(), name="outbox-relay"))
        if self._definition.jobs:
            await self._plan_periodic_jobs()
            self.jobs = JobRunner(
                pool=self._pool,
                handlers=self._definition.jobs,
                outbox=self._outbox,
                clock=self._clock,
                source=self._definition.source,
            )
            self.tasks.append(asyncio.create_task(self.jobs.run(self._stop), name="jobs"))
        self.tasks.append(asyncio.create_task(self._sweep_parking(), name="parking"))

    async def finish(self, *, within: float) -> None:
        """Let the tasks end by themselves for ``within`` seconds, then cancel them (a relay
        batch not acknowledged stays unsent; a job rolls back)."""
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=within)
            for task in late:
                logger.warning("%s did not finish in time: cancelled", task.get_name())
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _plan_periodic_jobs(self) -> None:
        async with self._pool.acquire() as conn:
            for periodic in self._definition.periodic_jobs:
                await schedule(
                    conn,
                    job_id=f"periodic:{periodic.job_type}",
                    job_type=periodic.job_type,
                    due_at=self._clock.now() + periodic.every,
                    repeat_every=periodic.every,
                )

    async def _run_relay(self) -> None:
        # aiokafka raises KafkaConnectionError and friends while the broker is away.
        await keep_trying(self.producer.start, what="Kafka (relay)", stop=self._stop)
        if self._stop.is_set():
            return
        self.producer_connected = True
        await self.relay.run(self._stop)

    async def _sweep_parking(self) -> None:
        """Every few seconds, retry parked messages; every minute, dead-letter stale ones;
        every hour, forget the action links used that have expired."""
        ticks = 0
        while not self._stop.is_set():
            await sleep_unless(self._stop, PARKING_RETRY_SECONDS)
            if self._stop.is_set():
                return
            ticks += 1
            try:
                await self._consumer.retry_parked()
                if ticks % (60 // PARKING_RETRY_SECONDS) == 0:
                    expired = await self._consumer.expire_parked()
                    if expired:
                        logger.warning(
                            "dead-lettered %d messages whose prerequisite never came", expired
                        )
                if ticks % (3600 // PARKING_RETRY_SECONDS) == 0:
                    async with self._pool.acquire() as conn:
                        await prune_used_action_links(conn)
            except Exception as error:  # an outage: try again next period
                logger.warning("parking sweep failed: %s", type(error).__name__)
