"""Sending planned deliveries, one scheduled job each: claim → send → record.

:mod:`.dispatcher` runs a delivery's turn and claims the attempt, :mod:`.channels` sends
through SMTP or a webhook within the rate limits, :mod:`.recording` writes the outcome and its
event, :mod:`.in_flight` keeps several sends in flight with their records committed together.
"""

from binome_notifications.sending.channels import EmailSender, WebhookPoster
from binome_notifications.sending.dispatcher import Dispatcher

__all__ = ["Dispatcher", "EmailSender", "WebhookPoster"]
