"""The notifications service's composition root: settings, subscriptions, handlers."""

from __future__ import annotations

from pydantic import Field

from binome_notifications import handlers
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.notifications_events import NOTIFICATIONS_EVENT_TYPES
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.db.migrations import service_migrations
from binome_shared.runtime.service import ServiceDefinition
from binome_shared.runtime.settings import ServiceSettings, local_database_url

NAME = "notifications"


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service (``BINOME_*`` environment variables)."""

    database_url: str = Field(default=local_database_url(NAME))
    http_port: int = Field(default=8003)


def definition(settings: ServiceSettings | None = None) -> ServiceDefinition:  # noqa: ARG001
    """Everything the notifications service reads, does and writes."""
    return ServiceDefinition(
        name=NAME,
        description=(
            "Tells people what to do next: e-mail and signed webhooks, in French and English."
        ),
        subscriptions=(HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS),
        routes={PairFormed: handlers.on_pair_formed},
        publishes=NOTIFICATIONS_EVENT_TYPES,
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_notifications")),
    )
