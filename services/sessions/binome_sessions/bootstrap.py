"""The sessions service's composition root: settings, subscriptions, handlers."""

from __future__ import annotations

from pydantic import Field

from binome_sessions import handlers
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.sessions_messages import SESSIONS_EVENT_TYPES
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSION_COMMANDS
from binome_shared.db.migrations import service_migrations
from binome_shared.runtime.service import ServiceDefinition
from binome_shared.runtime.settings import ServiceSettings, local_database_url

NAME = "sessions"


class SessionsSettings(ServiceSettings):
    """Settings of the sessions service (``BINOME_*`` environment variables)."""

    database_url: str = Field(default=local_database_url(NAME))
    http_port: int = Field(default=8002)


def definition(settings: ServiceSettings | None = None) -> ServiceDefinition:  # noqa: ARG001
    """Everything the sessions service reads, does and writes."""
    return ServiceDefinition(
        name=NAME,
        description="Follows each pair through the programme's framed sessions.",
        subscriptions=(PAIRING_EVENTS, SESSION_COMMANDS),
        routes={PairFormed: handlers.on_pair_formed},
        publishes=SESSIONS_EVENT_TYPES,
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_sessions")),
    )
