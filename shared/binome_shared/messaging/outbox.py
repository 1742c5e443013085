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
from opentelemetry import propagate

from binome_shared import failpoints
from binome_shared.contracts.base import Envelope
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.cloudevents import Headers, KafkaRecord, ReceivedRecord, encode

logger = logging.getLogger(__name__)

_INSERT = """
INSERT INTO outbox (event_id, topic, key, value, header_names, header_values)
VALUES ($1, $2, $3, $4, $5, $6)
"""
_CLAIM = """
SELECT id, topic, key, value, header_names, header_values
FROM outbox
WHERE sent_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_WALK_THE_UNSENT_INDEX = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"
"""The claim must walk ``outbox_unsent`` in id order and stop after a batch. Without
statistics (a new or freshly filled table) the planner would rather fetch the whole backlog
and sort it, which makes each claim cost the backlog's size: quadratic under a burst."""
_MARK_SENT = "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
_PRUNE_SENT = """
DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < clock_timestamp() - $1::text::interval
"""
_PENDING = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
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

    async def add(self, conn: asyncpg.Connection, envelope: Envelope[Any]) -> None:
        """Queue ``envelope`` for Kafka; it is sent only if the caller's transaction commits."""
        await self.add_many(conn, [envelope])

    async def add_many(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope[Any]]) -> None:
        """Queue several envelopes with one round trip."""
        if not envelopes:
            return
        context = trace_headers()
        rows = []
        for envelope in envelopes:
            record = encode(
                envelope,
                topic=envelope.data.topic.full_name(self.topic_prefix),
                extra_headers=context,
            )
            rows.append(_row(envelope.id, record))
        await conn.executemany(_INSERT, rows)

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
    ) -> None:
        """Queue the original bytes for ``<topic>.dlq`` with headers saying why, where, when."""
        headers: Headers = [(name, value) for name, value in record.headers]
        headers += [
            ("binome_dlq_code", code.encode()),
            ("binome_dlq_reason", reason.encode()),
            ("binome_dlq_source_topic", record.topic.encode()),
            ("binome_dlq_source_partition", str(record.partition).encode()),
            ("binome_dlq_source_offset", str(record.offset).encode()),
            ("binome_dlq_consumer_group", consumer_group.encode()),
            ("binome_dlq_attempts", str(attempts).encode()),
            ("binome_dlq_failed_at", failed_at.isoformat().encode()),
        ]
        dead_letter = KafkaRecord(
            topic=f"{record.topic}.dlq",
            key=record.key or b"",
            value=record.value or b"",
            headers=headers,
        )
        await self._insert(conn, event_id=uuid.uuid4(), record=dead_letter)

    async def _insert(
        self, conn: asyncpg.Connection, *, event_id: uuid.UUID, record: KafkaRecord
    ) -> None:
        await conn.execute(_INSERT, *_row(event_id, record))


def _row(event_id: uuid.UUID, record: KafkaRecord) -> tuple[Any, ...]:
    return (
        event_id,
        record.topic,
        record.key,
        record.value,
        [name for name, _ in record.headers],
        [value for _, value in record.headers],
    )


class Producer(Protocol):
    """The part of aiokafka's producer the relay uses."""

    async def send(  # noqa: PLR0917 - aiokafka's signature
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...


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
            await conn.execute(_WALK_THE_UNSENT_INDEX)
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                return 0
            deliveries = [
                await self._producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"],
                    headers=list(zip(row["header_names"], row["header_values"], strict=True)),
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            failpoints.crash_if_armed("relay.after_broker_ack")
            await conn.execute(_MARK_SENT, [row["id"] for row in rows])
        self.published += len(rows)
        return len(rows)

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
