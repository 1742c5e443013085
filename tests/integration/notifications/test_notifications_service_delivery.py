"""The notifications service as a real process: real Kafka, real PostgreSQL, and a real SMTP
server (the sink, on this test's event loop) and HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack.notifications.smtp_sink import SinkFault, SmtpSink
from binome_notifications.domain.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    ReplayGuard,
    SignatureError,
    verify_signature,
)
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.sessions_messages import ParticipantRole
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.waiting import eventually, metric
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "whsec-integration-test"


def read_mail(sink: SmtpSink) -> list[EmailMessage]:
    messages = []
    for path in sorted(sink.directory.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def stored_count(sink: SmtpSink) -> int:
    return len(sink.stored)


async def publish(kafka: Kafka, *envelopes: Envelope[Any]) -> None:
    for envelope in envelopes:
        await kafka.publish(envelope)


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


def start_notifications(service_factory: Any, sink: SmtpSink, **env: str) -> ServiceProcess:
    process: ServiceProcess = service_factory(
        "notifications",
        BINOME_SMTP_HOST="127.0.0.1",
        BINOME_SMTP_PORT=str(sink.port),
        BINOME_SMTP_FROM="binome@binome.example.com",
        BINOME_PUBLIC_BASE_URL="https://rh.example.com",
        **env,
    )
    return process


async def delivery_statuses(database: ProvisionedDatabase) -> list[tuple[str, str, int]]:
    conn = await database.connect("notifications")
    try:
        rows = await conn.fetch(
            "SELECT kind, status, attempts FROM deliveries ORDER BY kind, recipient_id"
        )
    finally:
        await conn.close()
    return [(row["kind"], row["status"], row["attempts"]) for row in rows]


async def test_pair_formed_before_enrolment_waits_then_sends_two_introductions_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    service = start_notifications(service_factory, sink)
    await service.wait_ready()
    pair_formed = make.pair_formed()
    await publish(kafka, pair_formed)
    await eventually(
        lambda: database.fetchval("notifications", "SELECT count(*) FROM parked_messages"), 1
    )
    await publish(kafka, make.define_programme(), *make.enrol_pair())

    await eventually(lambda: stored_count(sink), 2)
    await eventually(lambda: delivery_statuses(database), [("introduction", "sent", 1)] * 2)

    again = pair_formed.model_copy(update={"id": pair_formed.id})
    republished = make.pair_formed()  # a new event id about the same pair: same reasons
    await publish(kafka, again, republished)
    await eventually(lambda: metric(service.url, "binome_messages_total", outcome="duplicate"), 1.0)
    await eventually(
        lambda: database.fetchval(
            "notifications",
            "SELECT count(*) FROM processed_messages WHERE event_id = $1",
            republished.id,
        ),
        1,
    )
    sent = await kafka.read_all(f"{kafka.prefix}binome.notifications.events", expect=2)
    assert len(sent) == 2
    assert len(sink.stored) == 2
    assert await delivery_statuses(database) == [("introduction", "sent", 1)] * 2

    by_recipient = {str(message["To"]): message for message in read_mail(sink)}
    to_mentor = by_recipient["Inès Martin <ines.martin@example.com>"]
    to_mentee = by_recipient["Laurent Girard <laurent.girard@example.com>"]
    assert to_mentor["Content-Language"] == "fr"
    assert "Laurent Girard" in str(to_mentor["Subject"])
    assert "IA générative couvrent vos besoins" in body_text(to_mentor)
    assert to_mentee["Content-Language"] == "en"
    assert "Inès Martin" in str(to_mentee["Subject"])
    assert "generative AI skills cover your top learning needs" in body_text(to_mentee)
    assert "https://rh.example.com/pairs/pair-1" in body_text(to_mentee)
    for record in sent:
        headers = dict(record.headers)
        assert headers["ce_type"] == b"binome.notifications.notification-sent"
        assert b"@" not in record.value, "events carry ids, never addresses"
        assert json.loads(record.value)["possible_duplicate"] is False


async def test_a_fit_concern_over_kafka_sends_hr_one_email_and_a_redelivery_none(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    service = start_notifications(service_factory, sink)
    await service.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    await eventually(lambda: stored_count(sink), 2)

    concern = make.pair_fit_concern_raised(side=ParticipantRole.MENTOR, session_number=1)
    await publish(kafka, concern)
    await eventually(lambda: stored_count(sink), 3)
    await eventually(
        lambda: delivery_statuses(database),
        [("hr_fit_alert", "sent", 1)] + [("introduction", "sent", 1)] * 2,
    )

    again = concern.model_copy(update={"id": concern.id})
    republished = make.pair_fit_concern_raised(side=ParticipantRole.MENTOR, session_number=1)
    await publish(kafka, again, republished)
    await eventually(lambda: metric(service.url, "binome_messages_total", outcome="duplicate"), 1.0)
    await eventually(
        lambda: database.fetchval(
            "notifications",
            "SELECT count(*) FROM processed_messages WHERE event_id = $1",
            republished.id,
        ),
        1,
    )
    assert len(sink.stored) == 3
    assert await delivery_statuses(database) == (
        [("hr_fit_alert", "sent", 1)] + [("introduction", "sent", 1)] * 2
    )
    [to_hr] = [m for m in read_mail(sink) if "claire.dubois@example.com" in str(m["To"])]
    assert "ne semble pas bien assorti" in str(to_hr["Subject"])
    text = body_text(to_hr)
    assert "Inès Martin (mentor) et Laurent Girard (mentoré·e)" in text
    assert "le mentor a indiqué, après la séance n° 1" in text
    assert "https://rh.example.com/programmes/prog-notif/pairs/pair-1" in text


async def test_killed_after_the_smtp_server_accepted_resends_once_with_the_same_message_id(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    """The documented worst case: one duplicate, recognisable by its Message-ID."""
    crashing = start_notifications(
        service_factory, sink, BINOME_FAILPOINTS="notifications.after_smtp_accept"
    )
    await crashing.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    assert await crashing.wait_exit() == -9
    assert len(sink.stored) == 1
    assert sorted(await delivery_statuses(database)) == [
        ("introduction", "pending", 0),
        ("introduction", "sending", 1),
    ]

    restarted = start_notifications(service_factory, sink)
    await restarted.wait_ready()
    await eventually(
        lambda: database.fetchval(
            "notifications", "SELECT count(*) FROM deliveries WHERE status = 'sent'"
        ),
        2,
    )
    messages = read_mail(sink)
    assert len(messages) == 3
    message_ids = sorted(str(message["Message-ID"]) for message in messages)
    assert len(set(message_ids)) == 2, "the resent copy has the first copy's Message-ID"
    assert (
        await database.fetchval("notifications", "SELECT sum(in_doubt_resends) FROM deliveries")
        == 1
    )
    sent = await kafka.read_all(f"{kafka.prefix}binome.notifications.events", expect=2)
    flags = sorted(json.loads(record.value)["possible_duplicate"] for record in sent)
    assert flags == [False, True]


async def test_killed_after_the_claim_but_before_sending_sends_each_introduction_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    crashing = start_notifications(
        service_factory, sink, BINOME_FAILPOINTS="notifications.after_claim"
    )
    await crashing.wait_ready()
    await publish(kafka, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    assert await crashing.wait_exit() == -9
    assert len(sink.stored) == 0

    restarted = start_notifications(service_factory, sink)
    await restarted.wait_ready()
    await eventually(
        lambda: database.fetchval(
            "notifications", "SELECT count(*) FROM deliveries WHERE status = 'sent'"
        ),
        2,
    )
    messages = read_mail(sink)
    assert len(messages) == 2
    assert len({str(message["Message-ID"]) for message in messages}) == 2


async def test_an_smtp_server_answering_451_twice_gets_the_message_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    sink.fault = SinkFault(code=451, times=2)
    service = start_notifications(
        service_factory,
        sink,
        BINOME_DELIVERY_RETRY_BASE_SECONDS="0.2",
        BINOME_DELIVERY_RETRY_MAX_SECONDS="0.5",
    )
    await service.wait_ready()
    await publish(kafka, make.define_programme(), make.matching_completed())

    await eventually(lambda: delivery_statuses(database), [("matching_summary", "sent", 3)])
    assert sink.refused == 2
    messages = read_mail(sink)
    assert len(messages) == 1
    assert str(messages[0]["To"]) == "Claire Dubois <claire.dubois@example.com>"
    assert "Aucun mentor compatible" in body_text(messages[0])
    sent = await kafka.read_all(f"{kafka.prefix}binome.notifications.events", expect=1)
    assert [json.loads(record.value)["attempts"] for record in sent] == [3]


@dataclass
class Receiver:
    """What an HR platform runs: verify the signature on the raw body, refuse replays."""

    secret: bytes
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            verified = verify_signature(
                body, headers.get(SIGNATURE_HEADER), secrets=[self.secret], now=datetime.now(UTC)
            )
            with self.lock:
                self.guard.check(verified, now=datetime.now(UTC))
        except SignatureError as error:
            self.refusals.append(error.reason)
            return 401
        self.accepted.append((headers, body))
        return 204


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(secret=WEBHOOK_SECRET.encode())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/binome"
    server.shutdown()
    server.server_close()


async def test_a_webhook_receiver_verifies_the_signature_of_the_hr_summary(
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
    sink: SmtpSink,
    receiver: tuple[Receiver, str],
) -> None:
    state, url = receiver
    webhooks = [{"id": "hr-platform", "url": url, "secret": WEBHOOK_SECRET}]
    service = start_notifications(service_factory, sink, BINOME_WEBHOOKS=json.dumps(webhooks))
    await service.wait_ready()
    await publish(kafka, make.define_programme(), make.matching_completed())

    await eventually(
        lambda: delivery_statuses(database),
        [("matching_summary", "sent", 1), ("matching_summary", "sent", 1)],
    )
    assert state.refusals == []
    assert len(state.accepted) == 1
    headers, body = state.accepted[0]
    payload = json.loads(body)
    assert payload["kind"] == "matching_summary"
    assert payload["programme_id"] == make.PROGRAMME
    assert payload["facts"]["pairs_formed"] == 10
    assert b"@" not in body
    channel_of_key = await database.fetchval(
        "notifications",
        "SELECT channel FROM deliveries WHERE delivery_key = $1",
        headers[DELIVERY_ID_HEADER],
    )
    assert channel_of_key == "webhook"
    with pytest.raises(SignatureError):
        verify_signature(
            body, headers[SIGNATURE_HEADER], secrets=[b"another-secret"], now=datetime.now(UTC)
        )
    assert len(sink.stored) == 1, "the HR contact's e-mail goes out beside the webhook"


async def set_clock(service: ServiceProcess, moment: datetime) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{service.url}/admin/clock", json={"now": moment.isoformat()})
        response.raise_for_status()


async def test_a_reminder_planned_before_a_restart_is_sent_once_by_two_replicas_after_it(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, sink: SmtpSink
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    starts_at = now + timedelta(days=3)
    first = start_notifications(service_factory, sink, BINOME_CLOCK="simulated")
    await first.wait_ready()
    await publish(
        kafka,
        make.define_programme(),
        *make.enrol_pair(),
        make.pair_formed(),
        make.session_scheduled(starts_at=starts_at, time=now),
    )
    await eventually(lambda: stored_count(sink), 4)  # two introductions, two invitations
    reminders = "SELECT count(*) FROM deliveries WHERE kind = 'session_reminder' AND status = $1"
    assert await database.fetchval("notifications", reminders, "pending") == 2
    first.kill()

    replicas = [
        start_notifications(service_factory, sink, BINOME_CLOCK="simulated") for _ in range(2)
    ]
    await asyncio.gather(*(replica.wait_ready() for replica in replicas))
    reminder_time = starts_at - timedelta(hours=24) + timedelta(minutes=5)
    await asyncio.gather(*(set_clock(replica, reminder_time) for replica in replicas))
    await eventually(lambda: database.fetchval("notifications", reminders, "sent"), 2)
    await asyncio.gather(
        *(set_clock(replica, reminder_time + timedelta(hours=2)) for replica in replicas)
    )
    await asyncio.sleep(2)  # let both replicas poll their schedules again

    messages = read_mail(sink)
    assert len(messages) == 6
    reminders_sent = [
        message
        for message in messages
        if str(message["Subject"]).startswith(("Rappel", "Reminder"))
    ]
    assert len(reminders_sent) == 2
    assert {str(m["To"]) for m in reminders_sent} == {
        "Inès Martin <ines.martin@example.com>",
        "Laurent Girard <laurent.girard@example.com>",
    }
    assert (
        await database.fetchval(
            "notifications",
            "SELECT sum(attempts) FROM deliveries WHERE kind = 'session_reminder'",
        )
        == 2
    )
