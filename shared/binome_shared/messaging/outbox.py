"""Transactional outbox: events are rows written with the state change they announce.

``Outbox`` writes rows inside the caller's transaction; ``OutboxRelay`` publishes them to
Kafka and marks them sent only once the broker has acknowledged them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry import propagate

from binome_shared import failpoints
from binome_shared.contracts.base import Envelope
from binome_shared.db.claims import WALK_THE_INDEX
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.cloudevents import Headers, KafkaRecord, ReceivedRecord, encode
from binome_shared.messaging.dead_letters import (
    DEFAULT_MAX_RECORD_BYTES,
    MIN_RECORD_BYTES,
    Refusal,
    dead_letter,
)

logger = logging.getLogger(__name__)

_INSERT = """
INSERT INTO outbox (event_id, topic, key, value, header_names, header_values)
SELECT event_id, topic, key, value,
       ($5::text[])[first_header:last_header], ($6::bytea[])[first_header:last_header]
FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $7::int[], $8::int[])
     WITH ORDINALITY AS batch(event_id, topic, key, value, first_header, last_header, position)
ORDER BY position
"""
"""One statement for a batch (one trigger call, one round trip): rows are inserted in the
given order, so their ids keep per-key order. The batch's headers travel as two flat arrays
that each row slices."""
_CLAIM = """
SELECT id, topic, key, value, header_names, header_values
FROM outbox
WHERE sent_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_MARK_SENT = "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
_PRUNE_SENT = """
DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < clock_timestamp() - $1::text::interval
"""
_PENDING = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
_DEFAULT_PARTITIONER = DefaultPartitioner()
_LEADER_LOCK = "SELECT pg_try_advisory_lock(hashtext(current_schema() || '.outbox_relay'))"


def trace_headers() -> Headers:
    """The current trace context as W3C headers, so consumers continue the same trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


@dataclass(frozen=True, slots=True)
class Outbox:
    """Writes a service's outgoing messages inside its own transactions."""

    topic_prefix: str = ""
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    """The largest record the relay's producer may send (its ``max_request_size``)."""

    def __post_init__(self) -> None:
        if self.max_record_bytes < MIN_RECORD_BYTES:
            raise ValueError(
                f"max_record_bytes must be at least {MIN_RECORD_BYTES} (a dead letter's excerpt)"
            )

    async def add(self, conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        """Queue ``envelope`` for Kafka; it is sent only if the caller's transaction commits."""
        await self.add_many(conn, [envelope])

    async def add_many(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope[Any]]) -> None:
        """Queue several envelopes with one round trip."""
        if not envelopes:
            return
        context = trace_headers()
        await _insert_records(
            conn,
            [
                (
                    envelope.id,
                    encode(
                        envelope,
                        topic=envelope.data.topic.full_name(self.topic_prefix),
                        extra_headers=context,
                    ),
                )
                for envelope in envelopes
            ],
        )

    async def add_dead_letter(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        *,
        code: str,
        reason: str,
        consumer_group: str,
        attempts: int,
        failed_at: datetime,
        excerpt_only: bool = False,
    ) -> None:
        """Queue the original bytes for ``<topic>.dlq`` with headers saying why, where, when.

        When they would not fit under ``max_record_bytes`` (or ``excerpt_only`` asks for the
        minimal form), a bounded excerpt goes instead (see :mod:`.dead_letters`).
        """
        refusal = Refusal(
            code=code,
            reason=reason,
            consumer_group=consumer_group,
            attempts=attempts,
            failed_at=failed_at,
        )
        letter = dead_letter(
            record, refusal, max_record_bytes=self.max_record_bytes, excerpt_only=excerpt_only
        )
        await _insert_records(conn, [(uuid.uuid4(), letter)])


async def _insert_records(
    conn: asyncpg.Connection, records: Sequence[tuple[uuid.UUID, KafkaRecord]]
) -> None:
    """Queue records under their event ids, in order, with one statement."""
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [])
    ids, topics, keys, values, names, header_values, firsts, lasts = columns
    for event_id, record in records:
        ids.append(event_id)
        topics.append(record.topic)
        keys.append(record.key)
        values.append(record.value)
        firsts.append(len(names) + 1)  # Postgres arrays count from 1
        for name, value in record.headers:
            names.append(name)
            header_values.append(value)
        lasts.append(len(names))
    await conn.execute(_INSERT, ids, topics, keys, values, names, header_values, firsts, lasts)


class Producer(Protocol):
    """The part of aiokafka's producer the relay uses: its batch interface."""

    def create_batch(self) -> Any: ...

    async def send_batch(
        self, batch: Any, topic: str, *, partition: int
    ) -> asyncio.Future[Any]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


def _appended(batch: Any, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bool:
    """Whether ``batch`` took the record (it refuses once full; an empty one never does)."""
    return batch.append(key=key, value=value, timestamp=None, headers=headers) is not None


class OutboxRelay:
    """Publishes a schema's outbox to Kafka, in order, marking rows only after the broker ack.

    One relay per service is active at a time (a Postgres advisory lock elects it), which
    keeps per-key order across replicas; the others stand by and take over when its
    connection drops. It wakes on NOTIFY and also polls, since notifications are not stored.
    """

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: Producer,
        schema: str,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retention: str = "7 days",
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._wake = asyncio.Event()
        self.published = 0
        self.is_leader = False

    async def relay_once(self) -> int:
        """Publish up to one batch of unsent rows; returns how many were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(WALK_THE_INDEX)  # outbox_unsent, in id order
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            await asyncio.gather(*await self._send(rows))
            failpoints.crash_if_armed("relay.after_broker_ack")
            await conn.execute(_MARK_SENT, [row["id"] for row in rows])
        self.published += len(rows)
        return len(rows)

    async def _send(self, rows: Sequence[asyncpg.Record]) -> list[asyncio.Future[Any]]:
        """Hand the rows to the producer as record batches, one stream per partition, in
        order; returns the deliveries to wait for.

        aiokafka's per-message ``send`` costs twice as much CPU as filling its batches
        directly. Partitions are chosen as Kafka's default partitioner does (murmur2 of the
        key), so a key lands where any other Kafka client would put it.
        """
        partitions: dict[str, list[int]] = {}
        open_batches: dict[tuple[str, int], Any] = {}
        deliveries: list[asyncio.Future[Any]] = []
        for row in rows:
            topic, key, value = row["topic"], row["key"], row["value"]
            if topic not in partitions:
                partitions[topic] = sorted(await self._producer.partitions_for(topic))
            partition = _DEFAULT_PARTITIONER(key, partitions[topic], partitions[topic])
            headers = list(zip(row["header_names"], row["header_values"], strict=True))
            batch = open_batches.get((topic, partition))
            if batch is not None and _appended(batch, key, value, headers):
                continue
            if batch is not None:  # full: it goes, and a new one follows it
                deliveries.append(
                    await self._producer.send_batch(batch, topic, partition=partition)
                )
            batch = open_batches[(topic, partition)] = self._producer.create_batch()
            _appended(batch, key, value, headers)  # a new batch always takes its first record
        for (topic, partition), batch in open_batches.items():
            deliveries.append(await self._producer.send_batch(batch, topic, partition=partition))
        return deliveries

    async def pending(self) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(_PENDING))

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; survives database and broker outages by retrying."""
        backoff = Backoff()
        while not stop.is_set():
            try:
                await self._lead_while_possible(stop)
                backoff.reset()
            except Exception as error:  # Postgres, network or the broker client's own errors
                self.is_leader = False
                delay = backoff.next()
                logger.warning(
                    "outbox relay interrupted (%s: %s); retrying in %.1f s",
                    type(error).__name__,
                    error,
                    delay,
                )
                await sleep_unless(stop, delay)

    async def _lead_while_possible(self, stop: asyncio.Event) -> None:
        leader_conn: asyncpg.Connection = await self._pool.acquire()
        channel = f"binome_outbox_{self._schema}"
        try:
            if not await leader_conn.fetchval(_LEADER_LOCK):
                self.is_leader = False
                await sleep_unless(stop, self._poll_interval * 2)
                return
            self.is_leader = True
            await leader_conn.add_listener(channel, self._on_notify)
            logger.info("outbox relay for schema %s is active", self._schema)
            last_prune = 0.0
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                self._wake.clear()
                while await self.relay_once() == self._batch_size and not stop.is_set():
                    pass
                if loop.time() - last_prune > 3600:
                    await leader_conn.execute(_PRUNE_SENT, self._retention)
                    last_prune = loop.time()
                if leader_conn.is_closed():
                    raise ConnectionError("leader connection lost")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_for_wake(stop), self._poll_interval)
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await leader_conn.remove_listener(channel, self._on_notify)
            # Releasing the connection to the pool resets it, which drops the advisory lock.
            await self._pool.release(leader_conn)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _wait_for_wake(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
