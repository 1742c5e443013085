"""Facts the notifications service publishes on ``binome.notifications.events``.

They say what was sent to whom by participant id and channel, never by address.
"""

from __future__ import annotations

from pydantic import Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.topics import NOTIFICATIONS_EVENTS


class NotificationSent(
    Event,
    type="binome.notifications.notification-sent",
    version=(1, 0),
    topic=NOTIFICATIONS_EVENTS,
):
    """A message reached its channel (the SMTP server accepted it, the webhook answered 2xx)."""

    delivery_key: str = Field(description="Stable id of (recipient, reason): sent at most once.")
    kind: str = Field(examples=["introduction", "session_reminder"])
    channel: str = Field(examples=["email", "webhook"])
    recipient_id: str = Field(description="Participant id, or `hr` for the programme contact.")
    attempts: int = Field(ge=1)


class NotificationFailed(
    Event,
    type="binome.notifications.notification-failed",
    version=(1, 0),
    topic=NOTIFICATIONS_EVENTS,
):
    """A message could not be delivered: a permanent refusal, or retries exhausted."""

    delivery_key: str
    kind: str
    channel: str
    recipient_id: str
    attempts: int = Field(ge=1)
    permanent: bool
    reason: str


NOTIFICATIONS_EVENT_TYPES: tuple[type[Event], ...] = (NotificationSent, NotificationFailed)
