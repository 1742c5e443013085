"""Rendered messages as JSON, kept in the ledger from planning until the delivery ends."""

from __future__ import annotations

import base64
from typing import Any

from binome_notifications.adapters.messages import (
    CalendarAttachment,
    OutgoingEmail,
    OutgoingWebhook,
)
from binome_notifications.domain.content import CalendarMethod
from binome_notifications.domain.model import Channel, NotificationKind
from binome_shared.contracts.values import Language


def stored_message(message: OutgoingEmail | OutgoingWebhook) -> dict[str, Any]:
    """A rendered message as JSON, kept until its delivery ends."""
    if isinstance(message, OutgoingWebhook):
        return {
            "channel": Channel.WEBHOOK.value,
            "delivery_key": message.delivery_key,
            "kind": message.kind.value,
            "receiver_id": message.receiver_id,
            "body": message.body.decode(),
        }
    calendar = message.calendar
    return {
        "channel": Channel.EMAIL.value,
        "delivery_key": message.delivery_key,
        "kind": message.kind.value,
        "to_address": message.to_address,
        "to_name": message.to_name,
        "language": message.language.value,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "unsubscribe_url": message.unsubscribe_url,
        "calendar": None
        if calendar is None
        else {
            "ics": base64.b64encode(calendar.ics).decode(),
            "method": calendar.method.value,
            "filename": calendar.filename,
        },
    }


def outgoing_from_stored(stored: dict[str, Any]) -> OutgoingEmail | OutgoingWebhook:
    """The inverse of :func:`stored_message`."""
    kind = NotificationKind(stored["kind"])
    if Channel(stored["channel"]) is Channel.WEBHOOK:
        return OutgoingWebhook(
            delivery_key=stored["delivery_key"],
            kind=kind,
            receiver_id=stored["receiver_id"],
            body=stored["body"].encode(),
        )
    calendar = stored["calendar"]
    return OutgoingEmail(
        delivery_key=stored["delivery_key"],
        kind=kind,
        to_address=stored["to_address"],
        to_name=stored["to_name"],
        language=Language(stored["language"]),
        subject=stored["subject"],
        text=stored["text"],
        html=stored["html"],
        unsubscribe_url=stored.get("unsubscribe_url"),  # absent from messages stored before
        calendar=None
        if calendar is None
        else CalendarAttachment(
            ics=base64.b64decode(calendar["ics"]),
            method=CalendarMethod(calendar["method"]),
            filename=calendar["filename"],
        ),
    )
