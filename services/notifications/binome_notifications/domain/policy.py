"""Delivery policy: what a failure means, when to try again, how fast, and who opted out."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from binome_notifications.domain.model import Channel, Notification, NotificationKind


class OutcomeClass(StrEnum):
    """What an attempt's outcome means for the next step."""

    DELIVERED = "delivered"
    TRANSIENT = "transient"
    """Try again later."""
    PERMANENT = "permanent"
    """Trying again will not help: park it (dead letter) and tell an operator."""


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """The reply code an SMTP server gave to the step that decided the attempt."""

    code: int


@dataclass(frozen=True, slots=True)
class HttpReply:
    """The status a webhook receiver answered, and its Retry-After if any."""

    status: int
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class TimedOut:
    """No answer in time."""


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The server could not be reached or hung up."""


Signal = SmtpReply | HttpReply | TimedOut | ConnectionFailed


def classify(signal: Signal) -> OutcomeClass:
    """Transient: SMTP 4xx, timeouts, connection errors, HTTP 5xx/429/408.
    Permanent: SMTP 5xx, HTTP 4xx, anything unexpected (so it gets looked at, not hammered)."""
    match signal:
        case TimedOut() | ConnectionFailed():
            return OutcomeClass.TRANSIENT
        case SmtpReply(code=code):
            return _classify_smtp(code)
        case HttpReply(status=status):
            return _classify_http(status)


def _classify_smtp(code: int) -> OutcomeClass:
    if 200 <= code < 400:
        return OutcomeClass.DELIVERED
    if 400 <= code < 500:
        return OutcomeClass.TRANSIENT
    return OutcomeClass.PERMANENT


def _classify_http(status: int) -> OutcomeClass:
    if 200 <= status < 300:
        return OutcomeClass.DELIVERED
    if status in (408, 429) or 500 <= status < 600:
        return OutcomeClass.TRANSIENT
    return OutcomeClass.PERMANENT


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptOutcome:
    """The result of one delivery attempt, free of personal data so it can be logged."""

    outcome: OutcomeClass
    signal: Signal | None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        """Whether the receiving server accepted the message."""
        return self.outcome is OutcomeClass.DELIVERED

    @property
    def retry_after(self) -> timedelta | None:
        """The receiver's own wait request, if it gave one."""
        return self.signal.retry_after if isinstance(self.signal, HttpReply) else None

    @classmethod
    def of(cls, signal: Signal, detail: str = "") -> AttemptOutcome:
        """The outcome a signal means."""
        return cls(outcome=classify(signal), signal=signal, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, for a bounded number of attempts."""

    base_delay: timedelta = timedelta(seconds=30)
    multiplier: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    jitter_ratio: float = 0.5
    """Share of each delay drawn at random, so that retries of one burst spread out."""
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter_ratio <= 1.0:
            raise ValueError("jitter_ratio must be within [0, 1]")
        if self.multiplier < 1.0:
            raise ValueError("multiplier must be at least 1")

    def delay_before_retry(self, attempt: int, rng: random.Random) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1 for the first attempt)."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        ceiling = self.max_delay.total_seconds()
        growth = self.multiplier ** min(attempt - 1, 64)
        nominal = min(ceiling, self.base_delay.total_seconds() * growth)
        jittered = nominal * (1.0 - self.jitter_ratio * rng.random())
        return timedelta(seconds=jittered)

    def next_attempt_at(
        self,
        attempt: int,
        now: datetime,
        rng: random.Random,
        *,
        retry_after: timedelta | None = None,
    ) -> datetime | None:
        """When to make attempt ``attempt + 1``, or None when the attempts are spent.

        A receiver's Retry-After is honoured when it asks for longer than the backoff.
        """
        if attempt >= self.max_attempts:
            return None
        delay = self.delay_before_retry(attempt, rng)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return now + delay


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenBucket:
    """``capacity`` sends at once, then ``refill_per_second`` on average; immutable."""

    capacity: float
    refill_per_second: float
    tokens: float
    updated_at: datetime

    @classmethod
    def full(cls, *, capacity: float, refill_per_second: float, now: datetime) -> TokenBucket:
        """A bucket with every token available."""
        if capacity < 1 or refill_per_second <= 0:
            raise ValueError("a bucket needs capacity >= 1 and a positive refill rate")
        return cls(
            capacity=capacity, refill_per_second=refill_per_second, tokens=capacity, updated_at=now
        )

    def refilled(self, now: datetime) -> TokenBucket:
        """The bucket at ``now``; a clock going backwards adds nothing."""
        elapsed = max(0.0, (now - self.updated_at).total_seconds())
        tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        return replace(self, tokens=tokens, updated_at=max(now, self.updated_at))

    def take(self, now: datetime, cost: float = 1.0) -> tuple[bool, TokenBucket]:
        """Whether ``cost`` tokens were available at ``now``, and the bucket after."""
        current = self.refilled(now)
        if current.tokens >= cost:
            return True, replace(current, tokens=current.tokens - cost)
        return False, current

    def available_at(self, now: datetime, cost: float = 1.0) -> datetime:
        """The earliest moment ``cost`` tokens will be available."""
        current = self.refilled(now)
        missing = max(0.0, cost - current.tokens)
        return current.updated_at + timedelta(seconds=missing / self.refill_per_second)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether to send now and, if not, when to try."""

    allowed: bool
    retry_at: datetime


@dataclass(slots=True, kw_only=True)
class RateLimiter:
    """One token bucket per key (a recipient address or a webhook receiver); time passed in."""

    capacity: float
    refill_per_second: float
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, init=False, repr=False)

    def acquire(self, key: str, now: datetime) -> RateDecision:
        """Take a token for ``key`` at ``now`` if one is available."""
        bucket = self._buckets.get(key) or TokenBucket.full(
            capacity=self.capacity, refill_per_second=self.refill_per_second, now=now
        )
        allowed, after = bucket.take(now)
        self._buckets[key] = after
        return RateDecision(allowed=allowed, retry_at=now if allowed else after.available_at(now))

    def forget_idle(self, now: datetime) -> int:
        """Drop buckets that are full again (indistinguishable from new ones); how many."""
        idle = [key for key, b in self._buckets.items() if b.refilled(now).tokens >= b.capacity]
        for key in idle:
            del self._buckets[key]
        return len(idle)

    def __len__(self) -> int:
        return len(self._buckets)


@dataclass(slots=True, kw_only=True)
class DeliveryThrottle:
    """Separate limits for people (per e-mail address) and for webhook receivers."""

    per_recipient: RateLimiter
    per_receiver: RateLimiter

    def acquire(self, notification: Notification, now: datetime) -> RateDecision:
        """Take a token from the bucket ``notification``'s recipient draws on."""
        limiter = (
            self.per_receiver if notification.channel is Channel.WEBHOOK else self.per_recipient
        )
        return limiter.acquire(notification.recipient.address.lower(), now)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    """One opt-out; None means "every kind" or "every channel"."""

    kind: NotificationKind | None = None
    channel: Channel | None = None

    def covers(self, kind: NotificationKind, channel: Channel) -> bool:
        """Whether this opt-out applies to ``kind`` on ``channel``."""
        return self.kind in (None, kind) and self.channel in (None, channel)


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    """A recipient's opt-outs, per kind and channel."""

    opt_outs: frozenset[OptOut] = frozenset()

    def allows(self, kind: NotificationKind, channel: Channel) -> bool:
        """Whether the recipient still wants ``kind`` on ``channel``."""
        return not any(opt_out.covers(kind, channel) for opt_out in self.opt_outs)


NO_PREFERENCES = Preferences()


def respecting_preferences(
    notifications: Iterable[Notification],
    preferences_of: Callable[[str], Preferences],
) -> list[Notification]:
    """The notifications whose recipients (by recipient id) have not opted out of them."""
    return [
        notification
        for notification in notifications
        if preferences_of(notification.recipient.recipient_id).allows(
            notification.kind, notification.channel
        )
    ]
