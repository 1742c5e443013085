"""Handlers and the deliver job in process, on a real PostgreSQL, with a scripted e-mail sender:
what is planned, cancelled, erased, deferred, given up — and what is published about it."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from binome_notifications.adapters.directory import PostgresDirectory
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.policy import (
    OptOut,
    Preferences,
    RateLimiter,
    RetryPolicy,
)
from binome_notifications.handlers import MessageHandlers
from binome_notifications.sending import Dispatcher, EmailSender, WebhookPoster
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.sessions_messages import ParticipantRole
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from binome_shared.messaging.scheduler import Job
from tests.support.platform import ProvisionedDatabase
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications.notifications_sending_fakes import NoWebhooks, ScriptedSmtp

pytestmark = pytest.mark.integration

NOW = make.NOW
SOURCE = "/binome/notifications"
RENDERER = NotificationRenderer(
    public_base_url="https://rh.example.com", organizer_email="binome@example.com"
)


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    async with database.pool("notifications", connections=4) as created:
        yield created


async def consume(pool: asyncpg.Pool, *envelopes: Envelope[Any], now: Any = NOW) -> None:
    handlers = MessageHandlers(renderer=RENDERER)
    routes = handlers.routes()
    async with pool.acquire() as conn:
        for envelope in envelopes:
            async with conn.transaction():
                uow = UnitOfWork(conn=conn, outbox=Outbox(), now=now, source=SOURCE)
                await dispatch(routes[type(envelope.data)], [envelope], uow)


def dispatcher(
    pool: asyncpg.Pool,
    email: EmailSender,
    *,
    burst: int = 10,
    per_recipient: RateLimiter | None = None,
    per_receiver: RateLimiter | None = None,
    outbox: Outbox | None = None,
    **tuning: Any,
) -> Dispatcher:
    """The deliver job's dispatcher on ``pool``, sending through ``email``, without webhooks.
    By default ``burst`` e-mails to one person, then one an hour, and ten a second to one
    receiver; ``tuning`` sets the rest (``concurrency``, ``in_flight_grace``)."""

    async def own_pool() -> asyncpg.Pool:
        return pool

    def email_sender() -> EmailSender:
        return email

    async def webhooks() -> WebhookPoster:
        return NoWebhooks()

    return Dispatcher(
        pool_factory=own_pool,
        outbox=outbox or Outbox(),
        source=SOURCE,
        email_sender=email_sender,
        webhook_sender=webhooks,
        retry_policy=RetryPolicy(max_attempts=3),
        per_recipient=per_recipient or RateLimiter(capacity=burst, refill_per_second=1 / 3600),
        per_receiver=per_receiver or RateLimiter(capacity=10, refill_per_second=1),
        rng=random.Random(7),
        **tuning,
    )


async def run_due_jobs(pool: asyncpg.Pool, sender: Dispatcher, *, now: Any) -> int:
    """What the scheduler does for ``deliver`` jobs: each in a transaction with its UoW."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT job_id, job_type, due_at, payload, attempts FROM scheduled_jobs "
            "WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at, job_id",
            now,
        )
        for row in rows:
            async with conn.transaction():
                job = Job(
                    job_id=row["job_id"],
                    job_type=row["job_type"],
                    due_at=row["due_at"],
                    payload=json.loads(row["payload"]),
                    attempts=row["attempts"],
                )
                await sender.run_job(
                    job, UnitOfWork(conn=conn, outbox=Outbox(), now=now, source=SOURCE)
                )
                await conn.execute(
                    "UPDATE scheduled_jobs SET done_at = $2 WHERE job_id = $1", job.job_id, now
                )
    return len(rows)


async def rows(pool: asyncpg.Pool, query: str, *args: Any) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return [dict(row) for row in await conn.fetch(query, *args)]


async def prepare_pair(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair(), make.pair_formed())


async def test_a_permanent_refusal_is_recorded_and_published_and_the_content_dropped(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    smtp = ScriptedSmtp(codes=[550])
    assert await run_due_jobs(pool, dispatcher(pool, smtp), now=NOW) == 2

    states = await rows(
        pool,
        "SELECT recipient_id, status, attempts, message IS NULL AS dropped FROM deliveries "
        "ORDER BY status",
    )
    assert [(s["status"], s["attempts"], s["dropped"]) for s in states] == [
        ("failed", 1, True),
        ("sent", 1, True),
    ]
    events = await rows(pool, "SELECT value FROM outbox ORDER BY id")
    bodies = [json.loads(event["value"]) for event in events]
    failed = next(body for body in bodies if "permanent" in body)
    assert failed["permanent"] is True
    assert failed["reason"] == "smtp 550"
    assert failed["recipient_id"] == states[0]["recipient_id"]
    assert len(smtp.sent) == 1


async def test_a_transient_failure_is_retried_later_by_a_job_of_its_own(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), make.matching_completed())
    smtp = ScriptedSmtp(codes=[451])
    sender = dispatcher(pool, smtp)
    await run_due_jobs(pool, sender, now=NOW)

    [state] = await rows(pool, "SELECT status, attempts, next_attempt_at FROM deliveries")
    assert (state["status"], state["attempts"]) == ("pending", 1)
    assert NOW + timedelta(seconds=15) <= state["next_attempt_at"] <= NOW + timedelta(seconds=30)
    assert await run_due_jobs(pool, sender, now=NOW + timedelta(seconds=5)) == 0
    assert await run_due_jobs(pool, sender, now=state["next_attempt_at"]) == 1
    [state] = await rows(pool, "SELECT status, attempts FROM deliveries")
    assert (state["status"], state["attempts"]) == ("sent", 2)
    assert len(smtp.sent) == 1


async def test_a_reschedule_replaces_the_reminder_and_a_late_reminder_expires(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    starts_at = NOW + timedelta(days=3)
    await consume(pool, make.session_scheduled(starts_at=starts_at))
    moved_to = NOW + timedelta(days=5)
    await consume(pool, make.session_scheduled(starts_at=moved_to, sequence=1))

    reminders = await rows(
        pool,
        "SELECT subject_id, status, send_at FROM deliveries WHERE kind = 'session_reminder' "
        "ORDER BY subject_id, recipient_id",
    )
    assert [(r["subject_id"], r["status"]) for r in reminders] == [
        ("pair-1-1#0", "cancelled"),
        ("pair-1-1#0", "cancelled"),
        ("pair-1-1#1", "pending"),
        ("pair-1-1#1", "pending"),
    ]
    assert reminders[2]["send_at"] == moved_to - timedelta(hours=24)

    smtp = ScriptedSmtp()
    await run_due_jobs(pool, dispatcher(pool, smtp), now=moved_to + timedelta(minutes=1))
    reminders = await rows(
        pool,
        "SELECT status FROM deliveries WHERE kind = 'session_reminder' AND subject_id = $1",
        "pair-1-1#1",
    )
    assert [r["status"] for r in reminders] == ["expired", "expired"]
    kinds_sent = sorted(email.kind.value for email in smtp.sent)
    assert kinds_sent == ["introduction"] * 2 + ["session_invitation"] * 4


async def test_a_cancellation_drops_the_reminder_and_sends_a_calendar_cancel(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    await consume(pool, make.session_scheduled(starts_at=NOW + timedelta(days=3)))
    await consume(pool, make.session_cancelled())
    smtp = ScriptedSmtp()
    await run_due_jobs(pool, dispatcher(pool, smtp), now=NOW + timedelta(days=3))

    cancellations = [e for e in smtp.sent if e.kind is NotificationKind.SESSION_CANCELLATION]
    assert len(cancellations) == 2
    calendar = cancellations[0].calendar
    assert calendar is not None
    ics = calendar.ics.decode()
    assert "METHOD:CANCEL" in ics
    assert "SEQUENCE:1" in ics
    assert "UID:session-pair-1-1@binome" in ics
    assert not [e for e in smtp.sent if e.kind is NotificationKind.SESSION_REMINDER]


async def test_an_opted_out_participant_gets_no_introduction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await PostgresDirectory(conn).save_preferences(
            tenant_id=make.TENANT,
            participant_id=make.MENTEE,
            preferences=Preferences(
                opt_outs=frozenset({OptOut(kind=NotificationKind.INTRODUCTION, channel=None)})
            ),
        )
    await prepare_pair(pool)
    planned = await rows(pool, "SELECT recipient_id, channel FROM deliveries")
    assert planned == [{"recipient_id": make.MENTOR, "channel": Channel.EMAIL.value}]


async def test_erasure_forgets_the_address_and_the_history_and_nothing_is_sent(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    await consume(pool, make.erase(make.MENTEE))

    assert await rows(pool, "SELECT * FROM people WHERE participant_id = $1", make.MENTEE) == []
    remaining = await rows(pool, "SELECT recipient_id FROM deliveries")
    assert remaining == [{"recipient_id": make.MENTOR}]
    smtp = ScriptedSmtp()
    await run_due_jobs(pool, dispatcher(pool, smtp), now=NOW)
    # The mentor's introduction named the erased mentee: withdrawn before it was sent.
    assert smtp.sent == []


async def test_the_rate_limit_defers_a_burst_to_one_address(pool: asyncpg.Pool) -> None:
    await prepare_pair(pool)
    smtp = ScriptedSmtp()
    sender = dispatcher(pool, smtp, burst=1)
    # The introductions take each address's one token first (jobs due at the same time run
    # in job id order, which is a hash: the order is made explicit here).
    await run_due_jobs(pool, sender, now=NOW)
    await consume(pool, make.session_scheduled(starts_at=NOW + timedelta(days=3)))
    await run_due_jobs(pool, sender, now=NOW)

    assert sorted(email.kind.value for email in smtp.sent) == ["introduction"] * 2
    deferred = await rows(
        pool,
        "SELECT due_at FROM scheduled_jobs WHERE done_at IS NULL AND payload->>'turn' = '2'",
    )
    assert len(deferred) == 2, "each invitation waits for its recipient's next token"
    assert all(job["due_at"] > NOW + timedelta(minutes=30) for job in deferred)
    invitations = await rows(
        pool, "SELECT status, attempts FROM deliveries WHERE kind = 'session_invitation'"
    )
    assert invitations == [{"status": "pending", "attempts": 0}] * 2


async def test_the_feedback_request_waits_for_the_programmes_delay(pool: asyncpg.Pool) -> None:
    await prepare_pair(pool)
    await consume(pool, make.session_completed(held_at=NOW))
    planned = await rows(pool, "SELECT send_at FROM deliveries WHERE kind = 'feedback_request'")
    assert [row["send_at"] for row in planned] == [NOW + timedelta(hours=2)] * 2


async def test_a_rescheduled_session_updates_the_invite_and_moves_the_reminder(
    pool: asyncpg.Pool,
) -> None:
    await prepare_pair(pool)
    first = NOW + timedelta(days=3)
    moved_to = NOW + timedelta(days=6)
    await consume(pool, make.session_scheduled(starts_at=first))
    await consume(pool, make.session_rescheduled(previous=first, starts_at=moved_to))

    reminders = await rows(
        pool,
        "SELECT subject_id, status FROM deliveries WHERE kind = 'session_reminder' "
        "ORDER BY subject_id",
    )
    assert [(r["subject_id"], r["status"]) for r in reminders] == [
        ("pair-1-1#0", "cancelled"),
        ("pair-1-1#0", "cancelled"),
        ("pair-1-1#1", "pending"),
        ("pair-1-1#1", "pending"),
    ]
    smtp = ScriptedSmtp()
    await run_due_jobs(pool, dispatcher(pool, smtp), now=NOW)
    updates = [
        e
        for e in smtp.sent
        if e.kind is NotificationKind.SESSION_INVITATION
        and e.calendar
        and b"SEQUENCE:1" in e.calendar.ics
    ]
    assert len(updates) == 2
    assert updates[0].calendar is not None
    assert b"UID:session-pair-1-1@binome" in updates[0].calendar.ics
    english = next(e for e in updates if e.language.value == "en")
    assert "Kick-off" in english.text


async def test_the_progress_report_goes_to_the_hr_contact(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), make.progress_reported())
    smtp = ScriptedSmtp()
    await run_due_jobs(pool, dispatcher(pool, smtp), now=NOW)
    [report] = smtp.sent
    assert report.kind is NotificationKind.PROGRESS_REPORT
    assert report.to_address == "claire.dubois@example.com"
    assert "41" in report.text


async def test_a_fit_concern_alerts_the_hr_contact_once_and_tells_the_pair_nothing(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        # The mentee's own opt-out concerns what the mentee receives, not HR's alert.
        await PostgresDirectory(conn).save_preferences(
            tenant_id=make.TENANT,
            participant_id=make.MENTEE,
            preferences=Preferences(opt_outs=frozenset({OptOut(kind=None, channel=None)})),
        )
    await prepare_pair(pool)
    concern = make.pair_fit_concern_raised(side=ParticipantRole.MENTEE, session_number=1)
    await consume(pool, concern)
    smtp = ScriptedSmtp()
    sender = dispatcher(pool, smtp)
    await run_due_jobs(pool, sender, now=NOW)

    [alert] = [e for e in smtp.sent if e.kind is NotificationKind.HR_FIT_ALERT]
    assert (alert.to_address, alert.language.value) == ("claire.dubois@example.com", "fr")
    assert "Inès Martin (mentor) et Laurent Girard (mentoré·e)" in alert.text
    assert "la personne mentorée a indiqué, après la séance n° 1" in alert.text
    assert "DissolvePair" in alert.text

    # Redelivered, and republished under a new event id: the same concern, nothing more.
    await consume(
        pool, concern, make.pair_fit_concern_raised(side=ParticipantRole.MENTEE, session_number=1)
    )
    assert await run_due_jobs(pool, sender, now=NOW + timedelta(minutes=5)) == 0
    alerts = await rows(
        pool, "SELECT recipient_id, subject_id, status FROM deliveries WHERE kind = 'hr_fit_alert'"
    )
    assert alerts == [
        {
            "recipient_id": f"hr:{make.PROGRAMME}",
            "subject_id": "pair-1#fit#mentee#1",
            "status": "sent",
        }
    ]

    await consume(pool, make.pair_fit_concern_raised(side=ParticipantRole.MENTOR, session_number=1))
    await run_due_jobs(pool, sender, now=NOW + timedelta(minutes=10))
    fit_alerts = [e for e in smtp.sent if e.kind is NotificationKind.HR_FIT_ALERT]
    assert len(fit_alerts) == 2
    assert "le mentor a indiqué, après la séance n° 1" in fit_alerts[1].text
    recipients = await rows(pool, "SELECT recipient_id FROM deliveries")
    assert {row["recipient_id"] for row in recipients} == {f"hr:{make.PROGRAMME}", make.MENTOR}
    assert sorted(e.kind.value for e in smtp.sent if e.to_address != alert.to_address) == [
        "introduction"
    ]
