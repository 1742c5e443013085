"""What to do with a delivery before an attempt, and after it: pure decisions, time passed in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from binome_notifications.domain.policy import AttemptOutcome, OutcomeClass, RetryPolicy

DELIVER_JOB = "deliver"
"""The scheduled job type that sends one delivery."""


def turn_job_id(delivery_key: str, turn: int) -> str:
    """The scheduled job of a delivery's ``turn``-th run (each retry is a job of its own).
    Delivery keys hash their tenant in, so two tenants' jobs never share an id."""
    return f"{DELIVER_JOB}:{delivery_key}:{turn}"


def turn_payload(tenant_id: str, delivery_key: str, turn: int) -> dict[str, str | int]:
    """What the ``turn``-th job of a delivery carries: the delivery is read within its
    tenant."""
    return {"tenant_id": tenant_id, "delivery_key": delivery_key, "turn": turn}


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SENDING = "sending"
    """Claimed and committed before the send; still so after a crash: the send is in doubt."""
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """A later revision of the session, or its cancellation, made it pointless."""
    EXPIRED = "expired"
    """A reminder whose session had already begun when its turn came."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryState:
    """What the ledger says about one delivery when its job runs."""

    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    expires_at: datetime | None


class Before(StrEnum):
    """The decision taken before an attempt."""

    SEND = "send"
    RESEND_IN_DOUBT = "resend_in_doubt"
    """The previous attempt was interrupted after its claim: the message may have gone."""
    NOT_YET = "not_yet"
    EXPIRE = "expire"
    NOTHING = "nothing"
    """Already ended (sent, failed, cancelled, expired) or erased."""


def before_attempt(state: DeliveryState | None, *, now: datetime) -> Before:
    """Whether this job should send, wait, expire the delivery, or do nothing."""
    if state is None or state.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        return Before.NOTHING
    if state.next_attempt_at is not None and state.next_attempt_at > now:
        return Before.NOT_YET
    if state.expires_at is not None and now >= state.expires_at:
        return Before.EXPIRE
    if state.status is DeliveryStatus.SENDING:
        return Before.RESEND_IN_DOUBT
    return Before.SEND


@dataclass(frozen=True, slots=True)
class Delivered:
    """The receiving server accepted the message."""


@dataclass(frozen=True, slots=True)
class RetryAt:
    """A transient failure: try again at ``at``."""

    at: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    """A permanent refusal, or the attempts are spent."""

    permanent: bool
    reason: str


After = Delivered | RetryAt | GiveUp


def after_attempt(
    outcome: AttemptOutcome,
    *,
    attempts: int,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> After:
    """What attempt number ``attempts`` (counted from 1) leads to."""
    if outcome.outcome is OutcomeClass.DELIVERED:
        return Delivered()
    reason = outcome.detail or outcome.outcome.value
    if outcome.outcome is OutcomeClass.PERMANENT:
        return GiveUp(permanent=True, reason=reason)
    retry_at = policy.next_attempt_at(attempts, now, rng, retry_after=outcome.retry_after)
    if retry_at is None:
        return GiveUp(permanent=False, reason=f"{reason} (gave up after {attempts} attempts)")
    return RetryAt(retry_at)
