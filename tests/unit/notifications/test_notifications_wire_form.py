"""The bytes sent over SMTP are the MIME message ``build_mime_message`` describes: same
headers, same parts, same decoded contents — for every kind, in both languages."""

import email
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy

import aiosmtplib.email
import pytest

from binome_devstack.notifications.examples import example_trigger
from binome_devstack.notifications.smtp_sink import raw_subject, subject_slug
from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.adapters.mime import build_mime_message, mime_bytes
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

RENDERER = NotificationRenderer(
    public_base_url="https://binome.example.com", organizer_email="noreply@binome.example.com"
)
SENT_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Binome-Delivery-Key",
    "Content-Language",
    "MIME-Version",
)


def _emails() -> list[OutgoingEmail]:
    emails = []
    for kind in NotificationKind:
        for language in Language:
            for notification in plan_notifications(example_trigger(kind, language=language)):
                if notification.channel is Channel.EMAIL:
                    emails.append(RENDERER.render_email(notification))
    return emails


EMAILS = _emails()


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def _parts(message: EmailMessage) -> list[tuple[object, ...]]:
    return [
        (
            part.get_content_type(),
            None if part.is_multipart() else part.get_content(),
            part.get_filename(),
            part.get_param("method"),
            part.get_content_disposition(),
        )
        for part in message.walk()
    ]


def _both(outgoing: OutgoingEmail) -> tuple[EmailMessage, EmailMessage]:
    reference = build_mime_message(
        outgoing,
        sender_address="noreply@binome.example.com",
        sender_name="Binôme",
        message_id_domain="binome.example.com",
        sent_at=SENT_AT,
    )
    sent = mime_bytes(
        outgoing,
        sender_address="noreply@binome.example.com",
        sender_name="Binôme",
        message_id_domain="binome.example.com",
        sent_at=SENT_AT,
    )
    return _parsed(aiosmtplib.email.flatten_message(reference)), _parsed(sent)


def test_every_kind_and_language_is_covered() -> None:
    assert {outgoing.kind for outgoing in EMAILS} >= {
        NotificationKind.INTRODUCTION,
        NotificationKind.SESSION_INVITATION,
    }
    assert any(outgoing.calendar is not None for outgoing in EMAILS)
    assert any(outgoing.calendar is None for outgoing in EMAILS)


@pytest.mark.parametrize("outgoing", EMAILS, ids=lambda outgoing: outgoing.kind.value)
def test_the_wire_form_says_what_the_mime_message_says(outgoing: OutgoingEmail) -> None:
    reference, sent = _both(outgoing)

    for name in HEADERS:
        # The standard library folds encoded words with an extra space; the words are equal.
        assert " ".join(str(sent[name]).split()) == " ".join(str(reference[name]).split())
    assert _parts(sent) == _parts(reference)
    assert all(not part.defects for part in sent.walk())


def test_long_and_quoted_headers_and_long_lines_survive() -> None:
    outgoing = replace(
        EMAILS[0],
        subject="A plain ASCII subject long enough to be folded over several lines " * 3,
        to_name='Dupont, "Jean"',
        text="a line far longer than seventy-eight characters, " * 10 + "\nthe end\n",
    )
    reference, sent = _both(outgoing)

    assert str(sent["Subject"]) == outgoing.subject
    assert sent["To"].addresses[0].display_name == 'Dupont, "Jean"'
    assert sent["To"].addresses[0].addr_spec == outgoing.to_address
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None
    assert body["Content-Transfer-Encoding"] == "base64"
    assert _parts(sent) == _parts(reference)


def test_the_sink_reads_the_subject_without_parsing_the_message() -> None:
    for outgoing in EMAILS[:6]:
        _, sent = _both(outgoing)
        raw = mime_bytes(
            outgoing,
            sender_address="noreply@binome.example.com",
            sender_name="Binôme",
            message_id_domain="binome.example.com",
            sent_at=SENT_AT,
        )
        assert raw_subject(raw) == outgoing.subject
        assert subject_slug(raw_subject(raw)) == subject_slug(str(sent["Subject"]))
    assert raw_subject(b"From: a@b.c\r\n\r\nSubject: in the body\r\n") == ""
    assert raw_subject(b"subject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\n\r\nbody") == "café folded"
