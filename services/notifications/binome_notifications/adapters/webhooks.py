"""Signed webhooks to HR platforms and chat tools (httpx); each call is one attempt."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from binome_notifications.adapters.messages import OutgoingWebhook
from binome_notifications.domain.policy import (
    AttemptOutcome,
    ConnectionFailed,
    HttpReply,
    OutcomeClass,
    TimedOut,
)
from binome_notifications.domain.signing import (
    DELIVERY_ID_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    sign,
)

logger = logging.getLogger(__name__)

USER_AGENT = "binome-notifications/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoint:
    """Where a receiver listens, and the secret shared with it alone."""

    receiver_id: str
    url: str
    secret: bytes = field(repr=False)


def _utc_now() -> datetime:
    return datetime.now(UTC)


RETRY_AFTER_LIMIT = timedelta(days=7)
"""The longest wait a receiver's Retry-After imposes: a longer one (or a date in year 9999,
which would overflow the next attempt's time) is read as this."""

_MAX_SECONDS_DIGITS = 9  # 31 years of seconds: beyond the limit anyway, and cheap to convert


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date, at most :data:`RETRY_AFTER_LIMIT`; None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        if len(value) > _MAX_SECONDS_DIGITS:
            return RETRY_AFTER_LIMIT
        return min(timedelta(seconds=int(value)), RETRY_AFTER_LIMIT)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(max(timedelta(0), moment - now), RETRY_AFTER_LIMIT)


def signed_headers(webhook: OutgoingWebhook, *, secret: bytes, now: datetime) -> dict[str, str]:
    """The headers of a webhook request, its signature made at ``now``."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(webhook.body, secret=secret, timestamp=int(now.timestamp())),
        DELIVERY_ID_HEADER: webhook.delivery_key,
        KIND_HEADER: webhook.kind.value,
    }


class WebhookSender:
    """Posts signed JSON to the receiver a webhook is addressed to.

    Each attempt is signed afresh (new timestamp); the delivery id header stays the delivery
    key, so a receiver can drop a duplicate after a crash between send and record.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        endpoints: Mapping[str, WebhookEndpoint],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = client
        self._endpoints = dict(endpoints)
        self._clock = clock

    async def send(self, webhook: OutgoingWebhook) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures, returns their meaning."""
        endpoint = self._endpoints.get(webhook.receiver_id)
        if endpoint is None:
            return AttemptOutcome(
                outcome=OutcomeClass.PERMANENT, signal=None, detail="unknown receiver"
            )
        now = self._clock()
        headers = signed_headers(webhook, secret=endpoint.secret, now=now)
        try:
            response = await self._client.post(endpoint.url, content=webhook.body, headers=headers)
        except httpx.TimeoutException as error:
            outcome = AttemptOutcome.of(TimedOut(), type(error).__name__)
        except httpx.TransportError as error:
            outcome = AttemptOutcome.of(ConnectionFailed(), type(error).__name__)
        else:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
            outcome = AttemptOutcome.of(
                HttpReply(response.status_code, retry_after), f"http {response.status_code}"
            )
        log = logger.info if outcome.delivered else logger.warning
        log(
            "webhook attempt receiver=%s kind=%s key=%s outcome=%s detail=%s",
            webhook.receiver_id,
            webhook.kind.value,
            webhook.delivery_key,
            outcome.outcome.value,
            outcome.detail,
        )
        return outcome
