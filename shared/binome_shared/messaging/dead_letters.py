"""The dead-letter record of a refused record: its bytes, and headers saying why, where, when.

A dead letter must always be sendable. A record that arrived just under the broker's size
limit would no longer fit once the dead-letter headers join it, so such a dead letter (and
the minimal one written when even storing an outcome failed) carries a bounded *excerpt*:
the start of the value and key, a bounded copy of the first headers, the original's size,
and ``binome_dlq_truncated`` (``true`` when anything was cut, ``false`` when the excerpt
happens to be the whole original). Its topic, partition and offset say where the whole
original still is, for as long as the topic retains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from binome_shared.messaging.bounded import REASON_CHARS, excerpt, printable, storable_text
from binome_shared.messaging.cloudevents import Headers, KafkaRecord, ReceivedRecord

MIN_RECORD_BYTES = 65_536
"""The smallest limit an excerpt is sure to fit (see the bounds below)."""

CODE_CHARS = 100
VALUE_EXCERPT_BYTES = 16_384
KEY_EXCERPT_BYTES = 1_024
EXCERPT_HEADERS = 32
HEADER_NAME_CHARS = 64
HEADER_VALUE_EXCERPT_BYTES = 512
TRUNCATED_HEADER = "binome_dlq_truncated"


@dataclass(frozen=True, slots=True)
class DeadLetterCause:
    """Why, by whom and when a record was given up."""

    code: str
    reason: str
    consumer_group: str
    attempts: int
    failed_at: datetime


def record_size(key: bytes, value: bytes, headers: Sequence[tuple[str, bytes]]) -> int:
    """The bytes a record takes in a batch of its own, counted as the relay counts them
    against the producer's ``max_request_size`` (aiokafka's estimate, framing included)."""
    storable = [(storable_text(name), content) for name, content in headers]  # no surrogates
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, storable))


def dead_letter(
    record: ReceivedRecord,
    cause: DeadLetterCause,
    *,
    max_record_bytes: int,
    excerpt_only: bool = False,
) -> KafkaRecord:
    """The record for ``<topic>.dlq``: the whole original when it fits under
    ``max_record_bytes`` (and ``excerpt_only`` is not asked), else a bounded excerpt."""
    about = _about(record, cause)
    key, value = record.key or b"", record.value or b""
    if not excerpt_only:
        whole = [(storable_text(name), content) for name, content in record.headers] + about
        if record_size(key, value, whole) <= max_record_bytes:
            return KafkaRecord(topic=f"{record.topic}.dlq", key=key, value=value, headers=whole)
    kept = [
        (printable(name, limit=HEADER_NAME_CHARS), content[:HEADER_VALUE_EXCERPT_BYTES])
        for name, content in record.headers[:EXCERPT_HEADERS]
    ]
    excerpt_key = excerpt(key, limit=KEY_EXCERPT_BYTES)
    excerpt_value = excerpt(value, limit=VALUE_EXCERPT_BYTES)
    cut = (excerpt_key, excerpt_value, kept) != (key, value, list(record.headers))
    truncation: Headers = [
        (TRUNCATED_HEADER, str(cut).lower().encode()),
        ("binome_dlq_original_size", str(record_size(key, value, record.headers)).encode()),
        ("binome_dlq_original_key_size", str(len(key)).encode()),
        ("binome_dlq_original_value_size", str(len(value)).encode()),
        ("binome_dlq_original_headers", str(len(record.headers)).encode()),
    ]
    return KafkaRecord(
        topic=f"{record.topic}.dlq",
        key=excerpt_key,
        value=excerpt_value,
        headers=kept + about + truncation,
    )


def _about(record: ReceivedRecord, cause: DeadLetterCause) -> Headers:
    """The dead-letter headers proper: bounded, printable UTF-8 whatever the refusal said."""
    return [
        ("binome_dlq_code", printable(cause.code, limit=CODE_CHARS).encode()),
        ("binome_dlq_reason", printable(cause.reason, limit=REASON_CHARS).encode()),
        ("binome_dlq_source_topic", record.topic.encode()),
        ("binome_dlq_source_partition", str(record.partition).encode()),
        ("binome_dlq_source_offset", str(record.offset).encode()),
        ("binome_dlq_consumer_group", cause.consumer_group.encode()),
        ("binome_dlq_attempts", str(cause.attempts).encode()),
        ("binome_dlq_failed_at", cause.failed_at.isoformat().encode()),
    ]
