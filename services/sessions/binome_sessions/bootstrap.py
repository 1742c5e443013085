"""The sessions service's composition root: settings, subscriptions, handlers, jobs, routes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from binome_sessions import http
from binome_sessions.actions import SessionActions
from binome_sessions.adapters import personal_data
from binome_sessions.adapters.repository import PostgresTracks
from binome_sessions.domain import DEFAULT_SUPPRESSION_THRESHOLD
from binome_sessions.handlers import MessageHandlers
from binome_sessions.jobs import (
    FOLLOW_UP,
    FOLLOW_UP_EVERY,
    PROGRESS_REPORT,
    PROGRESS_REPORT_EVERY,
    FollowUpJobs,
)
from binome_sessions.pulse_actions import PulseActions
from binome_sessions.storage import RepositoryFactory
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.privacy_events import ErasureCompleted
from binome_shared.contracts.sessions_messages import SESSIONS_EVENT_TYPES
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS, SESSION_COMMANDS
from binome_shared.db.migrations import service_migrations
from binome_shared.runtime.personal_data import PATH as PERSONAL_DATA
from binome_shared.runtime.personal_data import PersonalDataEndpoint
from binome_shared.runtime.service import PeriodicJob, ServiceDefinition
from binome_shared.runtime.settings import ServiceSettings, local_database_url

NAME = "sessions"


class SessionsSettings(ServiceSettings):
    """Settings of the sessions service (``BINOME_*`` environment variables)."""

    serves_action_links: ClassVar[bool] = True  # sessions, feedback, pulse (docs/actions.md)

    database_url: str = Field(default=local_database_url(NAME))
    http_port: int = Field(default=8002)
    progress_suppression_threshold: int = Field(
        default=DEFAULT_SUPPRESSION_THRESHOLD,
        ge=DEFAULT_SUPPRESSION_THRESHOLD,
        description="Smallest group shown in progress figures; never below the default.",
    )


def definition(
    settings: ServiceSettings | None = None, *, repository: RepositoryFactory = PostgresTracks
) -> ServiceDefinition:
    """Everything the sessions service reads, does and writes."""
    threshold = (
        settings.progress_suppression_threshold
        if isinstance(settings, SessionsSettings)
        else DEFAULT_SUPPRESSION_THRESHOLD
    )
    handlers = MessageHandlers(repository=repository)
    jobs = FollowUpJobs(
        repository=repository, suppression_threshold=threshold, report_every=PROGRESS_REPORT_EVERY
    )
    return ServiceDefinition(
        name=NAME,
        description="Follows each pair through the programme's framed sessions.",
        subscriptions=(PAIRING_EVENTS, SESSION_COMMANDS, HR_COMMANDS),
        routes=handlers.routes(),
        publishes=(*SESSIONS_EVENT_TYPES, ErasureCompleted),
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_sessions")),
        jobs={FOLLOW_UP: jobs.follow_up, PROGRESS_REPORT: jobs.progress_report},
        periodic_jobs=(
            PeriodicJob(FOLLOW_UP, FOLLOW_UP_EVERY),
            PeriodicJob(PROGRESS_REPORT, PROGRESS_REPORT_EVERY),
        ),
        actions=(
            *SessionActions(repository=repository).kinds(),
            *PulseActions(repository=repository).kinds(),
        ),
        programme_data_routes={
            http.PATH: http.ProgressEndpoint(
                repository=repository, suppression_threshold=threshold
            ),
            PERSONAL_DATA: PersonalDataEndpoint(
                service=NAME, kinds=personal_data.KINDS, gather=personal_data.personal_data
            ),
        },
    )
