"""What the relay refuses before asking the broker, and how a reason is bounded."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    TopicAuthorizationFailedError,
)

from binome_shared.messaging.relay_delivery import (
    REASON_LIMIT,
    RECORD_REFUSED,
    Refusal,
    invalid_topic,
    oversized,
)

pytestmark = pytest.mark.unit

LIMIT = 1_048_576
HEADERS = [("ce_id", b"0b6e2f0c-3f7a-4a3e-9a0e-0c1d2e3f4a5b"), ("ce_type", b"binome.pair.formed")]


def test_a_record_that_fits_is_not_refused() -> None:
    assert oversized(b"pair-1", b"{}", HEADERS, max_request_size=LIMIT) is None


def test_a_record_over_the_request_size_is_refused_with_its_size_counting_headers() -> None:
    value = b"x" * (LIMIT - 100)
    assert oversized(b"k", value, [], max_request_size=LIMIT) is None
    refusal = oversized(b"k", value, [("reason", b"y" * 200)], max_request_size=LIMIT)
    assert refusal is not None
    assert refusal.error == "MessageSizeTooLargeError"
    assert refusal.reason.startswith("MessageSizeTooLargeError: the record takes 1,048,")


@pytest.mark.parametrize("topic", ["", ".", "..", "pairing events", "évènements", "a" * 250])
def test_a_topic_kafka_would_never_accept_is_refused(topic: str) -> None:
    refusal = invalid_topic(topic)
    assert refusal is not None
    assert refusal.error == "InvalidTopicError"


@pytest.mark.parametrize("topic", ["a", "t0.binome.pairing.events.dlq", "A_b-c.9", "a" * 249])
def test_any_valid_topic_name_passes(topic: str) -> None:
    assert invalid_topic(topic) is None


def test_a_reason_is_bounded() -> None:
    reason = Refusal("CorruptRecordException", "z" * 2 * REASON_LIMIT).reason
    assert len(reason) == REASON_LIMIT
    assert reason.startswith("CorruptRecordException: zzz")
    assert reason.endswith("…")


def test_only_refusals_of_the_record_itself_set_it_aside() -> None:
    assert isinstance(MessageSizeTooLargeError(), RECORD_REFUSED)
    for infrastructure in (
        KafkaConnectionError(),
        KafkaTimeoutError(),
        NotLeaderForPartitionError(),
        OutOfOrderSequenceNumber(),
        TopicAuthorizationFailedError(),
    ):
        assert not isinstance(infrastructure, RECORD_REFUSED), type(infrastructure).__name__
