"""What the relay refuses before asking the broker, how a reason is bounded, and how a
refusal of the service's principal is told apart from a refusal of the record."""

from __future__ import annotations

import logging
from typing import cast

import asyncpg
import pytest
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from binome_shared.messaging.relay import OutboxRelay
from binome_shared.messaging.relay_delivery import (
    AUTHORIZATION_REFUSED,
    REASON_LIMIT,
    RECORD_REFUSED,
    DeliveriesFailedError,
    Refusal,
    RoundOutcome,
    authorization_refusals,
    invalid_topic,
    oversized,
)
from binome_shared.messaging.relay_producer import Producer

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


def test_an_authorization_refusal_is_a_deployment_error_never_a_record_refusal() -> None:
    for refused in (
        TopicAuthorizationFailedError("t0.binome.sessions.events"),
        ClusterAuthorizationFailedError(),
        TransactionalIdAuthorizationFailed(),
    ):
        assert isinstance(refused, AUTHORIZATION_REFUSED)
        assert not isinstance(refused, RECORD_REFUSED)
    failures = [
        KafkaTimeoutError(),
        TopicAuthorizationFailedError("t0.binome.sessions.events"),
        TopicAuthorizationFailedError("t0.binome.sessions.events"),
    ]
    assert authorization_refusals(failures) == [
        "[Error 29] TopicAuthorizationFailedError: t0.binome.sessions.events"
    ]
    assert authorization_refusals([KafkaConnectionError()]) == []


async def test_the_relay_keeps_refused_rows_unsent_and_says_loudly_it_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = OutboxRelay(pool=cast(asyncpg.Pool, None), producer=cast(Producer, None), schema="s")
    refused = RoundOutcome(failures=[TopicAuthorizationFailedError("t0.binome.sessions.events")])
    with caplog.at_level(logging.ERROR), pytest.raises(DeliveriesFailedError):
        await relay._take_stock(refused, claimed={1, 2})
    assert (relay.connected, relay.authorization_refused, relay.set_aside_total) == (
        False,
        True,
        0,
    )
    [message] = [record.getMessage() for record in caplog.records]
    assert "Kafka refuses this service's principal" in message
    assert "t0.binome.sessions.events" in message
    assert "2 outbox rows stay unsent" in message

    await relay._take_stock(RoundOutcome(sent=[1, 2], broker_answered=True), claimed={1, 2})
    assert (relay.connected, relay.authorization_refused) == (True, False)
