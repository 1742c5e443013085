"""Rendered messages, ready for a transport; each carries the delivery key it was made for."""

from __future__ import annotations

from dataclasses import dataclass

from binome_notifications.domain.content import CalendarMethod
from binome_notifications.domain.model import NotificationKind
from binome_shared.contracts.values import Language


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarAttachment:
    """An .ics file to attach to an e-mail."""

    ics: bytes
    method: CalendarMethod
    filename: str = "invite.ics"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingEmail:
    """One e-mail to one person, with its HTML and text parts and an optional invite."""

    delivery_key: str
    kind: NotificationKind
    to_address: str
    to_name: str
    language: Language
    subject: str
    text: str
    html: str
    calendar: CalendarAttachment | None = None
    unsubscribe_url: str | None = None
    """RFC 8058 one-click unsubscribe (``List-Unsubscribe`` and ``List-Unsubscribe-Post``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingWebhook:
    """One JSON request to one webhook receiver; ``body`` is exactly what gets signed."""

    delivery_key: str
    kind: NotificationKind
    receiver_id: str
    body: bytes
