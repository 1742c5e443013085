import random
import ssl
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest

from binome_notifications.adapters.retrying import deliver_with_retries
from binome_notifications.adapters.smtp import outcome_of_smtp_error
from binome_notifications.adapters.webhooks import RETRY_AFTER_LIMIT, parse_retry_after
from binome_notifications.domain.policy import (
    AttemptOutcome,
    ConnectionFailed,
    HttpReply,
    OutcomeClass,
    RetryPolicy,
    SmtpReply,
    TimedOut,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "expected", "signal"),
    [
        (aiosmtplib.SMTPDataError(451, "try later"), OutcomeClass.TRANSIENT, SmtpReply(451)),
        (aiosmtplib.SMTPDataError(550, "no"), OutcomeClass.PERMANENT, SmtpReply(550)),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(452, "full", "x@example.com")]
            ),
            OutcomeClass.TRANSIENT,
            SmtpReply(452),
        ),
        (aiosmtplib.SMTPAuthenticationError(535, "bad"), OutcomeClass.PERMANENT, SmtpReply(535)),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), OutcomeClass.TRANSIENT, TimedOut()),
        (aiosmtplib.SMTPReadTimeoutError("slow"), OutcomeClass.TRANSIENT, TimedOut()),
        (aiosmtplib.SMTPConnectError("refused"), OutcomeClass.TRANSIENT, ConnectionFailed()),
        (aiosmtplib.SMTPServerDisconnected("gone"), OutcomeClass.TRANSIENT, ConnectionFailed()),
        (ConnectionRefusedError(), OutcomeClass.TRANSIENT, ConnectionFailed()),
        (aiosmtplib.SMTPNotSupported("no STARTTLS"), OutcomeClass.PERMANENT, None),
        (ssl.SSLCertVerificationError("self-signed"), OutcomeClass.PERMANENT, None),
    ],
)
def test_smtp_errors_are_classified(
    error: Exception, expected: OutcomeClass, signal: object
) -> None:
    outcome = outcome_of_smtp_error(error)
    assert outcome.outcome is expected
    assert outcome.signal == signal
    assert "@" not in outcome.detail


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", now=NOW) == timedelta(seconds=120)
    assert parse_retry_after("Tue, 01 Dec 2026 08:01:30 GMT", now=NOW) == timedelta(seconds=90)
    assert parse_retry_after("Tue, 01 Dec 2026 07:00:00 GMT", now=NOW) == timedelta(0)
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


class ScriptedAttempts:
    def __init__(self, *outcomes: AttemptOutcome) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> AttemptOutcome:
        self.calls += 1
        return self.outcomes.pop(0)


class RecordedSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


POLICY = RetryPolicy(base_delay=timedelta(seconds=10), jitter_ratio=0.0, max_attempts=4)


async def test_transient_failures_are_retried_with_backoff_until_delivered() -> None:
    attempts = ScriptedAttempts(
        AttemptOutcome.of(SmtpReply(451)),
        AttemptOutcome.of(TimedOut()),
        AttemptOutcome.of(SmtpReply(250)),
    )
    sleep = RecordedSleep()
    report = await deliver_with_retries(
        attempts, policy=POLICY, rng=random.Random(1), clock=lambda: NOW, sleep=sleep
    )
    assert report.delivered
    assert report.attempts == 3
    assert sleep.waits == [10.0, 20.0]


async def test_permanent_failure_stops_at_once() -> None:
    attempts = ScriptedAttempts(AttemptOutcome.of(SmtpReply(550)))
    sleep = RecordedSleep()
    report = await deliver_with_retries(
        attempts, policy=POLICY, rng=random.Random(1), clock=lambda: NOW, sleep=sleep
    )
    assert report.should_park
    assert report.outcome.outcome is OutcomeClass.PERMANENT
    assert (report.attempts, sleep.waits) == (1, [])


async def test_attempts_run_out_and_retry_after_is_honoured() -> None:
    busy = AttemptOutcome.of(HttpReply(429, retry_after=timedelta(seconds=45)))
    attempts = ScriptedAttempts(busy, busy, busy, busy)
    sleep = RecordedSleep()
    report = await deliver_with_retries(
        attempts, policy=POLICY, rng=random.Random(1), clock=lambda: NOW, sleep=sleep
    )
    assert report.should_park
    assert report.outcome.outcome is OutcomeClass.TRANSIENT
    assert report.attempts == 4
    assert sleep.waits == [45.0, 45.0, 45.0]


@pytest.mark.parametrize(
    "hostile",
    ["99999999999999999", "1" * 5000, "Fri, 31 Dec 9999 23:59:59 -1400", "604801"],
)
def test_a_receivers_retry_after_never_pushes_a_retry_past_a_week(hostile: str) -> None:
    wait = parse_retry_after(hostile, now=NOW)
    assert wait == RETRY_AFTER_LIMIT == timedelta(days=7)
    assert NOW + wait > NOW


def test_a_retry_after_in_other_digits_is_unreadable_not_a_crash() -> None:
    assert parse_retry_after("\u00b2", now=NOW) is None
