"""E-mails as MIME: the message calendar clients recognise, and its wire form written
directly (see :func:`mime_bytes`)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from typing import TypedDict, Unpack

from binome_notifications.adapters.headers import check_headers
from binome_notifications.adapters.messages import OutgoingEmail

DELIVERY_KEY_HEADER = "X-Binome-Delivery-Key"


class Letterhead(TypedDict):
    """Who sends and when: what :func:`build_mime_message` and :func:`mime_bytes` both take
    besides the e-mail."""

    sender_address: str
    sender_name: str
    message_id_domain: str
    sent_at: datetime


def message_id_for(delivery_key: str, *, domain: str) -> str:
    """The Message-ID of the e-mail sent for ``delivery_key``: the same on every attempt, so a
    duplicate caused by a crash between send and record is recognisable downstream."""
    return f"<{delivery_key}@{domain}>"


def build_mime_message(email: OutgoingEmail, **letterhead: Unpack[Letterhead]) -> EmailMessage:
    """multipart/alternative (text, HTML[, text/calendar]) inside multipart/mixed with the
    .ics attached when there is an invite, the layout calendar clients recognise.

    Raises :class:`UnsafeHeaderError` when a value would forge or break a header."""
    sender_address, sender_name, message_id_domain, sent_at = _checked(email, letterhead)
    # Headers set raw (the unsubscribe URL) are written as given: a long URL has no place to
    # fold, and the default policy would otherwise turn it into RFC 2047 words no client reads.
    message = EmailMessage(policy=default_policy.clone(refold_source="none"))
    username, _, domain = sender_address.partition("@")
    message["From"] = Address(display_name=sender_name, username=username, domain=domain)
    to_user, _, to_domain = email.to_address.partition("@")
    message["To"] = Address(display_name=email.to_name, username=to_user, domain=to_domain)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(sent_at.astimezone(UTC))
    message["Message-ID"] = message_id_for(email.delivery_key, domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message[DELIVERY_KEY_HEADER] = email.delivery_key
    for name, value in unsubscribe_headers(email):
        message.set_raw(name, value)
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    if email.calendar is not None:
        method = email.calendar.method.value
        message.add_alternative(
            email.calendar.ics.decode(),
            subtype="calendar",
            charset="utf-8",
            params={"method": method},
        )
        message.add_attachment(
            email.calendar.ics,
            maintype="application",
            subtype="ics",
            filename=email.calendar.filename,
        )
    # Set last: set_content and add_attachment move Content-* headers into the sub-parts.
    message["Content-Language"] = email.language.value
    return message


def unsubscribe_headers(email: OutgoingEmail) -> list[tuple[str, str]]:
    """RFC 8058 one-click unsubscribe: a mail client POSTs ``List-Unsubscribe=One-Click`` to
    the signed URL (which alone says who and what), without opening a page."""
    if email.unsubscribe_url is None:
        return []
    return [
        ("List-Unsubscribe", f"<{email.unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


_CRLF = "\r\n"
_PLAIN_LINE_LIMIT = 78  # longer lines are base64-encoded, as the standard library would encode


def _checked(email: OutgoingEmail, letterhead: Letterhead) -> tuple[str, str, str, datetime]:
    """The letterhead's values, once they and ``email``'s make safe headers."""
    sender_address = letterhead["sender_address"]
    sender_name = letterhead["sender_name"]
    message_id_domain = letterhead["message_id_domain"]
    check_headers(
        email,
        sender_address=sender_address,
        sender_name=sender_name,
        message_id_domain=message_id_domain,
    )
    return sender_address, sender_name, message_id_domain, letterhead["sent_at"]


def is_ascii(text: str) -> bool:
    return text.isascii()


def _address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8")


def _header(name: str, value: str) -> str:
    """``Name: value`` folded, with RFC 2047 words only when the value is not ASCII."""
    charset = "us-ascii" if is_ascii(value) else "utf-8"
    return f"{name}: {Header(value, charset, header_name=name).encode(linesep=_CRLF)}"


def _text_part(content: str, subtype: str, *, params: str = "") -> list[str]:
    """A text part: 8bit when every line is short (as the standard library chooses), base64
    otherwise (cheap to produce, unlike quoted-printable)."""
    lines = content.encode().splitlines()  # CR and LF only, as the standard library splits
    canonical = b"\r\n".join(lines) + b"\r\n"
    if max((len(line) for line in lines), default=0) <= _PLAIN_LINE_LIMIT:
        encoding, body = "8bit", canonical.decode()
    else:
        encoding = "base64"
        body = base64.encodebytes(canonical).decode().replace("\n", _CRLF)
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"{params}',
        f"Content-Transfer-Encoding: {encoding}",
        "",
        body,
    ]


def _boundary(parts: str) -> str:
    while True:
        boundary = f"=_binome_{secrets.token_hex(12)}"
        if boundary not in parts:
            return boundary


def _multipart(subtype: str, parts: list[list[str]]) -> list[str]:
    bodies = [_CRLF.join(part) for part in parts]
    boundary = _boundary("".join(bodies))
    lines = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"', ""]
    for body in bodies:
        lines.extend((f"--{boundary}", body))
    lines.extend((f"--{boundary}--", ""))
    return lines


def mime_bytes(email: OutgoingEmail, **letterhead: Unpack[Letterhead]) -> bytes:
    """The wire form of :func:`build_mime_message` (same headers, same parts, same contents),
    written directly: building an ``EmailMessage`` and flattening it cost more than the rest
    of an attempt. Mail clients read both alike; only transfer encodings may differ.

    Raises :class:`UnsafeHeaderError` when a value would forge or break a header: the headers
    are written as text here, so nothing else stands between a line break and a new header."""
    sender_address, sender_name, message_id_domain, sent_at = _checked(email, letterhead)
    alternatives = [_text_part(email.text, "plain"), _text_part(email.html, "html")]
    if email.calendar is None:
        body = _multipart("alternative", alternatives)
    else:
        method = email.calendar.method.value
        alternatives.append(
            _text_part(email.calendar.ics.decode(), "calendar", params=f'; method="{method}"')
        )
        attachment = [
            "Content-Type: application/ics",
            "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="{email.calendar.filename}"',
            "",
            base64.encodebytes(email.calendar.ics).decode().replace("\n", _CRLF),
        ]
        body = _multipart("mixed", [_multipart("alternative", alternatives), attachment])
    headers = [
        f"From: {_address(sender_name, sender_address)}",
        f"To: {_address(email.to_name, email.to_address)}",
        _header("Subject", email.subject),
        f"Date: {format_datetime(sent_at.astimezone(UTC))}",
        f"Message-ID: {message_id_for(email.delivery_key, domain=message_id_domain)}",
        "Auto-Submitted: auto-generated",
        f"{DELIVERY_KEY_HEADER}: {email.delivery_key}",
        *(f"{name}: {value}" for name, value in unsubscribe_headers(email)),
        "MIME-Version: 1.0",
        body[0],
        f"Content-Language: {email.language.value}",
    ]
    return _CRLF.join(headers + body[1:]).encode()
