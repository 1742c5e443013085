"""Sending one rendered message through its channel, within its rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.domain.policy import AttemptOutcome, RateDecision, RateLimiter
from binome_shared import failpoints


class EmailSender(Protocol):
    """One SMTP attempt (see :class:`~binome_notifications.adapters.smtp.SmtpEmailSender`)."""

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures."""
        ...


class WebhookPoster(Protocol):
    """One HTTP attempt (see :class:`~binome_notifications.adapters.webhooks.WebhookSender`)."""

    async def send(self, webhook: OutgoingWebhook) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Channels:
    """The e-mail and webhook senders, and the rate limits they are used under: per e-mail
    address and per webhook receiver (in memory, so per replica)."""

    email_sender: Callable[[], EmailSender]
    webhook_sender: Callable[[], Awaitable[WebhookPoster]]
    per_recipient: RateLimiter
    per_receiver: RateLimiter

    def throttle(self, message: OutgoingEmail | OutgoingWebhook, now: datetime) -> RateDecision:
        """Take a token from the bucket ``message``'s recipient draws on."""
        if isinstance(message, OutgoingWebhook):
            return self.per_receiver.acquire(message.receiver_id, now)
        return self.per_recipient.acquire(message.to_address.lower(), now)

    async def send(self, message: OutgoingEmail | OutgoingWebhook) -> AttemptOutcome:
        """One attempt through the message's channel."""
        if isinstance(message, OutgoingWebhook):
            outcome = await (await self.webhook_sender()).send(message)
            accepted = "notifications.after_webhook_accept"
        else:
            outcome = await self.email_sender().send(message)
            accepted = "notifications.after_smtp_accept"
        if outcome.delivered:
            failpoints.crash_if_armed(accepted)  # the crash window tests aim here
        return outcome
