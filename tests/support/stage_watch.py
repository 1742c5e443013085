"""Watching a running platform from outside: every event and every dead letter, as read.

:class:`TopicWatch` reads topics of the test's prefix from their start in the background, and
keeps each record decoded (events) or as its dead-letter headers say (dead letters), so a test
can count what every tenant got without trusting any service's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import ALL_TOPICS, TopicSpec
from binome_shared.messaging.cloudevents import ReceivedRecord, decode


@dataclass(frozen=True)
class DeadLetter:
    """One copy on a ``.dlq`` topic, with what its headers say."""

    topic: str
    service: str
    code: str
    reason: str
    event_id: str
    message_type: str
    tenant_id: str
    headers: dict[str, bytes]


def first_headers(record: Any) -> dict[str, bytes]:
    """A record's headers by name, as the reliable consumer reads them."""
    found: dict[str, bytes] = {}
    for name, value in record.headers or ():
        found.setdefault(name, value)  # the first copy of a repeated name, like the consumer
    return found


class TopicWatch:
    """Reads topics from the start, in the background; ``records`` grows as they arrive."""

    def __init__(self, bootstrap: str, topics: Sequence[str]) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        self.records: list[Any] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read(), name="topic-watch")

    async def _read(self) -> None:
        async for record in self._consumer:
            self.records.append(record)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def wait_for(self, found: Callable[[], bool], *, timeout: float = 15.0) -> bool:
        """Until ``found()`` holds (True) or the time-out (False): once the platform is idle,
        only this reader is left to catch up."""
        deadline = time.monotonic() + timeout
        while not found():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True


class EventWatch(TopicWatch):
    """The platform's event topics, decoded with the whole catalogue."""

    def __init__(self, bootstrap: str, prefix: str, topics: Sequence[TopicSpec]) -> None:
        super().__init__(bootstrap, [topic.full_name(prefix) for topic in topics])

    @property
    def envelopes(self) -> list[Envelope[Message]]:
        return [decode(ReceivedRecord.of(record), CATALOGUE) for record in self.records]

    def of(self, kind: type[Message], tenant_id: str | None = None) -> list[Envelope[Any]]:
        return [
            envelope
            for envelope in self.envelopes
            if isinstance(envelope.data, kind)
            and (tenant_id is None or envelope.tenant_id == tenant_id)
        ]


class DeadLetterWatch(TopicWatch):
    """Every dead-letter topic of the prefix."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        super().__init__(bootstrap, [topic.dead_letter_name(prefix) for topic in ALL_TOPICS])
        self._prefix = prefix

    @property
    def letters(self) -> list[DeadLetter]:
        return [self._letter(record) for record in self.records]

    def _letter(self, record: Any) -> DeadLetter:
        headers = first_headers(record)

        def text(name: str) -> str:
            return headers.get(name, b"").decode("utf-8", errors="replace")

        group = text("binome_dlq_consumer_group").removeprefix(self._prefix)
        return DeadLetter(
            topic=str(record.topic).removeprefix(self._prefix),
            service=group.removeprefix("binome-"),
            code=text("binome_dlq_code"),
            reason=text("binome_dlq_reason"),
            event_id=text("ce_id"),
            message_type=text("ce_type"),
            tenant_id=text("ce_tenantid"),
            headers=headers,
        )

    def about(self, event_id: object) -> list[DeadLetter]:
        return [letter for letter in self.letters if letter.event_id == str(event_id)]
