"""From a trigger to recorded deliveries: plan, keep what opt-outs allow, render, record.

All in the consumer's transaction: the deliveries of one event are recorded in one statement,
and a redelivered event finds their keys and plans nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from binome_notifications.adapters.deliveries import DeliveryLedger, PlannedDelivery
from binome_notifications.adapters.messages import OutgoingEmail, OutgoingWebhook
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.directory import wanted
from binome_notifications.domain.model import Channel, Notification, NotificationKind
from binome_notifications.domain.planning import plan_notifications, supersedes_reminder
from binome_notifications.domain.policy import Preferences
from binome_notifications.domain.triggers import Trigger
from binome_shared.contracts.base import Envelope, Event

logger = logging.getLogger(__name__)


class Notifier:
    """Turns triggers into deliveries, rendered with ``renderer``."""

    def __init__(self, renderer: NotificationRenderer) -> None:
        self._renderer = renderer

    async def notify(
        self,
        ledger: DeliveryLedger,
        trigger: Trigger,
        *,
        envelope: Envelope[Event],
        now: datetime,
        pair_id: str | None,
        preferences: Mapping[str, Preferences],
        expires_at: datetime | None = None,
        not_before: datetime | None = None,
    ) -> int:
        """Record the deliveries ``trigger`` causes; how many were new. ``preferences``
        (by participant id, read once for the event) drop what people opted out of; a
        reminder expires at ``expires_at``; nothing is sent before ``not_before``."""
        planned = []
        for each in plan_notifications(trigger):
            if not wanted(each, preferences):
                continue
            notification = _not_before(each, not_before)
            reminder = notification.kind is NotificationKind.SESSION_REMINDER
            planned.append(
                PlannedDelivery(
                    notification=notification,
                    message=self._render(notification),
                    tenant_id=envelope.tenant_id,
                    caused_by=envelope.id,
                    correlation_id=envelope.correlation_id,
                    pair_id=pair_id,
                    due_at=_due_at(notification, now=now),
                    expires_at=expires_at if reminder else None,
                )
            )
        created = await ledger.plan(planned)
        logger.info("%s planned %d deliveries", envelope.type, created)
        return created

    def _render(self, notification: Notification) -> OutgoingEmail | OutgoingWebhook:
        if notification.channel is Channel.WEBHOOK:
            return self._renderer.render_webhook(notification)
        return self._renderer.render_email(notification)


async def cancel_superseded_reminders(
    ledger: DeliveryLedger, *, tenant_id: str, pair_id: str, trigger: Trigger, now: datetime
) -> int:
    """Cancel the tenant's pair's pending reminders that ``trigger`` makes obsolete; how
    many."""
    obsolete = [
        reminder.delivery_key
        for reminder in await ledger.pending_reminders(tenant_id, pair_id)
        if supersedes_reminder(
            trigger, pending_kind=reminder.kind, pending_subject_id=reminder.subject_id
        )
    ]
    await ledger.cancel(tenant_id, obsolete, now=now)
    return len(obsolete)


def _not_before(notification: Notification, not_before: datetime | None) -> Notification:
    if not_before is not None and notification.send_at < not_before:
        return replace(notification, send_at=not_before)
    return notification


def _due_at(notification: Notification, *, now: datetime) -> datetime:
    """Immediate kinds are due at the service's "now", whatever the event's own clock said;
    reminders and delayed requests at their time."""
    if notification.send_at <= notification.occurred_at:
        return now
    return notification.send_at
