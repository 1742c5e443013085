"""What the platform published about one programme, read back from Kafka.

The report is built only from what the services publish: their events, and the HR commands
that defined the programme and enrolled its people. :class:`ProgrammeEvents` reads those
topics from their beginning up to where they end when it is called, without a consumer
group (nothing is committed, nobody else's offsets move), and keeps the envelopes of one
tenant's programme, in each partition's order (so a pair's story reads in order). Records it
cannot decode are left aside: the services dead-letter them, and the report counts dead
letters apart (:func:`dead_letter_counts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from binome_integrations.report.model import DeadLetterCount
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import (
    ALL_TOPICS,
    HR_COMMANDS,
    NOTIFICATIONS_EVENTS,
    PAIRING_EVENTS,
    SESSIONS_EVENTS,
    TopicSpec,
)
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError, decode

REPORT_TOPICS: tuple[TopicSpec, ...] = (
    HR_COMMANDS,
    PAIRING_EVENTS,
    SESSIONS_EVENTS,
    NOTIFICATIONS_EVENTS,
)
"""The programme's definition and enrolments, then the facts of the three services."""

_POLL_MILLISECONDS = 500


class ProgrammeEvents:
    """Reads every envelope of one programme from the report's topics, from the start."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        tenant_id: str,
        programme_id: str,
        topic_prefix: str = "",
        topics: Sequence[TopicSpec] = REPORT_TOPICS,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``client_options`` go to aiokafka's consumer and admin client as they are: the
        security settings (``aiokafka_security(...)``), a client id."""
        self._bootstrap = bootstrap_servers
        self._tenant = tenant_id.encode()
        self._programme = programme_id.encode()
        self._names = [spec.full_name(topic_prefix) for spec in topics]
        self._options = dict(client_options or {})

    async def collect(self) -> list[Envelope[Message]]:
        """The programme's envelopes up to the topics' current ends: topic by topic, each
        partition in order."""
        partitions = await topic_partitions(self._bootstrap, self._names, self._options)
        if not partitions:
            return []
        consumer = groupless_consumer(self._bootstrap, self._options)
        await consumer.start()
        try:
            records = await _read_to_end(consumer, partitions)
        finally:
            await consumer.stop()
        return [
            envelope
            for partition in partitions
            for record in records[partition]
            if (envelope := self._ours(record)) is not None
        ]

    def _ours(self, record: ConsumerRecord[Any, Any]) -> Envelope[Message] | None:
        received = ReceivedRecord.of(record)
        # The headers say whose record it is: only the programme's records are decoded.
        headers = received.header_values
        if headers.get("ce_programmeid") != self._programme:
            return None
        if headers.get("ce_tenantid") != self._tenant:
            return None
        try:
            return decode(received, CATALOGUE)
        except UndecodableRecordError:
            return None


def groupless_consumer(
    bootstrap_servers: str, client_options: Mapping[str, Any]
) -> AIOKafkaConsumer:
    """A consumer (not started) for assigned partitions, in no consumer group: it commits
    nothing and moves nobody's offsets; a partition without a position starts at its
    beginning."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **client_options,
    )


async def topic_partitions(
    bootstrap_servers: str, names: Sequence[str], client_options: Mapping[str, Any]
) -> list[TopicPartition]:
    """Every partition of the named topics that exist, in the order named."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [name for name in names if name in existing]
        described = await admin.describe_topics(present) if present else []
    finally:
        await admin.close()
    counts = {
        topic["topic"]: len(topic["partitions"]) for topic in described if topic["error_code"] == 0
    }
    return [
        TopicPartition(name, number) for name in present for number in range(counts.get(name, 0))
    ]


async def _read_to_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
    """Every record from each partition's start to its end as of now."""
    records: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {tp: [] for tp in partitions}
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=_POLL_MILLISECONDS)
        for partition, batch in batches.items():
            records[partition].extend(record for record in batch if record.offset < ends[partition])
        for partition in list(remaining):
            if await consumer.position(partition) >= ends[partition]:
                remaining.discard(partition)
    return records


async def dead_letter_counts(
    bootstrap_servers: str, topic_prefix: str = "", client_options: Mapping[str, Any] | None = None
) -> list[DeadLetterCount]:
    """Messages on each dead-letter topic (from the offsets: nothing is consumed); a topic
    that does not exist holds none."""
    options = dict(client_options or {})
    names = [spec.dead_letter_name(topic_prefix) for spec in ALL_TOPICS]
    partitions = await topic_partitions(bootstrap_servers, names, options)
    held: Counter[str] = Counter()
    if partitions:
        consumer = groupless_consumer(bootstrap_servers, options)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
        finally:
            await consumer.stop()
        for partition in partitions:
            held[partition.topic] += ends[partition] - starts[partition]
    return [DeadLetterCount(topic=name, count=held[name]) for name in names]
