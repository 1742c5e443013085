"""The report's reader with a fake Kafka (pure, no broker): a consumer that fails mid-way
(a broker restart as aiokafka reports it) is rebuilt and resumes where folding stopped, so
every fact is folded once; it is ready once it has read what was there at start."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from binome_integrations.report import live
from binome_integrations.report.live import LiveReports
from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging.cloudevents import encode
from tests.support.report_programme import generated_programme

pytestmark = pytest.mark.unit

PARTITION = TopicPartition("binome.sessions.events", 0)


class _Record:
    def __init__(self, envelope: Envelope[Message], offset: int) -> None:
        encoded = encode(envelope, topic=PARTITION.topic)
        self.topic, self.partition, self.offset = PARTITION.topic, 0, offset
        self.key, self.value, self.headers = encoded.key, encoded.value, encoded.headers


class FlakyKafka:
    """One partition's log; the first consumer fails after ``fail_after`` records."""

    def __init__(self, envelopes: Sequence[Envelope[Message]], fail_after: int) -> None:
        self.log = [_Record(envelope, offset) for offset, envelope in enumerate(envelopes)]
        self.fail_after = fail_after
        self.consumers = 0

    def consumer(self) -> FakeConsumer:
        self.consumers += 1
        return FakeConsumer(self, fails=self.consumers == 1)


class FakeConsumer:
    def __init__(self, kafka: FlakyKafka, *, fails: bool) -> None:
        self.kafka, self.fails = kafka, fails
        self.position_of: dict[TopicPartition, int] = {}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.position_of = dict.fromkeys(partitions, 0)

    def assignment(self) -> set[TopicPartition]:
        return set(self.position_of)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.position_of[partition] = offset

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        for partition in partitions:
            self.position_of[partition] = 0

    async def position(self, partition: TopicPartition) -> int:
        return self.position_of[partition]

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, len(self.kafka.log))

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[_Record]]:
        start = self.position_of[PARTITION]
        if self.fails and start >= self.kafka.fail_after:
            raise KafkaConnectionError("broker restarting")
        batch = self.kafka.log[start : start + 7]
        if not batch:
            await asyncio.sleep(timeout_ms / 1000)
        self.position_of[PARTITION] = start + len(batch)
        return {PARTITION: batch} if batch else {}


async def test_a_failing_consumer_is_rebuilt_and_resumes_without_folding_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    story = generated_programme("prog-flaky", managers=4)
    kafka = FlakyKafka(story, fail_after=30)

    async def partitions(*_: Any) -> list[TopicPartition]:
        return [PARTITION]

    monkeypatch.setattr(live, "topic_partitions", partitions)
    monkeypatch.setattr(live, "RETRY_SECONDS", (0.01,))
    reader = LiveReports(bootstrap_servers="unused:9092")
    monkeypatch.setattr(reader, "_client", kafka.consumer)

    reader.start()
    async with asyncio.timeout(10):
        await reader.wait_ready()
    report = await reader.report("groupe-exemple", "prog-flaky")
    await reader.stop()

    assert kafka.consumers == 4, "two clients (reader, offsets) per attempt, one attempt failed"
    assert reader.model.folded == len(story)
    assert report is not None
    assert report.pairs_formed == 4
    assert not reader.alive
