"""Transactional outbox: events are rows written with the state change they announce.

``Outbox`` writes rows inside the caller's transaction; the relay
(:class:`binome_shared.messaging.relay.OutboxRelay`) publishes them to Kafka and marks them
sent only once the broker has acknowledged them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.messaging.cloudevents import KafkaRecord, ReceivedRecord, encode
from binome_shared.messaging.dead_letters import MIN_RECORD_BYTES, DeadLetterCause, dead_letter
from binome_shared.messaging.relay_producer import DEFAULT_MAX_REQUEST_SIZE
from binome_shared.messaging.tracing import creation_headers

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


@dataclass(frozen=True, slots=True)
class Outbox:
    """Writes a service's outgoing messages inside its own transactions."""

    topic_prefix: str = ""
    max_record_bytes: int = DEFAULT_MAX_REQUEST_SIZE
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
        """Queue several envelopes with one round trip.

        Each gets its own ``create`` span (child of the current span: the handler's, the
        job's), whose context its ``traceparent`` header carries to the consumers.
        """
        if not envelopes:
            return
        await _insert_records(conn, [self._record_of(envelope) for envelope in envelopes])

    def _record_of(self, envelope: Envelope[Any]) -> tuple[uuid.UUID, KafkaRecord]:
        topic = envelope.data.topic.full_name(self.topic_prefix)
        record = encode(envelope, topic=topic)
        created = creation_headers(topic, envelope, record.key)  # the key, computed once
        return envelope.id, KafkaRecord(
            topic=topic, key=record.key, value=record.value, headers=[*record.headers, *created]
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
        cause = DeadLetterCause(
            code=code,
            reason=reason,
            consumer_group=consumer_group,
            attempts=attempts,
            failed_at=failed_at,
        )
        letter = dead_letter(
            record, cause, max_record_bytes=self.max_record_bytes, excerpt_only=excerpt_only
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
