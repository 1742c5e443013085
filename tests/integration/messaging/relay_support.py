"""A relay over a test's own database and topics, and what those topics hold afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_shared.messaging.relay import OutboxRelay
from binome_shared.messaging.relay_producer import RelayProducer
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually

SCHEMA = "sessions"
_QUEUE = (
    "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values) "
    "VALUES (gen_random_uuid(), $1, $2, $3, '{seq}', ARRAY[$4::bytea]) RETURNING id"
)


@dataclass(frozen=True, slots=True)
class Row:
    """A record queued by a test: its value names its key and its rank within that key."""

    topic: str
    key: bytes
    value: bytes


def row(topic: str, key: str, rank: int, *, size: int = 0) -> Row:
    head = f"{key}#{rank}|".encode()
    return Row(topic, key.encode(), head + b"x" * max(0, size - len(head)))


async def create_topic(
    bootstrap: str, name: str, *, partitions: int, max_message_bytes: int | None = None
) -> str:
    configs = {} if max_message_bytes is None else {"max.message.bytes": str(max_message_bytes)}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)])
    finally:
        await admin.close()
    return name


async def queue(
    database: ProvisionedDatabase, rows: Sequence[Row], *, schema: str = SCHEMA
) -> list[int]:
    """Queue ``rows`` in order (ids follow it) in ``schema``'s outbox; returns their ids."""
    conn = await database.connect(schema)
    try:
        return [
            await conn.fetchval(_QUEUE, item.topic, item.key, item.value, str(rank).encode())
            for rank, item in enumerate(rows)
        ]
    finally:
        await conn.close()


@asynccontextmanager
async def relay_on(
    database: ProvisionedDatabase, bootstrap: str, *, batch_size: int = 500
) -> AsyncIterator[OutboxRelay]:
    """A relay with its own producer over the test database's ``sessions`` outbox."""
    pool = await asyncpg.create_pool(
        database.dsn(SCHEMA), min_size=1, max_size=4, server_settings={"search_path": SCHEMA}
    )
    producer = RelayProducer(bootstrap_servers=bootstrap, client_id=f"relay-test-{uuid.uuid4()}")
    await producer.start()
    try:
        yield OutboxRelay(
            pool=pool, producer=producer, schema=SCHEMA, batch_size=batch_size, poll_interval=0.2
        )
    finally:
        await producer.stop()
        await pool.close()


async def run_until_drained(relay: OutboxRelay, *, timeout: float = 60.0) -> None:
    """Run the relay as a service does until nothing is pending, then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(relay.pending, 0, timeout=timeout)
    finally:
        stop.set()
        await task


async def outbox_state(database: ProvisionedDatabase) -> dict[int, tuple[bool, str | None]]:
    """Per row id: whether it is marked sent, and why it was set aside (if it was)."""
    conn = await database.connect(SCHEMA)
    try:
        rows = await conn.fetch("SELECT id, sent_at, set_aside_reason FROM outbox ORDER BY id")
    finally:
        await conn.close()
    return {r["id"]: (r["sent_at"] is not None, r["set_aside_reason"]) for r in rows}


async def values_by_key(kafka: Kafka, topic: str, *, expect: int) -> dict[bytes, list[bytes]]:
    """Every record on ``topic``, per key, in the order the topic holds them."""
    records: list[Any] = await kafka.read_all(topic, expect=expect, timeout=20.0)
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key[record.key].append(record.value)
    return dict(by_key)


def expected_by_key(rows: Sequence[Row]) -> dict[bytes, list[bytes]]:
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for item in rows:
        by_key[item.key].append(item.value)
    return dict(by_key)
