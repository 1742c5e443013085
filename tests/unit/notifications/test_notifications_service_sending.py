"""Decisions around one delivery attempt: send, wait, expire, resend in doubt, retry, give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from binome_notifications.domain.policy import (
    AttemptOutcome,
    ConnectionFailed,
    HttpReply,
    RetryPolicy,
    SmtpReply,
)
from binome_notifications.domain.sending import (
    Before,
    Delivered,
    DeliveryState,
    DeliveryStatus,
    GiveUp,
    RetryAt,
    after_attempt,
    before_attempt,
)

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_delay=timedelta(seconds=30), jitter_ratio=0.0, max_attempts=3)


def state(
    status: DeliveryStatus = DeliveryStatus.PENDING,
    *,
    next_attempt_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> DeliveryState:
    return DeliveryState(
        status=status, attempts=0, next_attempt_at=next_attempt_at, expires_at=expires_at
    )


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (None, Before.NOTHING),
        (state(DeliveryStatus.SENT), Before.NOTHING),
        (state(DeliveryStatus.FAILED), Before.NOTHING),
        (state(DeliveryStatus.CANCELLED), Before.NOTHING),
        (state(DeliveryStatus.EXPIRED), Before.NOTHING),
        (state(), Before.SEND),
        (state(DeliveryStatus.SENDING), Before.RESEND_IN_DOUBT),
        (state(next_attempt_at=NOW + timedelta(seconds=1)), Before.NOT_YET),
        (state(next_attempt_at=NOW), Before.SEND),
        (state(expires_at=NOW), Before.EXPIRE),
        (state(DeliveryStatus.SENDING, expires_at=NOW - timedelta(hours=1)), Before.EXPIRE),
        (state(expires_at=NOW + timedelta(minutes=1)), Before.SEND),
    ],
)
def test_before_an_attempt(current: DeliveryState | None, expected: Before) -> None:
    assert before_attempt(current, now=NOW) is expected


def test_an_accepted_message_is_delivered() -> None:
    step = after_attempt(
        AttemptOutcome.of(SmtpReply(250)), attempts=1, now=NOW, policy=POLICY, rng=random.Random(1)
    )
    assert step == Delivered()


def test_a_transient_failure_is_retried_with_exponential_backoff() -> None:
    outcome = AttemptOutcome.of(SmtpReply(451), "greylisted")
    first = after_attempt(outcome, attempts=1, now=NOW, policy=POLICY, rng=random.Random(1))
    second = after_attempt(outcome, attempts=2, now=NOW, policy=POLICY, rng=random.Random(1))
    assert first == RetryAt(NOW + timedelta(seconds=30))
    assert second == RetryAt(NOW + timedelta(seconds=60))


def test_a_receivers_retry_after_is_honoured() -> None:
    outcome = AttemptOutcome.of(HttpReply(429, retry_after=timedelta(minutes=10)))
    step = after_attempt(outcome, attempts=1, now=NOW, policy=POLICY, rng=random.Random(1))
    assert step == RetryAt(NOW + timedelta(minutes=10))


def test_spent_attempts_give_up_as_not_permanent() -> None:
    outcome = AttemptOutcome.of(ConnectionFailed(), "ConnectionRefusedError")
    step = after_attempt(outcome, attempts=3, now=NOW, policy=POLICY, rng=random.Random(1))
    assert step == GiveUp(
        permanent=False, reason="ConnectionRefusedError (gave up after 3 attempts)"
    )


def test_a_permanent_refusal_gives_up_at_once() -> None:
    outcome = AttemptOutcome.of(SmtpReply(550), "SMTPRecipientsRefused")
    step = after_attempt(outcome, attempts=1, now=NOW, policy=POLICY, rng=random.Random(1))
    assert step == GiveUp(permanent=True, reason="SMTPRecipientsRefused")
