"""Real-broker helpers for messaging-core tests: read a topic as the services' consumer does,
and relay an outbox with the real relay."""

from __future__ import annotations

import time

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.relay import OutboxRelay
from tests.support.platform import received


class GroupReader:
    """A consumer-group member that reads batches and commits only when told, as the
    runtime does after :meth:`ReliableConsumer.process` returned."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> GroupReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def read(self, count: int, *, timeout: float = 30.0) -> list[ReceivedRecord]:
        """At least ``count`` records (in partition, offset order), or a failure."""
        records: list[ReceivedRecord] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=500)
            records.extend(received(record) for part in batch.values() for record in part)
        assert len(records) >= count, f"read {len(records)} of {count} records"
        return sorted(records, key=lambda record: (record.partition, record.offset))

    async def commit(self) -> None:
        await self._consumer.commit()

    async def lag(self) -> int:
        """Records not yet acknowledged by this group, over its assigned partitions."""
        partitions: set[TopicPartition] = self._consumer.assignment()
        ends = await self._consumer.end_offsets(list(partitions))
        lag = 0
        for partition in partitions:
            committed = await self._consumer.committed(partition) or 0
            lag += ends[partition] - committed
        return lag


async def relay_everything(pool: asyncpg.Pool, *, schema: str, bootstrap: str) -> int:
    """Publish the whole outbox of ``schema`` with the services' relay and producer settings;
    returns how many records were sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        relay = OutboxRelay(pool=pool, producer=producer, schema=schema)
        while await relay.relay_once():
            pass
        return relay.published
    finally:
        await producer.stop()


RawRecord = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]
"""Key, value and headers, each as hostile as a producer may make them."""


async def send_raw(bootstrap: str, topic: str, records: list[RawRecord]) -> None:
    """Produce ``records`` in order, as any Kafka client could (null keys and values too)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, key=key, value=value, headers=headers)
    finally:
        await producer.stop()
