"""Recording what an attempt led to: the delivery settled (sent or failed, with its public
event in the outbox, same transaction) or pending again until its retry time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from binome_notifications.adapters.attempts import AttemptLedger, Settlement, StoredDelivery
from binome_notifications.domain.policy import AttemptOutcome
from binome_notifications.domain.sending import After, Delivered, DeliveryStatus, GiveUp, RetryAt
from binome_shared.contracts.base import Envelope, Event
from binome_shared.contracts.notifications_events import NotificationFailed, NotificationSent
from binome_shared.messaging.outbox import Outbox

logger = logging.getLogger(__name__)

_EVENT_NAMESPACE = uuid.UUID("0b7f5d52-8a3e-4c55-9a53-2f4f0d6f1c3a")

AttemptsFactory = Callable[[asyncpg.Connection], AttemptLedger]
"""Opens the ledger on a connection of the sending job's own pool."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedAttempt:
    """One attempt that returned: what it was, what came of it, and what that leads to."""

    delivery: StoredDelivery
    step: After
    attempt: int
    outcome: AttemptOutcome
    turn: int
    now: datetime

    @property
    def settlement(self) -> Settlement | None:
        """How the delivery ends, or None when it is to be retried."""
        match self.step:
            case GiveUp(reason=reason):
                status, detail = DeliveryStatus.FAILED, reason
            case Delivered():
                status, detail = DeliveryStatus.SENT, self.outcome.detail
            case RetryAt():
                return None
        return Settlement(
            tenant_id=self.delivery.tenant_id,
            delivery_key=self.delivery.delivery_key,
            status=status,
            finished_at=self.now,
            outcome=detail,
        )


class OutcomeRecorder:
    """Writes attempts' outcomes to the ledger and their events to the outbox."""

    def __init__(self, *, outbox: Outbox, source: str, attempts: AttemptsFactory) -> None:
        self._outbox = outbox
        self._source = source
        self._attempts = attempts

    async def record(self, conn: asyncpg.Connection, finished: FinishedAttempt) -> None:
        """Settle or postpone one delivery (one send at a time: no turn is in flight)."""
        ledger = self._attempts(conn)
        settlement = finished.settlement
        if settlement is None:
            await self._postpone(ledger, finished)
            return
        resends = await ledger.settle(settlement)
        if resends is not None:
            await self._outbox.add(conn, self._event(finished, resends=resends))
        _log_failure(finished)

    async def record_group(
        self, conn: asyncpg.Connection, group: Sequence[FinishedAttempt]
    ) -> None:
        """Record every attempt of ``group`` at once, events included, and move or call off
        each delivery's recovery turn."""
        ledger = self._attempts(conn)
        ended = [(finished, finished.settlement) for finished in group]
        settled = [(finished, settlement) for finished, settlement in ended if settlement]
        resends = await ledger.settle_many([settlement for _, settlement in settled])
        events = [
            self._event(finished, resends=resends[settlement.delivery_key])
            for finished, settlement in settled
            if settlement.delivery_key in resends
        ]
        for finished, _ in settled:
            _log_failure(finished)
        await self._outbox.add_many(conn, events)
        for finished in group:
            if isinstance(finished.step, RetryAt):
                await self._postpone(ledger, finished)
                await ledger.move_turn(
                    finished.delivery.delivery_key, finished.turn + 1, due_at=finished.step.at
                )
        await ledger.call_off_turns(
            [
                (finished.delivery.delivery_key, finished.turn + 1, finished.now)
                for finished, _ in settled
            ]
        )

    @staticmethod
    async def _postpone(ledger: AttemptLedger, finished: FinishedAttempt) -> None:
        assert isinstance(finished.step, RetryAt)
        await ledger.postpone(
            finished.delivery.tenant_id,
            finished.delivery.delivery_key,
            retry_at=finished.step.at,
            outcome=finished.outcome.detail,
        )

    def _event(self, finished: FinishedAttempt, *, resends: int) -> Envelope[Event]:
        """NotificationSent or NotificationFailed for a delivery that just ended."""
        delivery, step = finished.delivery, finished.step
        about = {
            "delivery_key": delivery.delivery_key,
            "kind": delivery.kind.value,
            "channel": delivery.channel.value,
            "recipient_id": delivery.recipient_id,
            "subject_id": delivery.subject_id,
            "attempts": finished.attempt,
        }
        event: Event
        if isinstance(step, GiveUp):
            outcome = "failed"
            event = NotificationFailed(**about, permanent=step.permanent, reason=step.reason)
        else:
            outcome = "sent"
            event = NotificationSent(**about, possible_duplicate=resends > 0)
        return Envelope[Event](
            id=uuid.uuid5(_EVENT_NAMESPACE, f"{delivery.delivery_key}:{outcome}"),
            source=self._source,
            time=finished.now,
            tenant_id=delivery.tenant_id or "unknown",
            programme_id=delivery.programme_id,
            correlation_id=delivery.correlation_id,
            causation_id=delivery.caused_by,
            subject=delivery.subject_id,
            schema_version=type(event).schema_version,
            data=event,
        )


def _log_failure(finished: FinishedAttempt) -> None:
    step = finished.step
    if not isinstance(step, GiveUp):
        return
    logger.warning(
        "delivery failed kind=%s key=%s permanent=%s attempts=%d",
        finished.delivery.kind.value,
        finished.delivery.delivery_key,
        step.permanent,
        finished.attempt,
    )
