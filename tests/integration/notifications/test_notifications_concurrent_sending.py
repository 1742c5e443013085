"""Several sends in flight (BINOME_DELIVERY_CONCURRENCY > 1) keep "once per person and
reason": each delivery is sent once, a recovery turn never resends what this process is
still sending, and a process that dies mid-send is covered by that turn (one resend, in
doubt) — on a real PostgreSQL, with a scripted SMTP server that holds the sends."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.domain.policy import AttemptOutcome, RateLimiter, SmtpReply
from binome_notifications.sending import Dispatcher
from binome_shared.contracts.base import Envelope
from binome_shared.messaging.outbox import Outbox
from tests.integration.notifications.test_notifications_service_ledger import (
    consume,
    dispatcher,
    prepare_pair,
    rows,
    run_due_jobs,
)
from tests.support.platform import ProvisionedDatabase
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

NOW = make.NOW
GRACE = timedelta(minutes=2)
CONCURRENCY = 4


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    async with database.pool("notifications", connections=4) as created:
        yield created


@dataclass
class HeldSmtp:
    """Holds every send until ``release_at`` sends are in flight together (or ``gate`` is set
    by the test), then accepts them all."""

    release_at: int
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    peak: int = 0
    sent: list[OutgoingEmail] = field(default_factory=list)
    arrivals: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def holding(self, count: int) -> None:
        """Until ``count`` sends are held at once."""
        async with self.arrivals:
            await self.arrivals.wait_for(lambda: self.in_flight >= count)

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        async with self.arrivals:
            self.arrivals.notify_all()
        if self.in_flight >= self.release_at:
            self.gate.set()
        await self.gate.wait()
        self.in_flight -= 1
        self.sent.append(email)
        return AttemptOutcome.of(SmtpReply(250), "smtp 250")


class OneByOneOutbox(Outbox):
    """An outbox that refuses to take several events at once: a group record then fails."""

    async def add_many(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope[Any]]) -> None:
        if len(envelopes) > 1:
            raise RuntimeError("refused: more than one event")
        await super().add_many(conn, envelopes)


def concurrent_dispatcher(
    pool: asyncpg.Pool, smtp: HeldSmtp, *, outbox: Outbox | None = None
) -> Dispatcher:
    return dispatcher(
        pool,
        smtp,
        per_recipient=RateLimiter(capacity=50, refill_per_second=1),
        per_receiver=RateLimiter(capacity=50, refill_per_second=1),
        outbox=outbox,
        concurrency=CONCURRENCY,
        in_flight_grace=GRACE,
    )


async def five_due_deliveries(pool: asyncpg.Pool) -> None:
    """Two introductions, the HR matching summary and two session invitations."""
    await prepare_pair(pool)
    await consume(
        pool, make.matching_completed(), make.session_scheduled(starts_at=NOW + timedelta(days=3))
    )


async def sent_events(pool: asyncpg.Pool) -> list[dict[str, object]]:
    events = await rows(pool, "SELECT value FROM outbox ORDER BY id")
    return [
        body
        for body in (json.loads(event["value"]) for event in events)
        if "possible_duplicate" in body
    ]


async def test_concurrent_sends_deliver_each_message_once_and_call_off_the_recovery_turns(
    pool: asyncpg.Pool,
) -> None:
    await five_due_deliveries(pool)
    smtp = HeldSmtp(release_at=CONCURRENCY)
    sender = concurrent_dispatcher(pool, smtp)

    assert await run_due_jobs(pool, sender, now=NOW) == 5
    await sender.drain()

    assert smtp.peak == CONCURRENCY
    keys = Counter(email.delivery_key for email in smtp.sent)
    assert len(keys) == 5
    assert set(keys.values()) == {1}
    states = await rows(
        pool,
        "SELECT delivery_key, status, attempts, in_doubt_resends FROM deliveries "
        "WHERE kind <> 'session_reminder'",
    )
    assert {(s["status"], s["attempts"], s["in_doubt_resends"]) for s in states} == {("sent", 1, 0)}
    assert {s["delivery_key"] for s in states} == set(keys)
    published = await sent_events(pool)
    assert sorted(str(event["delivery_key"]) for event in published) == sorted(keys)
    assert not any(event["possible_duplicate"] for event in published)
    recovery = await rows(
        pool, "SELECT outcome FROM scheduled_jobs WHERE job_id LIKE 'deliver:%:2'"
    )
    assert [job["outcome"] for job in recovery] == ["cancelled"] * 5

    assert await run_due_jobs(pool, sender, now=NOW + GRACE * 3) == 0
    assert len(smtp.sent) == 5


async def test_a_recovery_turn_during_a_slow_send_looks_again_later_instead_of_resending(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    await consume(pool, make.matching_completed())  # three deliveries, all in flight at once
    smtp = HeldSmtp(release_at=10**6)  # held until the test opens the gate
    sender = concurrent_dispatcher(pool, smtp)
    assert await run_due_jobs(pool, sender, now=NOW) == 3
    await smtp.holding(3)

    # Past the grace period, the claimed deliveries' recovery turns fall due: this process
    # still holds their sends, so each turn plans another look instead of sending again.
    assert await run_due_jobs(pool, sender, now=NOW + GRACE) == 3
    assert smtp.sent == []
    smtp.gate.set()
    await sender.drain()

    assert len(smtp.sent) == 3
    assert await run_due_jobs(pool, sender, now=NOW + GRACE * 5) == 3  # the second looks
    assert len(smtp.sent) == 3
    states = await rows(pool, "SELECT status, attempts FROM deliveries")
    assert {(s["status"], s["attempts"]) for s in states} == {("sent", 1)}


async def test_a_process_that_dies_mid_send_is_covered_by_one_resend_in_doubt(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)  # two introductions
    dying = HeldSmtp(release_at=10**6)
    first = concurrent_dispatcher(pool, dying)
    assert await run_due_jobs(pool, first, now=NOW) == 2
    await dying.holding(2)
    # The process dies here: its sends never return and nothing more is recorded. A new
    # process (a dispatcher with nothing in flight) takes over.
    states = await rows(pool, "SELECT status FROM deliveries")
    assert [s["status"] for s in states] == ["sending", "sending"]

    survivor = HeldSmtp(release_at=1)
    second = concurrent_dispatcher(pool, survivor)
    assert await run_due_jobs(pool, second, now=NOW + GRACE - timedelta(seconds=1)) == 0
    assert await run_due_jobs(pool, second, now=NOW + GRACE) == 2
    await second.drain()

    assert len(survivor.sent) == 2
    states = await rows(pool, "SELECT status, attempts, in_doubt_resends FROM deliveries")
    assert {(s["status"], s["attempts"], s["in_doubt_resends"]) for s in states} == {("sent", 2, 1)}
    published = await sent_events(pool)
    assert len(published) == 2
    assert all(event["possible_duplicate"] for event in published)
    assert await run_due_jobs(pool, second, now=NOW + GRACE * 5) == 0
    assert len(survivor.sent) == 2
    for task in asyncio.all_tasks():  # the dead process's sends, still held
        if task.get_name().startswith("deliver:"):
            task.cancel()


async def test_sends_that_end_together_are_recorded_together_or_else_one_by_one(
    pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="binome_notifications.sending")
    await five_due_deliveries(pool)
    smtp = HeldSmtp(release_at=CONCURRENCY)
    sender = concurrent_dispatcher(pool, smtp, outbox=OneByOneOutbox())

    assert await run_due_jobs(pool, sender, now=NOW) == 5
    await sender.drain()

    # The four sends released together end in one group, whose record the outbox refuses:
    # each is then recorded on its own, and nothing is sent twice.
    assert len(smtp.sent) == 5
    assert "group record failed, recording one by one size=4" in caplog.messages
    states = await rows(
        pool, "SELECT status, attempts FROM deliveries WHERE kind <> 'session_reminder'"
    )
    assert [(s["status"], s["attempts"]) for s in states] == [("sent", 1)] * 5
    assert len(await sent_events(pool)) == 5
    recovery = await rows(
        pool, "SELECT outcome FROM scheduled_jobs WHERE job_id LIKE 'deliver:%:2'"
    )
    assert [job["outcome"] for job in recovery] == ["cancelled"] * 5
    assert await run_due_jobs(pool, sender, now=NOW + GRACE * 3) == 0
    assert len(smtp.sent) == 5
