"""Facts the notifications service publishes on ``binome.notifications.events``.

They say what was sent to whom by participant id and channel, never by address.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.text import Code, Reference, free_text
from binome_shared.contracts.topics import NOTIFICATIONS_EVENTS
from binome_shared.contracts.values import POSTGRES_INTEGER_MAX

Attempts = Annotated[int, Field(ge=1, le=POSTGRES_INTEGER_MAX)]

_RECIPIENT_ID = (
    "Participant id; `hr:<programme id>` for the programme's HR contact; the receiver id "
    "for a webhook."
)


class NotificationSent(
    Event,
    type="binome.notifications.notification-sent",
    version=(1, 1),
    topic=NOTIFICATIONS_EVENTS,
):
    """A message reached its channel (the SMTP server accepted it, the webhook answered 2xx).

    Published once per delivery key. ``possible_duplicate`` says the service was interrupted
    after claiming an attempt and sent again without knowing whether the first one went: the
    recipient may hold two copies with the same Message-ID (or Binome-Delivery-Id).
    """

    delivery_key: Reference = Field(
        description="Stable id of (programme, recipient, reason): planned once, sent once."
    )
    kind: Code = Field(examples=["introduction", "session_reminder"])
    channel: Code = Field(examples=["email", "webhook"])
    recipient_id: Reference = Field(description=_RECIPIENT_ID, examples=["E10442", "hr:prog-2027"])
    attempts: Attempts = Field(description="Attempts made, this one included.")
    subject_id: Reference = Field(
        default="",
        description="What it was about: a pair, a session revision, a round (since 1.1).",
        examples=["p-4f0c2a", "p-4f0c2a-2#1"],
    )
    possible_duplicate: bool = Field(
        default=False,
        description="An attempt was interrupted between claim and record, then resent (1.1).",
    )


class NotificationFailed(
    Event,
    type="binome.notifications.notification-failed",
    version=(1, 1),
    topic=NOTIFICATIONS_EVENTS,
):
    """A message could not be delivered: a permanent refusal, or retries exhausted.

    The delivery is parked for good (this event is its dead letter): an operator fixes the
    cause (an address, a receiver's configuration) and HR re-sends if it still matters.
    """

    delivery_key: Reference
    kind: Code = Field(examples=["introduction"])
    channel: Code = Field(examples=["email", "webhook"])
    recipient_id: Reference = Field(description=_RECIPIENT_ID)
    attempts: Attempts
    permanent: bool = Field(
        description=(
            "True: the server refused for good (SMTP 5xx, HTTP 4xx); false: retries ran out."
        )
    )
    reason: Annotated[str, free_text(1000)] = Field(
        description="Why, without addresses.", examples=["SMTPRecipientsRefused", "http 410"]
    )
    subject_id: Reference = Field(default="", description="What it was about (since 1.1).")


NOTIFICATIONS_EVENT_TYPES: tuple[type[Event], ...] = (NotificationSent, NotificationFailed)
