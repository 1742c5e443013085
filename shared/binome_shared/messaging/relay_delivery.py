"""One round of the outbox relay: the claimed rows handed to Kafka as record batches, and
what became of each row once every delivery has settled.

A row ends a round in one of three states. *Sent*: the broker acknowledged its batch.
*Set aside*: it can never be sent (its size, its topic name, or the broker refused the record
itself), so it must not hold back the rows behind it. *Waiting*: anything else (broker away,
leader moving, a time-out) leaves it unsent for the next round, which sends only those rows;
so does the broker refusing the service's principal (a missing ACL, a wrong user), which the
relay reports loudly as a deployment error.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    UnsupportedForMessageFormatError,
)
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from binome_shared.messaging.relay_producer import Producer

RECORD_REFUSED: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTopicError,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
)
"""The broker refused the records themselves: sending them again can only fail again.

Everything else (``retriable`` errors, time-outs, authorisation, an unknown error code) is
about the broker or the client, not the record, and is tried again: nothing is set aside
because the infrastructure is unwell."""

AUTHORIZATION_REFUSED: tuple[type[Exception], ...] = (
    TopicAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)
"""The broker refused this service's principal, not the record: a deployment error (its ACLs
or its credentials). Its rows stay unsent, never set aside (nothing is lost; they go out once
the permission is granted), and the relay says so loudly and reports itself not connected."""

REASON_LIMIT = 500
"""Characters kept of a reason: a broker's message can be long; the row keeps the gist."""

_VALID_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")  # Kafka's own rule (Topic.validate)
_DEFAULT_PARTITIONER = DefaultPartitioner()

Stream = tuple[str, int]
"""A topic-partition: the unit of Kafka's order, and so of the relay's."""


class DeliveriesFailedError(Exception):
    """Some of a round's rows could not be delivered for now (broker away, leader moving, a
    time-out); what was acknowledged is marked sent, the rest waits for the next round."""

    def __init__(self, failures: Sequence[BaseException]) -> None:
        names = sorted({type(failure).__name__ for failure in failures})
        super().__init__(f"{len(failures)} deliveries failed ({', '.join(names)})")
        self.failures = list(failures)


def authorization_refusals(failures: Sequence[BaseException]) -> list[str]:
    """What the broker refused this service's principal among a round's failures (each
    error's own text, naming the topic when aiokafka knows it), without repeats."""
    return sorted({str(error) for error in failures if isinstance(error, AUTHORIZATION_REFUSED)})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a record can never be sent: the error's class name (as aiokafka names it) and a
    bounded text, stored with the set-aside row and logged once."""

    error: str
    detail: str

    @property
    def reason(self) -> str:
        text = f"{self.error}: {self.detail}"
        return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


def invalid_topic(topic: str) -> Refusal | None:
    """Why no broker would ever take a record for ``topic`` (the client checks no names)."""
    if _VALID_TOPIC.fullmatch(topic) and topic not in {".", ".."}:
        return None
    return Refusal("InvalidTopicError", f"{topic!r} is not a valid Kafka topic name")


def oversized(
    key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]], *, max_request_size: int
) -> Refusal | None:
    """Why the record is too large to send, counted as Kafka counts it (with its headers).

    aiokafka's ``send`` would refuse it at once; its batch interface does not: a batch takes
    any first record, and the broker refuses it later, costing a round trip and a fresh
    producer.
    """
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    if size <= max_request_size:
        return None
    return Refusal(
        "MessageSizeTooLargeError",
        f"the record takes {size:,} bytes, over the producer's max_request_size "
        f"of {max_request_size:,}",
    )


@dataclass(slots=True)
class RoundOutcome:
    """What became of a claim's rows."""

    sent: list[int] = field(default_factory=list)
    sent_topics: Counter[str] = field(default_factory=Counter)
    """How many of the sent rows went to each topic (for ``binome_relay_published_total``)."""
    set_aside: list[tuple[int, str]] = field(default_factory=list)
    send_alone: list[int] = field(default_factory=list)
    """Rows of a batch the broker refused whole: which one is at fault is not known, so each
    goes alone next round (a topic whose size limit is under the batch size refuses a batch
    of records that each fit)."""
    failures: list[BaseException] = field(default_factory=list)
    """Errors that left rows waiting: the relay backs off before its next round."""
    errors: Counter[str] = field(default_factory=Counter)
    producer_out_of_step: bool = False
    """A batch failed after it went out. aiokafka had already numbered it, so the broker
    refuses that partition's later batches (``OutOfOrderSequenceNumber``) until a fresh
    producer starts the numbering again."""
    broker_answered: bool = False
    """At least one batch was acknowledged, or refused for its records."""


@dataclass(slots=True)
class _OpenBatch:
    builder: Any
    row_ids: list[int] = field(default_factory=list)

    def take(self, row_id: int, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bool:
        """Whether the batch took the record (it refuses once full; an empty one never does)."""
        if self.builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
            return False
        self.row_ids.append(row_id)
        return True


@dataclass(frozen=True, slots=True)
class _Delivery:
    stream: Stream
    row_ids: list[int]
    future: asyncio.Future[Any]


class RoundPublisher:
    """Hands one claim to the producer as record batches, one stream per partition, in id
    order, then waits for every delivery (not only until the first failure).

    aiokafka's per-message ``send`` costs twice as much CPU as filling its batches directly.
    Partitions are chosen as Kafka's default partitioner does (murmur2 of the key), so a key
    lands where any other Kafka client would put it. Once a partition's stream fails to go
    out, its later rows stay unsent this round, so they never overtake it.
    """

    def __init__(
        self,
        producer: Producer,
        *,
        max_request_size: int,
        send_alone: Collection[int],
        stalled_after: float,
        on_stalled: Callable[[int], None],
    ) -> None:
        self._producer = producer
        self._max_request_size = max_request_size
        self._send_alone = send_alone
        self._stalled_after = stalled_after
        self._on_stalled = on_stalled
        self._partitions: dict[str, list[int] | Refusal | None] = {}
        self._open: dict[Stream, _OpenBatch] = {}
        self._halted: set[Stream] = set()
        self._deliveries: list[_Delivery] = []
        self._outcome = RoundOutcome()

    async def publish(self, rows: Sequence[asyncpg.Record]) -> RoundOutcome:
        for row in rows:
            await self._add(row)
        for stream in list(self._open):
            await self._hand_over(stream)
        await self._settle()
        return self._outcome

    async def _add(self, row: asyncpg.Record) -> None:
        row_id, topic, key, value = row["id"], row["topic"], row["key"], row["value"]
        if topic in self._partitions:  # no coroutine per row: this runs for every record
            partitions = self._partitions[topic]
        else:
            partitions = await self._partitions_of(topic)
        if isinstance(partitions, Refusal):
            self._set_aside(row_id, partitions)
            return
        if partitions is None:
            return  # the topic's metadata is not there: its rows wait
        stream = (topic, _DEFAULT_PARTITIONER(key, partitions, partitions))
        if stream in self._halted:
            return
        headers = list(zip(row["header_names"], row["header_values"], strict=True))
        alone = row_id in self._send_alone
        batch = self._open.get(stream)
        if batch is not None and not alone and batch.take(row_id, key, value, headers):
            return
        # The record starts a batch, the only place where it can be of any size: a batch
        # takes further records only within its batch size (16 KiB), far under the limit.
        refusal = oversized(key, value, headers, max_request_size=self._max_request_size)
        if refusal is not None:
            self._set_aside(row_id, refusal)
            return
        if batch is not None:  # full, or this row goes alone: the batch goes first
            await self._hand_over(stream)
            if stream in self._halted:
                return
        self._open[stream] = batch = _OpenBatch(self._producer.create_batch())
        batch.take(row_id, key, value, headers)
        if alone:
            await self._hand_over(stream)

    async def _partitions_of(self, topic: str) -> list[int] | Refusal | None:
        """The topic's partitions; why its records can never be sent; or None while its
        metadata cannot be had (the failure is recorded). Asked once per topic and round."""
        try:
            known = invalid_topic(topic) or sorted(await self._producer.partitions_for(topic))
        except Exception as error:  # broker away, or no such topic yet
            self._fail(error)
            known = None
        self._partitions[topic] = known
        return known

    async def _hand_over(self, stream: Stream) -> None:
        batch = self._open.pop(stream)
        if stream in self._halted:
            return
        topic, partition = stream
        try:
            future = await self._producer.send_batch(batch.builder, topic, partition=partition)
        except Exception as error:  # the producer's queue stayed full, or it is closing
            self._halted.add(stream)
            self._fail(error)
            return
        self._deliveries.append(_Delivery(stream, batch.row_ids, future))

    async def _settle(self) -> None:
        futures = [delivery.future for delivery in self._deliveries]
        if not futures:
            return
        _, pending = await asyncio.wait(futures, timeout=self._stalled_after)
        if pending:
            # Never give up on a delivery in flight: it may still land, and sending its rows
            # again meanwhile would publish them twice.
            self._on_stalled(len(pending))
            await asyncio.wait(pending)
        for delivery in self._deliveries:
            self._settle_one(delivery)

    def _settle_one(self, delivery: _Delivery) -> None:
        if delivery.future.cancelled():  # the producer was closed under it
            self._fail(ProducerClosed())
            return
        error = delivery.future.exception()
        if error is None:
            self._outcome.sent.extend(delivery.row_ids)
            self._outcome.sent_topics[delivery.stream[0]] += len(delivery.row_ids)
            self._outcome.broker_answered = True
            return
        self._outcome.producer_out_of_step = True
        if not isinstance(error, RECORD_REFUSED):
            self._fail(error)
            return
        self._outcome.broker_answered = True
        self._outcome.errors[type(error).__name__] += 1
        if len(delivery.row_ids) > 1:
            self._outcome.send_alone.extend(delivery.row_ids)
            return
        topic, partition = delivery.stream
        detail = f"refused by the broker for {topic} partition {partition} ({error})"
        self._outcome.set_aside.append(
            (delivery.row_ids[0], Refusal(type(error).__name__, detail).reason)
        )

    def _set_aside(self, row_id: int, refusal: Refusal) -> None:
        self._outcome.set_aside.append((row_id, refusal.reason))
        self._outcome.errors[refusal.error] += 1

    def _fail(self, error: BaseException) -> None:
        self._outcome.failures.append(error)
        self._outcome.errors[type(error).__name__] += 1
