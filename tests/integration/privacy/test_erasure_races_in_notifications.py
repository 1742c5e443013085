"""An erasure racing an event about the person's pair, in notifications, on a real PostgreSQL
and a real SMTP server (the aiosmtpd sink on 127.0.0.1).

Two connections interleave deterministically: the event about the pair is handled in one
transaction (as a consumer batch of another partition would), the erasure in another, each
blind to the other's uncommitted writes; the event's planning commits first, then the
erasure. Nothing blocks in between (no lock is shared: that is the race), so each step is
awaited in turn, bounded so that an unexpected wait fails instead of hanging. The erasure
withdrew nothing (it never saw the deliveries); the sending job's claim sees its tombstone and
withdraws them instead, while another pair's deliveries of the same batch leave once each.
"""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from asyncpg.transaction import Transaction

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_notifications.adapters.deliveries import WITHDRAWN
from binome_notifications.adapters.smtp import SmtpEmailSender, SmtpSecurity, SmtpSettings
from binome_notifications.domain.policy import RateLimiter
from binome_notifications.handlers import MessageHandlers
from binome_notifications.sending import Dispatcher
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairFormed, PairSide
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from tests.integration.notifications.test_notifications_service_ledger import (
    RENDERER,
    SOURCE,
    consume,
    dispatcher,
    rows,
    run_due_jobs,
)
from tests.support.platform import ProvisionedDatabase
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

NOW = make.NOW
STEP_TIMEOUT = 20.0
"""No step of the interleaving waits on the other transaction: one that does fails."""

T = TypeVar("T")

NEIGHBOURS = {"Y2": "sophie.bernard@example.com", "X2": "marc.petit@example.com"}
ERASED_NAME = "Laurent Girard"  # make.MENTEE, the person erased


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    async with database.pool("notifications", connections=6) as created:
        yield created


def _neighbours_enrolled() -> list[Envelope[Any]]:
    return [
        make.enrol("Y2", name="Sophie Bernard", email=NEIGHBOURS["Y2"]),
        make.enrol("X2", name="Marc Petit", email=NEIGHBOURS["X2"], role=ParticipantRole.MENTEE),
    ]


def _neighbours_paired() -> Envelope[Any]:
    formed = make.pair_formed("pair-2")
    assert isinstance(formed.data, PairFormed)
    data = formed.data.model_copy(
        update={
            "mentor": PairSide(participant_id="Y2", business_unit="Digital"),
            "mentee": PairSide(participant_id="X2", business_unit="Finance"),
        }
    )
    return make.envelope(data, source="/binome/pairing")


async def _bounded(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, STEP_TIMEOUT)


async def _handle(conn: asyncpg.Connection, *envelopes: Envelope[Any]) -> Transaction:
    """Handle ``envelopes`` as one consumer batch in a transaction left open."""
    transaction = conn.transaction()
    await transaction.start()
    uow = UnitOfWork(conn=conn, outbox=Outbox(), now=NOW, source=SOURCE)
    routes = MessageHandlers(renderer=RENDERER).routes()
    await _bounded(dispatch(routes[type(envelopes[0].data)], list(envelopes), uow))
    return transaction


async def _race(
    pool: asyncpg.Pool, *about_the_pair: Envelope[Any], erased: str = make.MENTEE
) -> None:
    """``about_the_pair`` handled as one batch while ``erased`` is erased: the batch plans
    first, the erasure runs blind to it, the batch commits, then the erasure."""
    async with pool.acquire() as batch_conn, pool.acquire() as erasure_conn:
        batch = await _handle(batch_conn, *about_the_pair)
        erasure = await _handle(erasure_conn, make.erase(erased))
        await _bounded(batch.commit())
        await _bounded(erasure.commit())


def _smtp(port: int) -> SmtpEmailSender:
    return SmtpEmailSender(
        settings=SmtpSettings(
            host="127.0.0.1",
            port=port,
            sender_address="noreply@binome.example.com",
            security=SmtpSecurity.NONE,
            timeout_seconds=5,
            message_id_domain="binome.example.com",
            local_hostname="binome-test",
        )
    )


def _dispatcher(pool: asyncpg.Pool, port: int, *, concurrency: int) -> Dispatcher:
    return dispatcher(
        pool,
        _smtp(port),
        per_recipient=RateLimiter(capacity=10, refill_per_second=1),
        concurrency=concurrency,
    )


async def _send_due(pool: asyncpg.Pool, sender: Dispatcher, *, at: datetime = NOW) -> int:
    """The due ``deliver`` jobs, then the sends still in flight, recorded."""
    ran = await run_due_jobs(pool, sender, now=at)
    await sender.drain()
    return ran


def _received(sink: SmtpSink) -> Iterator[EmailMessage]:
    for path in sink.stored:
        parsed = email.message_from_bytes(Path(path).read_bytes(), policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        yield parsed


def _addressees(sink: SmtpSink) -> list[str]:
    return sorted(message["To"].addresses[0].addr_spec for message in _received(sink))


async def _pair_deliveries(pool: asyncpg.Pool, pair_id: str) -> list[dict[str, Any]]:
    return await rows(
        pool,
        "SELECT recipient_id, kind, status, attempts, last_outcome, message IS NULL AS dropped "
        "FROM deliveries WHERE pair_id = $1 ORDER BY kind, recipient_id",
        pair_id,
    )


@pytest.mark.parametrize("concurrency", [1, 4], ids=["one-at-a-time", "in-flight"])
async def test_introductions_planned_while_she_is_erased_are_withdrawn_at_send_time(
    pool: asyncpg.Pool, tmp_path: Path, concurrency: int
) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair(), *_neighbours_enrolled())

    await _race(pool, make.pair_formed("pair-1"), _neighbours_paired())

    # The race happened: the erasure committed after the introductions and withdrew none.
    planned = await _pair_deliveries(pool, "pair-1")
    assert [(d["recipient_id"], d["status"]) for d in planned] == [
        (make.MENTEE, "pending"),
        (make.MENTOR, "pending"),
    ]
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _dispatcher(pool, sink.port, concurrency=concurrency)
        assert await _bounded(_send_due(pool, sender)) == 4

    # The neighbours' introductions, of the same batch, left once each; nothing for or
    # about her did.
    assert _addressees(sink) == sorted(NEIGHBOURS.values())
    assert not any(ERASED_NAME in message.as_string() for message in _received(sink))
    withdrawn = await _pair_deliveries(pool, "pair-1")
    assert [(d["status"], d["attempts"], d["last_outcome"], d["dropped"]) for d in withdrawn] == [
        ("cancelled", 0, WITHDRAWN, True)
    ] * 2
    neighbours = await _pair_deliveries(pool, "pair-2")
    assert [(d["status"], d["attempts"]) for d in neighbours] == [("sent", 1)] * 2
    # The raced formation recorded her in the pair: the withdrawal took her id out, as the
    # erasure does; the neighbours' pair is untouched.
    members = await rows(pool, "SELECT pair_id, mentor_id, mentee_id FROM pairs ORDER BY pair_id")
    assert members == [
        {"pair_id": "pair-1", "mentor_id": make.MENTOR, "mentee_id": None},
        {"pair_id": "pair-2", "mentor_id": "Y2", "mentee_id": "X2"},
    ]
    # No turn is left to send the withdrawn deliveries again (in-flight mode plans a recovery
    # turn with each claim: none for a withdrawal).
    pending_jobs = await rows(pool, "SELECT job_id FROM scheduled_jobs WHERE done_at IS NULL")
    withdrawn_keys = await rows(
        pool, "SELECT delivery_key FROM deliveries WHERE pair_id = 'pair-1'"
    )
    assert not any(
        job["job_id"].startswith(f"deliver:{key['delivery_key']}:")
        for job in pending_jobs
        for key in withdrawn_keys
    )


async def test_a_session_planned_while_she_is_erased_sends_nothing_naming_her(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # Both pairs were followed and introduced before; the erasure now races two sessions.
    await consume(
        pool,
        make.define_programme(),
        *make.enrol_pair(),
        *_neighbours_enrolled(),
        make.pair_formed("pair-1"),
        _neighbours_paired(),
    )
    await pool.execute("UPDATE deliveries SET status = 'sent', message = NULL")
    await pool.execute("UPDATE scheduled_jobs SET done_at = $1", NOW)
    starts_at = NOW + timedelta(days=3)

    await _race(
        pool,
        make.session_scheduled(starts_at=starts_at, pair_id="pair-1"),
        make.session_scheduled(starts_at=starts_at, pair_id="pair-2"),
    )

    # The erasure took her out of the pair; the invitation to her partner names her.
    before = await _pair_deliveries(pool, "pair-1")
    assert {d["status"] for d in before if d["kind"] != "introduction"} == {"pending"}
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _dispatcher(pool, sink.port, concurrency=1)
        await _bounded(_send_due(pool, sender))

    assert _addressees(sink) == sorted(NEIGHBOURS.values())
    assert not any(ERASED_NAME in message.as_string() for message in _received(sink))
    after = await _pair_deliveries(pool, "pair-1")
    invitations = [d for d in after if d["kind"] == "session_invitation"]
    assert [(d["recipient_id"], d["status"], d["last_outcome"]) for d in invitations] == [
        (make.MENTEE, "cancelled", WITHDRAWN),
        (make.MENTOR, "cancelled", WITHDRAWN),
    ]
    # The raced event recorded the session's place after the erasure deleted her pair's
    # sessions: the withdrawal deleted it too; the neighbours' session stays.
    places = await rows(pool, "SELECT pair_id FROM sessions ORDER BY pair_id")
    assert places == [{"pair_id": "pair-2"}]

    # Her partner's reminder, planned in the same race, is withdrawn when it falls due; the
    # neighbours' reminders leave once each.
    reminder_time = starts_at - timedelta(hours=1)
    async with SmtpSink(directory=tmp_path / "reminders") as sink:
        sender = _dispatcher(pool, sink.port, concurrency=1)
        await _bounded(_send_due(pool, sender, at=reminder_time))

    assert _addressees(sink) == sorted(NEIGHBOURS.values())
    reminders = [
        d for d in await _pair_deliveries(pool, "pair-1") if d["kind"] == "session_reminder"
    ]
    assert [(d["status"], d["attempts"], d["last_outcome"]) for d in reminders] == [
        ("cancelled", 0, WITHDRAWN)
    ] * 2


async def test_a_summary_to_the_hr_contact_she_was_is_withdrawn_at_send_time(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # The programme's HR contact is also a participant: her erasure clears the contact.
    contact = make.enrol("C1", name="Claire Dubois", email="claire.dubois@example.com")
    await consume(
        pool, make.define_programme(), contact, *_neighbours_enrolled(), _neighbours_paired()
    )

    await _race(pool, make.matching_completed(), erased="C1")

    summary = await rows(
        pool, "SELECT status FROM deliveries WHERE recipient_id = $1", f"hr:{make.PROGRAMME}"
    )
    assert summary == [{"status": "pending"}], "the erasure never saw the summary"
    async with SmtpSink(directory=tmp_path) as sink:
        await _bounded(_send_due(pool, _dispatcher(pool, sink.port, concurrency=1)))

    assert _addressees(sink) == sorted(NEIGHBOURS.values())
    withdrawn = await rows(
        pool,
        "SELECT status, last_outcome, message IS NULL AS dropped FROM deliveries "
        "WHERE recipient_id = $1",
        f"hr:{make.PROGRAMME}",
    )
    assert withdrawn == [{"status": "cancelled", "last_outcome": WITHDRAWN, "dropped": True}]
