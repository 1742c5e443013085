"""In-process retries of one delivery, following the delivery policy.

For short transient failures (a greylisting 451, a blip); a service that must survive restarts
records ``next_attempt_at`` instead and lets a scheduler make the next attempt.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from binome_notifications.domain.policy import AttemptOutcome, OutcomeClass, RetryPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """How a delivery ended and after how many attempts."""

    outcome: AttemptOutcome
    attempts: int

    @property
    def delivered(self) -> bool:
        """Whether the last attempt was accepted."""
        return self.outcome.delivered

    @property
    def should_park(self) -> bool:
        """Permanent failure or attempts spent: send it to the dead-letter topic."""
        return not self.delivered


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def deliver_with_retries(
    attempt: Callable[[], Awaitable[AttemptOutcome]],
    *,
    policy: RetryPolicy,
    rng: random.Random,
    clock: Callable[[], datetime] = _utc_now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> DeliveryReport:
    """Call ``attempt`` until it is delivered, fails permanently or the policy gives up."""
    attempts = 0
    while True:
        attempts += 1
        outcome = await attempt()
        if outcome.outcome is not OutcomeClass.TRANSIENT:
            return DeliveryReport(outcome=outcome, attempts=attempts)
        now = clock()
        retry_at = policy.next_attempt_at(attempts, now, rng, retry_after=outcome.retry_after)
        if retry_at is None:
            return DeliveryReport(outcome=outcome, attempts=attempts)
        await sleep(max(0.0, (retry_at - now).total_seconds()))
