"""The outbox relay's Kafka producer: idempotent, acknowledged by every in-sync replica, and
replaceable by a fresh one when the broker has refused one of its batches."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerClosed

DEFAULT_MAX_REQUEST_SIZE = 1_048_576
"""aiokafka's default ``max_request_size``, just under the broker's default
``message.max.bytes``: the largest record the relay hands over."""


class Producer(Protocol):
    """The part of aiokafka's producer the relay uses: its batch interface."""

    def create_batch(self) -> Any: ...

    async def send_batch(
        self, batch: Any, topic: str, *, partition: int
    ) -> asyncio.Future[Any]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


class RelayProducer:
    """An idempotent producer the relay can renew.

    An idempotent producer numbers each partition's batches, and aiokafka counts a batch as
    soon as it goes out. When the broker refuses one (a record over the topic's size limit),
    the numbering keeps a gap the broker never forgives: every later batch for that partition
    is refused as ``OutOfOrderSequenceNumber`` for the producer's whole life. A new producer
    gets a new producer id, whose numbering starts afresh; :meth:`renew` swaps it in.
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_id: str,
        linger_ms: int = 2,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        **options: Any,
    ) -> None:
        """``options`` go to ``AIOKafkaProducer`` as they are (security: TLS, SASL …); the
        relay's guarantees rest on idempotence and ``acks="all"``, which cannot be changed."""
        if options.get("max_batch_size", 16_384) > max_request_size:
            # The relay checks a record's size only where it starts a batch.
            raise ValueError("max_batch_size must not exceed max_request_size")
        self._options: dict[str, Any] = {
            **options,
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "linger_ms": linger_ms,
            "max_request_size": max_request_size,
            "enable_idempotence": True,  # no duplicate or reordering from the client's retries
            "acks": "all",  # acknowledged means on every in-sync replica
        }
        self.max_request_size = max_request_size
        self._live: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        return self._live is not None

    async def start(self) -> None:
        """Connect, unless already connected; a failed start leaves nothing half-open."""
        if self._live is not None:
            return
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._live = producer

    async def stop(self) -> None:
        producer, self._live = self._live, None
        if producer is not None:
            await producer.stop()

    async def renew(self) -> None:
        """Replace the producer by a fresh one (call it only once its deliveries are settled)."""
        with contextlib.suppress(Exception):  # the old one's fate no longer matters
            await self.stop()
        await self.start()

    def create_batch(self) -> Any:
        return self._started().create_batch()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self._started().send_batch(
            batch, topic, partition=partition
        )
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return set(await self._started().partitions_for(topic))

    def _started(self) -> AIOKafkaProducer:
        if self._live is None:
            raise ProducerClosed()
        return self._live
