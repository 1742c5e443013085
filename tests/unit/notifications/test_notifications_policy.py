import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binome_devstack.notifications.examples import example_trigger
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.policy import (
    NO_PREFERENCES,
    ConnectionFailed,
    DeliveryThrottle,
    HttpReply,
    OptOut,
    OutcomeClass,
    Preferences,
    RateLimiter,
    RetryPolicy,
    SmtpReply,
    TimedOut,
    TokenBucket,
    classify,
    respecting_preferences,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        (SmtpReply(250), OutcomeClass.DELIVERED),
        (SmtpReply(421), OutcomeClass.TRANSIENT),
        (SmtpReply(451), OutcomeClass.TRANSIENT),
        (SmtpReply(452), OutcomeClass.TRANSIENT),
        (SmtpReply(535), OutcomeClass.PERMANENT),
        (SmtpReply(550), OutcomeClass.PERMANENT),
        (SmtpReply(554), OutcomeClass.PERMANENT),
        (TimedOut(), OutcomeClass.TRANSIENT),
        (ConnectionFailed(), OutcomeClass.TRANSIENT),
        (HttpReply(200), OutcomeClass.DELIVERED),
        (HttpReply(204), OutcomeClass.DELIVERED),
        (HttpReply(429), OutcomeClass.TRANSIENT),
        (HttpReply(408), OutcomeClass.TRANSIENT),
        (HttpReply(500), OutcomeClass.TRANSIENT),
        (HttpReply(503), OutcomeClass.TRANSIENT),
        (HttpReply(400), OutcomeClass.PERMANENT),
        (HttpReply(401), OutcomeClass.PERMANENT),
        (HttpReply(404), OutcomeClass.PERMANENT),
        (HttpReply(301), OutcomeClass.PERMANENT),
    ],
)
def test_classification(signal: SmtpReply | HttpReply | TimedOut, expected: OutcomeClass) -> None:
    assert classify(signal) is expected


def test_backoff_doubles_then_caps_without_jitter() -> None:
    policy = RetryPolicy(
        base_delay=timedelta(seconds=10),
        max_delay=timedelta(seconds=60),
        jitter_ratio=0.0,
        max_attempts=10,
    )
    rng = random.Random(1)
    delays = [policy.next_attempt_at(n, NOW, rng) for n in range(1, 6)]
    assert [(d - NOW).total_seconds() for d in delays if d] == [10, 20, 40, 60, 60]


def test_jitter_shortens_the_delay_by_at_most_the_ratio() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=100), jitter_ratio=0.5)
    assert policy.next_attempt_at(1, NOW, FixedRandom(0.0)) == NOW + timedelta(seconds=100)
    assert policy.next_attempt_at(1, NOW, FixedRandom(0.999999)) == NOW + timedelta(
        seconds=100 * (1 - 0.5 * 0.999999)
    )


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    rng = random.Random(7)
    assert policy.next_attempt_at(2, NOW, rng) is not None
    assert policy.next_attempt_at(3, NOW, rng) is None


def test_a_longer_retry_after_wins_over_backoff() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=5), jitter_ratio=0.0)
    rng = random.Random(3)
    assert policy.next_attempt_at(1, NOW, rng, retry_after=timedelta(minutes=2)) == NOW + timedelta(
        minutes=2
    )
    assert policy.next_attempt_at(1, NOW, rng, retry_after=timedelta(seconds=1)) == NOW + timedelta(
        seconds=5
    )


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter_ratio"):
        RetryPolicy(jitter_ratio=1.5)
    with pytest.raises(ValueError, match="numbered from 1"):
        RetryPolicy().delay_before_retry(0, random.Random(1))


@given(attempt=st.integers(min_value=1, max_value=200), seed=st.integers(0, 2**32))
def test_delays_stay_within_the_jittered_band(attempt: int, seed: int) -> None:
    policy = RetryPolicy(max_attempts=1000)
    delay = policy.delay_before_retry(attempt, random.Random(seed)).total_seconds()
    nominal = min(
        policy.max_delay.total_seconds(),
        policy.base_delay.total_seconds() * policy.multiplier ** min(attempt - 1, 64),
    )
    assert nominal * (1 - policy.jitter_ratio) - 1e-6 <= delay <= nominal + 1e-6


def test_token_bucket_allows_a_burst_then_refills_over_time() -> None:
    bucket = TokenBucket.full(capacity=2, refill_per_second=0.5, now=NOW)
    allowed_first, bucket = bucket.take(NOW)
    allowed_second, bucket = bucket.take(NOW)
    allowed_third, bucket = bucket.take(NOW)
    assert (allowed_first, allowed_second, allowed_third) == (True, True, False)
    assert bucket.available_at(NOW) == NOW + timedelta(seconds=2)
    allowed_later, _ = bucket.take(NOW + timedelta(seconds=2))
    assert allowed_later


def test_token_bucket_ignores_a_clock_going_backwards() -> None:
    bucket = TokenBucket.full(capacity=1, refill_per_second=1, now=NOW)
    _, bucket = bucket.take(NOW)
    allowed, after = bucket.take(NOW - timedelta(hours=1))
    assert not allowed
    assert after.updated_at == NOW


def test_rate_limiter_keeps_one_bucket_per_key_and_forgets_idle_ones() -> None:
    limiter = RateLimiter(capacity=1, refill_per_second=1 / 60)
    assert limiter.acquire("a@example.com", NOW).allowed
    refused = limiter.acquire("a@example.com", NOW + timedelta(seconds=30))
    assert not refused.allowed
    assert refused.retry_at == NOW + timedelta(seconds=60)
    assert limiter.acquire("b@example.com", NOW).allowed
    assert len(limiter) == 2
    assert limiter.forget_idle(NOW + timedelta(seconds=30)) == 0
    assert limiter.forget_idle(NOW + timedelta(minutes=2)) == 2
    assert len(limiter) == 0


def test_throttle_uses_the_receiver_limit_for_webhooks() -> None:
    throttle = DeliveryThrottle(
        per_recipient=RateLimiter(capacity=1, refill_per_second=0.001),
        per_receiver=RateLimiter(capacity=3, refill_per_second=0.001),
    )
    planned = plan_notifications(example_trigger(NotificationKind.MATCHING_SUMMARY))
    email = next(n for n in planned if n.channel is Channel.EMAIL)
    webhook = next(n for n in planned if n.channel is Channel.WEBHOOK)
    assert [throttle.acquire(email, NOW).allowed for _ in range(2)] == [True, False]
    assert [throttle.acquire(webhook, NOW).allowed for _ in range(4)] == [True, True, True, False]


def test_opt_outs_per_kind_per_channel_or_everything() -> None:
    no_reminders = Preferences(opt_outs=frozenset({OptOut(kind=NotificationKind.SESSION_REMINDER)}))
    no_email = Preferences(opt_outs=frozenset({OptOut(channel=Channel.EMAIL)}))
    assert not no_reminders.allows(NotificationKind.SESSION_REMINDER, Channel.EMAIL)
    assert no_reminders.allows(NotificationKind.SESSION_INVITATION, Channel.EMAIL)
    assert not no_email.allows(NotificationKind.INTRODUCTION, Channel.EMAIL)
    assert no_email.allows(NotificationKind.INTRODUCTION, Channel.WEBHOOK)
    assert NO_PREFERENCES.allows(NotificationKind.INTRODUCTION, Channel.EMAIL)


def test_respecting_preferences_drops_only_what_the_person_refused() -> None:
    planned = plan_notifications(example_trigger(NotificationKind.SESSION_INVITATION))
    preferences = {
        "p-laurent": Preferences(
            opt_outs=frozenset({OptOut(kind=NotificationKind.SESSION_REMINDER)})
        )
    }
    kept = respecting_preferences(planned, lambda pid: preferences.get(pid, NO_PREFERENCES))
    assert [(n.kind.value, n.recipient.recipient_id) for n in kept] == [
        ("session_invitation", "p-ines"),
        ("session_reminder", "p-ines"),
        ("session_invitation", "p-laurent"),
    ]
