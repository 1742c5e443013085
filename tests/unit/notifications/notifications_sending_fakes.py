"""In-memory stand-ins for the sending job's ledger, pool, scheduler connection and outbox."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import asyncpg

from binome_notifications.adapters.attempts import Settlement, StoredDelivery
from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.policy import (
    AttemptOutcome,
    RateLimiter,
    RetryPolicy,
    SmtpReply,
)
from binome_notifications.domain.sending import (
    DeliveryState,
    DeliveryStatus,
    turn_job_id,
    turn_payload,
)
from binome_notifications.sending import Dispatcher, EmailSender, WebhookPoster
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.values import Language
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork
from binome_shared.messaging.scheduler import Job

TENANT = "groupe-exemple"


class FakeConnection:
    """What the job's own pool and the scheduler's transaction need of a connection: a
    transaction, and the scheduler's one statement, remembered as planned job ids."""

    def __init__(self) -> None:
        self.planned_jobs: list[tuple[str, datetime]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def fetchval(
        self, query: str, job_id: str, job_type: str, due_at: datetime, *_: Any
    ) -> bool:
        del query, job_type
        self.planned_jobs.append((job_id, due_at))
        return True


class FakePool:
    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        yield self._conn

    async def close(self) -> None:
        pass


@dataclass
class FakeAttempts:
    """An AttemptLedger over a dictionary, with the same status rules as the statements."""

    deliveries: dict[str, StoredDelivery] = field(default_factory=dict)
    in_doubt_resends: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    moved_turns: list[tuple[str, datetime]] = field(default_factory=list)
    called_off: list[str] = field(default_factory=list)
    recovery_turns: list[str] = field(default_factory=list)

    def _in_tenant(self, tenant_id: str, delivery_key: str) -> StoredDelivery | None:
        """The delivery, read within its tenant as the statements read it."""
        delivery = self.deliveries.get(delivery_key)
        return delivery if delivery is not None and delivery.tenant_id == tenant_id else None

    async def delivery(self, tenant_id: str, delivery_key: str) -> StoredDelivery | None:
        return self._in_tenant(tenant_id, delivery_key)

    async def claim(
        self, tenant_id: str, delivery_key: str, *, now: datetime, in_doubt: bool
    ) -> int | None:
        del now
        delivery = self._in_tenant(tenant_id, delivery_key)
        if delivery is None or delivery.state.status not in (
            DeliveryStatus.PENDING,
            DeliveryStatus.SENDING,
        ):
            return None
        attempts = delivery.state.attempts + 1
        self._set(delivery, status=DeliveryStatus.SENDING, attempts=attempts)
        self.in_doubt_resends[delivery_key] = self.in_doubt_resends.get(delivery_key, 0) + int(
            in_doubt
        )
        return attempts

    async def claim_with_recovery_turn(
        self,
        tenant_id: str,
        delivery_key: str,
        *,
        now: datetime,
        in_doubt: bool,
        turn: int,
        recovery_at: datetime,
    ) -> int | None:
        del recovery_at
        attempts = await self.claim(tenant_id, delivery_key, now=now, in_doubt=in_doubt)
        if attempts is not None:
            self.recovery_turns.append(turn_job_id(delivery_key, turn))
        return attempts

    async def settle(self, settlement: Settlement) -> int | None:
        delivery = self._in_tenant(settlement.tenant_id, settlement.delivery_key)
        if delivery is None or delivery.state.status is not DeliveryStatus.SENDING:
            return None
        self._set(delivery, status=settlement.status, ended=True)
        self.outcomes[settlement.delivery_key] = settlement.outcome
        return self.in_doubt_resends.get(settlement.delivery_key, 0)

    async def settle_many(self, settlements: Sequence[Settlement]) -> dict[str, int]:
        resends = {}
        for settlement in settlements:
            found = await self.settle(settlement)
            if found is not None:
                resends[settlement.delivery_key] = found
        return resends

    async def postpone(
        self, tenant_id: str, delivery_key: str, *, retry_at: datetime, outcome: str
    ) -> bool:
        delivery = self._in_tenant(tenant_id, delivery_key)
        assert delivery is not None
        self._set(delivery, status=DeliveryStatus.PENDING, next_attempt_at=retry_at)
        self.outcomes[delivery_key] = outcome
        return True

    async def expire(self, tenant_id: str, delivery_key: str, *, now: datetime) -> None:
        del now
        delivery = self._in_tenant(tenant_id, delivery_key)
        assert delivery is not None
        self._set(delivery, status=DeliveryStatus.EXPIRED, ended=True)

    async def move_turn(self, delivery_key: str, turn: int, *, due_at: datetime) -> None:
        self.moved_turns.append((turn_job_id(delivery_key, turn), due_at))

    async def call_off_turns(self, turns: Sequence[tuple[str, int, datetime]]) -> None:
        self.called_off.extend(turn_job_id(key, turn) for key, turn, _ in turns)

    def status(self, delivery_key: str) -> DeliveryStatus:
        return self.deliveries[delivery_key].state.status

    def _set(self, delivery: StoredDelivery, *, ended: bool = False, **state: Any) -> None:
        """Change the delivery's state; an ended delivery's content is dropped."""
        changed = replace(delivery, state=replace(delivery.state, **state))
        self.deliveries[delivery.delivery_key] = (
            replace(changed, message=None) if ended else changed
        )


class FakeOutbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope[Any]] = []

    async def add(self, conn: Any, envelope: Envelope[Any]) -> None:
        del conn
        self.envelopes.append(envelope)

    async def add_many(self, conn: Any, envelopes: Sequence[Envelope[Any]]) -> None:
        del conn
        self.envelopes.extend(envelopes)


@dataclass
class ScriptedSmtp:
    """Answers the scripted SMTP codes in turn, then 250."""

    codes: list[int] = field(default_factory=list)
    sent: list[OutgoingEmail] = field(default_factory=list)

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        code = self.codes.pop(0) if self.codes else 250
        if code < 400:
            self.sent.append(email)
        return AttemptOutcome.of(SmtpReply(code), f"smtp {code}")


class NoWebhooks:
    async def send(self, webhook: OutgoingWebhook) -> AttemptOutcome:
        raise AssertionError(f"unexpected webhook {webhook.kind}")


def email_delivery(
    key: str,
    *,
    to: str = "ines.martin@example.com",
    status: DeliveryStatus = DeliveryStatus.PENDING,
    attempts: int = 0,
    next_attempt_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> StoredDelivery:
    return StoredDelivery(
        delivery_key=key,
        kind=NotificationKind.INTRODUCTION,
        channel=Channel.EMAIL,
        recipient_id="Y1",
        programme_id="prog-notif",
        subject_id="pair-1",
        tenant_id=TENANT,
        caused_by=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        state=DeliveryState(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            expires_at=expires_at,
        ),
        message=OutgoingEmail(
            delivery_key=key,
            kind=NotificationKind.INTRODUCTION,
            to_address=to,
            to_name="Inès Martin",
            language=Language.FR,
            subject="Votre binôme",
            text="Bonjour",
            html="<p>Bonjour</p>",
        ),
    )


@dataclass
class SendingJob:
    """A dispatcher over fakes, and a way to run one delivery's turn as the scheduler does."""

    attempts: FakeAttempts = field(default_factory=FakeAttempts)
    smtp: ScriptedSmtp = field(default_factory=ScriptedSmtp)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    conn: FakeConnection = field(default_factory=FakeConnection)
    concurrency: int = 1
    burst: int = 10
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        pool = FakePool(self.conn)

        async def own_pool() -> asyncpg.Pool:
            return cast(asyncpg.Pool, pool)

        def email() -> EmailSender:
            return self.smtp

        async def webhooks() -> WebhookPoster:
            return NoWebhooks()

        self.dispatcher = Dispatcher(
            pool_factory=own_pool,
            outbox=cast(Outbox, self.outbox),
            source="/binome/notifications",
            email_sender=email,
            webhook_sender=webhooks,
            retry_policy=RetryPolicy(max_attempts=3),
            per_recipient=RateLimiter(capacity=self.burst, refill_per_second=1 / 3600),
            per_receiver=RateLimiter(capacity=10, refill_per_second=1),
            rng=random.Random(7),
            concurrency=self.concurrency,
            attempts=lambda conn: self.attempts,
        )

    def add(self, delivery: StoredDelivery) -> None:
        self.attempts.deliveries[delivery.delivery_key] = delivery

    async def run(self, key: str, *, now: datetime, turn: int = 1) -> None:
        job = Job(
            job_id=turn_job_id(key, turn),
            job_type="deliver",
            due_at=now,
            payload=turn_payload(TENANT, key, turn),
            attempts=0,
        )
        uow = UnitOfWork(
            conn=cast(asyncpg.Connection, self.conn),
            outbox=cast(Outbox, self.outbox),
            now=now,
            source="/binome/notifications",
        )
        await self.dispatcher.run_job(job, uow)
