"""What ``/ready`` and ``/metrics`` report beyond the message counters: whether the consumer
has joined its group, and the figures an operator alerts on (consumer lag per partition,
outbox backlog and the age of its oldest row), sampled when asked, never cached."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

SAMPLE_TIMEOUT_SECONDS = 3.0
"""A scrape must answer even while Kafka or Postgres is away: the gauges are then left out."""

UNSENT = "sent_at IS NULL AND set_aside_at IS NULL"
"""Outbox rows still waiting for the relay. Rows it has set aside (Kafka can never take
them) are not a backlog: they are counted apart, since each needs an operator."""

OUTBOX_BACKLOG = f"""
SELECT count(*) AS pending,
       coalesce(extract(epoch FROM clock_timestamp() - (
           SELECT created_at FROM outbox WHERE {UNSENT} ORDER BY id LIMIT 1
       )), 0)::float8 AS oldest_age,
       (SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL) AS set_aside
FROM outbox WHERE {UNSENT}
"""
"""Backlog, age of its oldest row, and rows set aside; ``ORDER BY id`` walks the
``outbox_unsent`` index."""


class GroupMembership(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Follows the consumer's group membership through aiokafka's rebalance callbacks.

    A consumer that started has not joined its group yet: until the coordinator hands it its
    partitions (possibly none, when replicas outnumber partitions), it reads nothing.
    """

    def __init__(self) -> None:
        self.assigned: frozenset[TopicPartition] | None = None
        """The partitions of the last assignment; None before the first one, or while a
        rebalance is under way."""

    @property
    def joined(self) -> bool:
        return self.assigned is not None

    def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        del revoked
        self.assigned = None

    def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self.assigned = frozenset(assigned)
        logger.info("consumer group joined with %d partition(s)", len(assigned))

    def left(self) -> None:
        """The consumer stopped: it no longer belongs to the group."""
        self.assigned = None


class HasKafkaConsumer(Protocol):
    """FastStream's subscriber: its aiokafka consumer exists while it runs."""

    consumer: AIOKafkaConsumer | None


class RelayCounters(Protocol):
    """What the outbox relay counts for the operator (see OutboxRelay)."""

    @property
    def published_by_topic(self) -> Mapping[str, int]: ...

    @property
    def set_aside_total(self) -> int: ...

    @property
    def errors_total(self) -> Mapping[str, int]: ...


class RelayTotals(Collector):
    """The relay's own totals, read as they are at each scrape: nothing kept in step."""

    def __init__(self, *, service: str, relay: Callable[[], RelayCounters | None]) -> None:
        self._service = service
        self._relay = relay

    def collect(self) -> Iterator[Metric]:
        set_aside = CounterMetricFamily(
            "binome_relay_set_aside",
            "Records this process's relay set aside since it started.",
            labels=["service"],
        )
        published = CounterMetricFamily(
            "binome_relay_published",
            "Records this process's relay published, by topic: counted once the broker "
            "acknowledged them (what the service really publishes; FastStream publishes none).",
            labels=["service", "topic"],
        )
        errors = CounterMetricFamily(
            "binome_relay_errors",
            "Failed deliveries met by this process's relay, by error class (retried or set aside).",
            labels=["service", "error"],
        )
        relay = self._relay()
        if relay is not None:
            set_aside.add_metric([self._service], relay.set_aside_total)
            for topic, total in relay.published_by_topic.items():
                published.add_metric([self._service, topic], total)
            for error, total in relay.errors_total.items():
                errors.add_metric([self._service, error], total)
        yield from (set_aside, published, errors)


class OperatorMetrics:
    """Gauges filled at scrape time from Kafka and Postgres, and the relay's own totals."""

    def __init__(
        self,
        *,
        service: str,
        registry: CollectorRegistry,
        relay: Callable[[], RelayCounters | None] | None = None,
    ) -> None:
        """``relay`` gives the service's relay once it exists (it starts after the probes)."""
        self._service = service
        self._lag = Gauge(
            "binome_consumer_lag",
            "Records on a partition this replica consumes that its group has not committed "
            "yet (end offset minus committed offset), sampled at scrape time.",
            ["service", "topic", "partition"],
            registry=registry,
        )
        self._outbox_pending = Gauge(
            "binome_outbox_pending",
            "Outbox rows not yet acknowledged by Kafka, sampled at scrape time.",
            ["service"],
            registry=registry,
        )
        self._outbox_oldest = Gauge(
            "binome_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox row not yet acknowledged by Kafka (0 when none), "
            "sampled at scrape time.",
            ["service"],
            registry=registry,
        )

        self._outbox_set_aside = Gauge(
            "binome_outbox_set_aside",
            "Outbox rows the relay set aside because Kafka can never take them (each needs an "
            "operator: binome-db outbox-set-aside), sampled at scrape time.",
            ["service"],
            registry=registry,
        )
        if relay is not None:
            registry.register(RelayTotals(service=service, relay=relay))

    async def sample(self, *, pool: asyncpg.Pool | None, consumer: AIOKafkaConsumer | None) -> None:
        """Refresh every gauge; one that cannot be read now is left out rather than stale."""
        await asyncio.gather(self._sample_outbox(pool), self._sample_lag(consumer))

    async def _sample_outbox(self, pool: asyncpg.Pool | None) -> None:
        self._outbox_pending.clear()
        self._outbox_oldest.clear()
        self._outbox_set_aside.clear()
        if pool is None:
            return
        try:
            async with asyncio.timeout(SAMPLE_TIMEOUT_SECONDS), pool.acquire() as conn:
                row = await conn.fetchrow(OUTBOX_BACKLOG)
        except Exception as error:  # Postgres away: no figure rather than an old one
            logger.info("outbox backlog not sampled: %s", type(error).__name__)
            return
        assert row is not None
        self._outbox_pending.labels(self._service).set(row["pending"])
        self._outbox_oldest.labels(self._service).set(row["oldest_age"])
        self._outbox_set_aside.labels(self._service).set(row["set_aside"])

    async def _sample_lag(self, consumer: AIOKafkaConsumer | None) -> None:
        self._lag.clear()
        if consumer is None:
            return
        partitions = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
        if not partitions:
            return
        try:
            async with asyncio.timeout(SAMPLE_TIMEOUT_SECONDS):
                lags = await consumer_lag(consumer, partitions)
        except Exception as error:  # the broker is away or the group is rebalancing
            logger.info("consumer lag not sampled: %s", type(error).__name__)
            return
        for partition, lag in lags.items():
            self._lag.labels(self._service, partition.topic, str(partition.partition)).set(lag)


class _FamiliesWithSeries:
    """A registry's families, less those without a single series (a labelled counter
    nothing has incremented yet): /metrics lists only what has happened."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        return (family for family in self._registry.collect() if family.samples)


def exposition(registry: CollectorRegistry) -> bytes:
    """The /metrics body: Prometheus' text format, every family with at least one series."""
    return generate_latest(_FamiliesWithSeries(registry))


async def consumer_lag(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """End offset minus the group's committed offset, per partition. A partition the group
    never committed counts from its first record (``auto_offset_reset=earliest``)."""
    wanted = list(partitions)
    ends = await consumer.end_offsets(wanted)
    committed = dict(
        zip(wanted, await asyncio.gather(*(consumer.committed(tp) for tp in wanted)), strict=True)
    )
    never = [tp for tp, offset in committed.items() if offset is None]
    beginnings = await consumer.beginning_offsets(never) if never else {}
    return {
        tp: max(0, ends[tp] - (committed[tp] if committed[tp] is not None else beginnings[tp]))
        for tp in wanted
    }
