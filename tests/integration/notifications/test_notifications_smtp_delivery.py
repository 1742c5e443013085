"""E-mail delivery against a real SMTP server (the aiosmtpd sink) on 127.0.0.1."""

import asyncio
import email
import random
import shutil
import socket
import ssl
import subprocess
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import icalendar
import pytest

from binome_devstack.notifications.examples import example_trigger
from binome_devstack.notifications.smtp_sink import FaultStage, SinkFault, SmtpSink
from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.adapters.mime import message_id_for
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.adapters.retrying import deliver_with_retries
from binome_notifications.adapters.smtp import SmtpEmailSender, SmtpSecurity, SmtpSettings
from binome_notifications.domain.model import NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.policy import OutcomeClass, RetryPolicy, SmtpReply
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.integration

RENDERER = NotificationRenderer(
    public_base_url="https://binome.example.com", organizer_email="noreply@binome.example.com"
)
FAST_RETRIES = RetryPolicy(
    base_delay=timedelta(milliseconds=20), max_delay=timedelta(milliseconds=100), max_attempts=5
)


def _invitation(language: Language = Language.FR) -> OutgoingEmail:
    planned = plan_notifications(
        example_trigger(NotificationKind.SESSION_INVITATION, language=language)
    )
    notification = next(n for n in planned if n.kind is NotificationKind.SESSION_INVITATION)
    return RENDERER.render_email(notification)


def _sender(
    port: int, *, username: str | None = None, password: str | None = None
) -> SmtpEmailSender:
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        sender_address="noreply@binome.example.com",
        security=SmtpSecurity.NONE,
        username=username,
        password=password,
        timeout_seconds=5,
        message_id_domain="binome.example.com",
        local_hostname="binome-test",
    )
    return SmtpEmailSender(settings=settings)


def _parse(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_an_invitation_arrives_as_a_parseable_eml_with_html_text_and_ics(
    tmp_path: Path,
) -> None:
    outgoing = _invitation(Language.FR)
    async with SmtpSink(directory=tmp_path) as sink:
        outcome = await _sender(sink.port).send(outgoing)

    assert outcome.outcome is OutcomeClass.DELIVERED
    assert len(sink.stored) == 1
    stored = sink.stored[0]
    assert stored.parent == tmp_path
    assert stored.name.endswith("-seance-confirmee-avec-laurent-girard-jeudi-3-decembre-2026.eml")
    assert stored.name[:8].isdigit()

    message = _parse(stored)
    assert message["Message-ID"] == message_id_for(
        outgoing.delivery_key, domain="binome.example.com"
    )
    assert str(message["Subject"]) == "Séance confirmée avec Laurent Girard : jeudi 3 décembre 2026"
    assert message["To"].addresses[0].addr_spec == "ines.moreau@example.com"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "jeudi 3 décembre 2026 à 14 h 00 (Europe/Paris)" in text.get_content()
    assert "<strong>Laurent Girard</strong>" in html.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["invite.ics"]
    calendar = icalendar.Calendar.from_ical(attachments[0].get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == "session-session-7@binome"
    assert int(str(event["SEQUENCE"])) == 0


async def test_greylisting_451_twice_then_accepted_arrives_once(tmp_path: Path) -> None:
    outgoing = _invitation(Language.EN)
    async with SmtpSink(directory=tmp_path, fault=SinkFault(code=451, times=2)) as sink:
        sender = _sender(sink.port)
        report = await deliver_with_retries(
            lambda: sender.send(outgoing), policy=FAST_RETRIES, rng=random.Random(5)
        )

    assert report.delivered
    assert report.attempts == 3
    assert sink.refused == 2
    assert len(sink.stored) == 1
    assert [path.suffix for path in sink.directory.iterdir()] == [".eml"]
    assert _parse(sink.stored[0])["Message-ID"] == message_id_for(
        outgoing.delivery_key, domain="binome.example.com"
    )


async def test_a_450_at_rcpt_is_transient_too(tmp_path: Path) -> None:
    fault = SinkFault(code=450, message="4.2.0 Mailbox busy", times=None, stage=FaultStage.RCPT)
    async with SmtpSink(directory=tmp_path, fault=fault) as sink:
        outcome = await _sender(sink.port).send(_invitation())
    assert outcome.outcome is OutcomeClass.TRANSIENT
    assert outcome.signal == SmtpReply(450)
    assert sink.stored == []


async def test_a_550_is_permanent_and_not_retried(tmp_path: Path) -> None:
    fault = SinkFault(code=550, message="5.1.1 No such user", times=None)
    async with SmtpSink(directory=tmp_path, fault=fault) as sink:
        sender = _sender(sink.port)
        report = await deliver_with_retries(
            lambda: sender.send(_invitation()), policy=FAST_RETRIES, rng=random.Random(5)
        )
    assert report.outcome.outcome is OutcomeClass.PERMANENT
    assert report.outcome.signal == SmtpReply(550)
    assert report.attempts == 1
    assert sink.refused == 1
    assert list(sink.directory.iterdir()) == []


async def test_authentication_is_used_when_configured(tmp_path: Path) -> None:
    async with SmtpSink(directory=tmp_path, credentials=("binome", "s3cret")) as sink:
        accepted = await _sender(sink.port, username="binome", password="s3cret").send(
            _invitation()
        )
        refused = await _sender(sink.port, username="binome", password="wrong").send(_invitation())
        anonymous = await _sender(sink.port).send(_invitation())
    assert accepted.outcome is OutcomeClass.DELIVERED
    assert refused.outcome is OutcomeClass.PERMANENT
    assert refused.signal == SmtpReply(535)
    assert anonymous.outcome is OutcomeClass.PERMANENT
    assert len(sink.stored) == 1


async def test_nobody_listening_is_a_transient_connection_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    outcome = await _sender(free_port).send(_invitation())
    assert outcome.outcome is OutcomeClass.TRANSIENT


async def test_sending_the_same_email_twice_gives_two_files_with_one_message_id(
    tmp_path: Path,
) -> None:
    outgoing = _invitation()
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _sender(sink.port)
        await sender.send(outgoing)
        await sender.send(outgoing)
    ids = {_parse(path)["Message-ID"] for path in sink.stored}
    assert len(sink.stored) == 2
    assert len(ids) == 1


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_starttls_with_a_verified_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    mail_dir = tmp_path / "mail"
    async with SmtpSink(
        directory=mail_dir, tls_context=server_context, credentials=("binome", "s3cret")
    ) as sink:
        base = _sender(sink.port, username="binome", password="s3cret")
        secured = SmtpEmailSender(
            settings=replace(base.settings, security=SmtpSecurity.STARTTLS, ca_file=str(cert))
        )
        delivered = await secured.send(_invitation())
        plain = await base.send(_invitation())
        untrusted = await SmtpEmailSender(
            settings=replace(base.settings, security=SmtpSecurity.STARTTLS)
        ).send(_invitation())
    assert delivered.outcome is OutcomeClass.DELIVERED
    assert plain.outcome is OutcomeClass.PERMANENT  # 530 Must issue a STARTTLS command first
    assert plain.signal == SmtpReply(530)
    assert untrusted.outcome is OutcomeClass.PERMANENT
    assert untrusted.detail == "SSLCertVerificationError"
    assert len(sink.stored) == 1


def _reusing_sender(
    port: int, *, connections: int = 1, per_connection: int = 100, clock: list[float] | None = None
) -> SmtpEmailSender:
    settings = replace(
        _sender(port).settings, max_connections=connections, messages_per_connection=per_connection
    )
    if clock is None:
        return SmtpEmailSender(settings=settings)
    return SmtpEmailSender(settings=settings, monotonic=lambda: clock[0])


async def test_one_connection_carries_many_messages_each_a_file_of_its_own(
    tmp_path: Path,
) -> None:
    outgoing = [_invitation(Language.FR), _invitation(Language.EN)] * 3
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _reusing_sender(sink.port)
        outcomes = [await sender.send(email) for email in outgoing]
        await sender.close()

    assert [outcome.outcome for outcome in outcomes] == [OutcomeClass.DELIVERED] * 6
    assert sender.connections_opened == 1
    assert len(sink.stored) == 6
    subjects = sorted(str(_parse(path)["Subject"]) for path in sink.stored)
    assert subjects == sorted(email.subject for email in outgoing)


async def test_a_connection_is_renewed_after_its_quota_and_after_an_idle_spell(
    tmp_path: Path,
) -> None:
    clock = [0.0]
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _reusing_sender(sink.port, per_connection=2, clock=clock)
        for _ in range(5):
            await sender.send(_invitation())
        assert sender.connections_opened == 3  # 2 + 2 + 1
        clock[0] += sender.settings.idle_reuse_seconds + 1
        await sender.send(_invitation())
        await sender.close()
    assert sender.connections_opened == 4
    assert len(sink.stored) == 6


async def test_a_refused_message_drops_its_connection_and_the_next_one_goes_through(
    tmp_path: Path,
) -> None:
    async with SmtpSink(directory=tmp_path, fault=SinkFault(code=451, times=1)) as sink:
        sender = _reusing_sender(sink.port)
        refused = await sender.send(_invitation())
        accepted = await sender.send(_invitation())
        await sender.close()
    assert refused.outcome is OutcomeClass.TRANSIENT
    assert refused.signal == SmtpReply(451)
    assert accepted.outcome is OutcomeClass.DELIVERED
    assert sender.connections_opened == 2
    assert len(sink.stored) == 1


async def test_concurrent_sends_share_at_most_the_configured_connections(
    tmp_path: Path,
) -> None:
    async with SmtpSink(directory=tmp_path) as sink:
        sender = _reusing_sender(sink.port, connections=3)
        outcomes = await asyncio.gather(*(sender.send(_invitation()) for _ in range(9)))
        await sender.close()
    assert {outcome.outcome for outcome in outcomes} == {OutcomeClass.DELIVERED}
    assert 1 <= sender.connections_opened <= 3
    assert len(sink.stored) == 9
