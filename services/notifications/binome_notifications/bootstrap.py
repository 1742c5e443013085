"""The notifications service's composition root: settings, subscriptions, handlers, jobs."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Any, ClassVar

import asyncpg
import httpx
from faststream.asgi import AsgiResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from binome_notifications.actions import notification_actions
from binome_notifications.adapters import personal_data
from binome_notifications.adapters.action_links import SignedActionLinks
from binome_notifications.adapters.deliveries import PostgresDeliveries
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.adapters.smtp import SmtpEmailSender, SmtpSecurity, SmtpSettings
from binome_notifications.adapters.webhooks import WebhookEndpoint, WebhookSender
from binome_notifications.domain.model import HR_KINDS, NotificationKind
from binome_notifications.domain.policy import RateLimiter, RetryPolicy
from binome_notifications.domain.sending import DELIVER_JOB
from binome_notifications.handlers import MessageHandlers
from binome_notifications.sending import Dispatcher, EmailSender, WebhookPoster
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts import action_names
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.notifications_events import NOTIFICATIONS_EVENT_TYPES
from binome_shared.contracts.privacy_events import ErasureCompleted
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.contracts.values import Language
from binome_shared.db.migrations import service_migrations
from binome_shared.messaging.outbox import Outbox
from binome_shared.runtime.action_links import action_signer_from
from binome_shared.runtime.personal_data import PATH as PERSONAL_DATA
from binome_shared.runtime.personal_data import PersonalDataEndpoint
from binome_shared.runtime.postgres_tls import asyncpg_connection
from binome_shared.runtime.service import (
    Caller,
    RunningService,
    ServiceDefinition,
    json_response,
)
from binome_shared.runtime.settings import ServiceSettings, local_database_url

NAME = "notifications"


class WebhookSubscriberSettings(BaseModel):
    """One webhook receiver, as configured in ``BINOME_WEBHOOKS`` (a JSON list)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, description="Receiver id, e.g. `hr-platform`.")
    url: str = Field(pattern=r"^https?://", description="Where to POST.")
    secret: SecretStr = Field(description="HMAC-SHA256 key shared with this receiver alone.")
    tenants: list[str] | None = Field(
        default=None,
        description="Tenants it follows; null means every tenant (name them when the"
        " deployment serves several: programme ids are only unique within a tenant).",
    )
    programmes: list[str] | None = Field(
        default=None, description="Programme ids it follows; null means every programme."
    )
    kinds: list[NotificationKind] | None = Field(
        default=None, description="Kinds it receives; null means the HR kinds."
    )
    language: Language | None = Field(default=None, description="Language of titles.")


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service (``BINOME_*`` environment variables)."""

    signs_action_links: ClassVar[bool] = True  # its e-mails carry them (docs/actions.md)
    serves_action_links: ClassVar[bool] = True  # unsubscribe and preferences
    action_link_owners: ClassVar[frozenset[str]] = frozenset(
        {action_names.PAIRING, action_names.SESSIONS, action_names.NOTIFICATIONS}
    )
    """The services whose actions its messages link to (production needs each one's https
    base URL, ``action_link_base_urls``)."""

    database_url: str = Field(default=local_database_url(NAME))
    http_port: int = Field(default=8003)
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server (relay) host.")
    smtp_port: int = Field(default=2525, description="SMTP port (587 STARTTLS, 465 TLS).")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade with STARTTLS (true in production; the sink has none)."
    )
    smtp_tls: bool = Field(default=False, description="Implicit TLS from the first byte (465).")
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    smtp_from: str = Field(default="binome@example.org", description="Sender address.")
    smtp_from_name: str = Field(default="Binôme", description="Sender display name.")
    smtp_ca_file: str | None = Field(default=None, description="CA bundle for a private CA.")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Per SMTP attempt.")
    public_base_url: str = Field(
        default="http://localhost:8080", description="Base of the links written in messages."
    )
    action_link_base_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Where each service's action pages are reached, JSON by service name "
        '(`{"sessions": "https://…"}`); a service not listed: `public_base_url`.',
    )
    webhooks: list[WebhookSubscriberSettings] = Field(
        default_factory=list,
        description='Webhook receivers, JSON: [{"id", "url", "secret", "tenants", "programmes",'
        ' "kinds"}].',
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Per HTTP attempt.")
    delivery_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First retry delay; doubles each attempt (jittered)."
    )
    delivery_retry_max_seconds: float = Field(default=3600.0, gt=0, description="Delay cap.")
    delivery_max_attempts: int = Field(default=8, ge=1, description="Attempts before giving up.")
    rate_per_recipient_burst: int = Field(
        default=10, ge=1, description="E-mails to one address at once (per replica)."
    )
    rate_per_recipient_per_hour: float = Field(
        default=30.0, gt=0, description="Then at most this many per hour to one address."
    )
    delivery_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Sends in flight at once per replica (1: in turn); as many SMTP connections"
        " are kept open and reused.",
    )
    rate_per_receiver_burst: int = Field(default=50, ge=1, description="Webhook burst.")
    rate_per_receiver_per_second: float = Field(
        default=5.0, gt=0, description="Webhook requests per second to one receiver."
    )


def signed_action_links(settings: NotificationsSettings) -> SignedActionLinks | None:
    """The signer of the messages' one-click links; None without a signing key (the
    production guard refuses that): messages then carry their plain links only."""
    signer = action_signer_from(settings)
    if signer is None:
        return None
    return SignedActionLinks(
        signer=signer,
        base_url=settings.public_base_url,
        base_urls=settings.action_link_base_urls,
        unsubscribe_lifetime_seconds=settings.action_links_unsubscribe_lifetime_days * 86400,
    )


def receiver_subscriptions(settings: NotificationsSettings) -> list[ReceiverSubscription]:
    """Who receives which webhooks, from settings."""
    return [
        ReceiverSubscription(
            receiver_id=receiver.id,
            programmes=None if receiver.programmes is None else frozenset(receiver.programmes),
            tenants=None if receiver.tenants is None else frozenset(receiver.tenants),
            kinds=HR_KINDS if receiver.kinds is None else frozenset(receiver.kinds),
            language=receiver.language,
        )
        for receiver in settings.webhooks
    ]


def smtp_settings(settings: NotificationsSettings) -> SmtpSettings:
    """The SMTP sender's settings."""
    if settings.smtp_tls:
        security = SmtpSecurity.TLS
    elif settings.smtp_starttls:
        security = SmtpSecurity.STARTTLS
    else:
        security = SmtpSecurity.NONE
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender_address=settings.smtp_from,
        sender_name=settings.smtp_from_name,
        security=security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        ca_file=settings.smtp_ca_file,
        timeout_seconds=settings.smtp_timeout_seconds,
        message_id_domain=settings.smtp_from.rpartition("@")[2] or "binome.local",
        max_connections=settings.delivery_concurrency,
    )


def retry_policy(settings: NotificationsSettings) -> RetryPolicy:
    """Backoff between attempts of one delivery."""
    return RetryPolicy(
        base_delay=timedelta(seconds=settings.delivery_retry_base_seconds),
        max_delay=timedelta(seconds=settings.delivery_retry_max_seconds),
        max_attempts=settings.delivery_max_attempts,
    )


class _LazyWebhookSender:
    """An httpx client needs a running event loop: made on the first webhook."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self._endpoints = {
            receiver.id: WebhookEndpoint(
                receiver_id=receiver.id,
                url=receiver.url,
                secret=receiver.secret.get_secret_value().encode(),
            )
            for receiver in settings.webhooks
        }
        self._timeout = settings.webhook_timeout_seconds
        self._sender: WebhookSender | None = None

    async def __call__(self) -> WebhookPoster:
        if self._sender is None:
            client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
            self._sender = WebhookSender(client=client, endpoints=self._endpoints)
        return self._sender


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The sending pool sets no session state: skip asyncpg's reset query on each release
    (an open transaction is still rolled back by the pool)."""


def dispatcher(
    settings: NotificationsSettings, *, source: str, email_sender: SmtpEmailSender | None = None
) -> Dispatcher:
    """The ``deliver`` job with real SMTP, real HTTP and its own small connection pool."""
    smtp = email_sender or SmtpEmailSender(settings=smtp_settings(settings))

    def email() -> EmailSender:
        return smtp

    async def pool() -> asyncpg.Pool:
        return await asyncpg.create_pool(
            **asyncpg_connection(settings, settings.database_url),
            min_size=1,
            max_size=2,
            reset=_keep_session,
            server_settings={"search_path": NAME, "application_name": "binome-notifications-send"},
        )

    return Dispatcher(
        pool_factory=pool,
        outbox=Outbox(topic_prefix=settings.topic_prefix),
        source=source,
        email_sender=email,
        webhook_sender=_LazyWebhookSender(settings),
        retry_policy=retry_policy(settings),
        per_recipient=RateLimiter(
            capacity=settings.rate_per_recipient_burst,
            refill_per_second=settings.rate_per_recipient_per_hour / 3600,
        ),
        per_receiver=RateLimiter(
            capacity=settings.rate_per_receiver_burst,
            refill_per_second=settings.rate_per_receiver_per_second,
        ),
        rng=random.Random(),
        concurrency=settings.delivery_concurrency,
    )


async def delivery_counts(
    runtime: RunningService,
    caller: Caller,
    scope: Mapping[str, Any],  # noqa: ARG001 - no query
) -> AsgiResponse:
    """``GET /deliveries``: the caller's tenant's deliveries by kind and status (counts only,
    no personal data; the runtime answers it only with a valid bearer token)."""
    async with runtime.pool.acquire() as conn:
        counts = await PostgresDeliveries(conn).counts(caller.tenant_id)
    return json_response({"deliveries": [asdict(count) for count in counts]})


def definition(settings: ServiceSettings | None = None) -> ServiceDefinition:
    """Everything the notifications service reads, does and writes."""
    own = settings if isinstance(settings, NotificationsSettings) else NotificationsSettings()
    handlers = MessageHandlers(
        renderer=NotificationRenderer(
            public_base_url=own.public_base_url,
            organizer_email=own.smtp_from,
            organizer_name=own.smtp_from_name,
            action_links=signed_action_links(own),
        ),
        receivers=receiver_subscriptions(own),
    )
    source = f"/binome/{NAME}"
    smtp = SmtpEmailSender(settings=smtp_settings(own))
    sender = dispatcher(own, source=source, email_sender=smtp)
    return ServiceDefinition(
        name=NAME,
        description=(
            "Tells people what to do next: e-mail and signed webhooks, in French and English."
        ),
        subscriptions=(HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS),
        routes=handlers.routes(),
        publishes=(*NOTIFICATIONS_EVENT_TYPES, ErasureCompleted),
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_notifications")),
        jobs={DELIVER_JOB: sender.run_job},
        shutdown_hooks=(sender.close, smtp.close),
        programme_data_routes={
            "/deliveries": delivery_counts,
            PERSONAL_DATA: PersonalDataEndpoint(
                service=NAME, kinds=personal_data.KINDS, gather=personal_data.personal_data
            ),
        },
        actions=notification_actions(),
    )
