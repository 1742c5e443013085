"""Pure notification logic: what to send to whom, when, and how to treat delivery outcomes."""

from binome_notifications.domain.model import (
    Channel,
    Notification,
    NotificationKind,
    Person,
    Programme,
    Recipient,
    WebhookReceiver,
    delivery_key,
    resolve_language,
)
from binome_notifications.domain.planning import plan_notifications

__all__ = [
    "Channel",
    "Notification",
    "NotificationKind",
    "Person",
    "Programme",
    "Recipient",
    "WebhookReceiver",
    "delivery_key",
    "plan_notifications",
    "resolve_language",
]
