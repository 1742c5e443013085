"""No value reaches an e-mail header with a line break: a hostile name is refused at the SMTP
adapter, even when it got past the contracts (data stored before they were tightened)."""

import asyncio
import email
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import binome_notifications
from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.headers import UnsafeHeaderError
from binome_notifications.adapters.messages import CalendarAttachment, OutgoingEmail
from binome_notifications.adapters.mime import build_mime_message, mime_bytes
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.adapters.smtp import SmtpEmailSender, SmtpSecurity, SmtpSettings
from binome_notifications.domain.content import CalendarMethod
from binome_notifications.domain.model import NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.policy import OutcomeClass
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

RENDERER = NotificationRenderer(
    public_base_url="https://binome.example.com", organizer_email="noreply@binome.example.com"
)
SENT_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EXPECTED_HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Binome-Delivery-Key",
    "MIME-Version",
    "Content-Type",
    "Content-Language",
}
FORGED = "Ines\r\nReply-To: attacker@evil.example"
HOSTILE_LINES = [FORGED, "Ines\nBcc: x@evil.example", "Ines\rX: y", "Ines\x00", "Ines\u2028X: y"]

INTRODUCTION = RENDERER.render_email(
    plan_notifications(example_trigger(NotificationKind.INTRODUCTION, language=Language.FR))[0]
)


_SENDER: dict[str, Any] = {
    "sender_address": "noreply@binome.example.com",
    "sender_name": "Binôme",
    "message_id_domain": "binome.example.com",
    "sent_at": SENT_AT,
}


def _wire(outgoing: OutgoingEmail) -> bytes:
    return mime_bytes(outgoing, **_SENDER)


def _built(outgoing: OutgoingEmail) -> EmailMessage:
    return build_mime_message(outgoing, **_SENDER)


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def _hostile(field: str, value: str) -> OutgoingEmail:
    if field == "filename":
        invite = CalendarAttachment(ics=b"BEGIN:VCALENDAR\r\n", method=CalendarMethod.REQUEST)
        return replace(INTRODUCTION, calendar=replace(invite, filename=value))
    return replace(INTRODUCTION, **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", HOSTILE_LINES)
@pytest.mark.parametrize("field", ["to_name", "to_address", "subject", "delivery_key", "filename"])
def test_a_line_break_or_control_in_any_header_value_is_refused(field: str, value: str) -> None:
    hostile = _hostile(field, value)
    with pytest.raises(UnsafeHeaderError):
        _wire(hostile)
    with pytest.raises(UnsafeHeaderError):
        _built(hostile)


@pytest.mark.parametrize(
    "address", ["a@b.example>, x@evil.example", "<a@b.example>", "a b@c.example", "no-at-sign"]
)
def test_an_address_that_is_not_one_plain_address_is_refused(address: str) -> None:
    with pytest.raises(UnsafeHeaderError) as refused:
        _wire(replace(INTRODUCTION, to_address=address))
    assert refused.value.header == "To"


def test_the_sender_refuses_a_forged_header_for_good_without_connecting() -> None:
    # Port 9 (discard) on a closed local port: a connection attempt would fail as transient.
    sender = SmtpEmailSender(
        settings=SmtpSettings(
            host="127.0.0.1",
            port=9,
            sender_address="noreply@binome.example.com",
            security=SmtpSecurity.NONE,
            timeout_seconds=1.0,
        ),
        clock=lambda: SENT_AT,
    )
    outcome = asyncio.run(sender.send(replace(INTRODUCTION, to_name=FORGED)))
    assert outcome.outcome is OutcomeClass.PERMANENT
    assert outcome.detail == "unsafe To header"
    assert sender.connections_opened == 0


def test_quotes_and_non_ascii_names_stay_inside_the_to_header() -> None:
    name = 'Inès "la boss" <Martin>, Reply-To: attacker@evil.example'
    parsed = _parsed(_wire(replace(INTRODUCTION, to_name=name)))
    assert set(parsed.keys()) == EXPECTED_HEADERS
    (address,) = parsed["To"].addresses
    assert address.display_name == name
    assert address.addr_spec == INTRODUCTION.to_address


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=80), subject=st.text(max_size=120))
def test_whatever_the_name_and_subject_no_header_is_added(name: str, subject: str) -> None:
    outgoing = replace(INTRODUCTION, to_name=name, subject=subject)
    try:
        raw = _wire(outgoing)
    except UnsafeHeaderError:
        return
    parsed = _parsed(raw)
    assert set(parsed.keys()) == EXPECTED_HEADERS
    assert [address.addr_spec for address in parsed["To"].addresses] == [outgoing.to_address]


TEMPLATES = Path(binome_notifications.__file__).parent / "templates"


def test_every_html_template_is_autoescaped_and_none_turns_escaping_off() -> None:
    html_templates = sorted(TEMPLATES.rglob("*.html*"))
    assert len(html_templates) > 20
    for template in html_templates:
        assert template.name.endswith(".html.j2"), f"{template} would not be autoescaped"
        source = template.read_text()
        assert "|safe" not in source.replace(" ", ""), template
        assert "autoescape" not in source, template
