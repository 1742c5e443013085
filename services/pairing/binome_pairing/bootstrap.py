"""The pairing service's composition root: settings, subscriptions, handlers."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from binome_pairing.actions import ConsentActions
from binome_pairing.adapters import personal_data
from binome_pairing.adapters.solver_pool import SolverPool
from binome_pairing.consent import CONSENT_DEADLINES, CONSENT_DEADLINES_EVERY
from binome_pairing.handlers import MessageHandlers
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PAIRING_EVENT_TYPES
from binome_shared.contracts.privacy_events import ErasureCompleted
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.db.migrations import service_migrations
from binome_shared.runtime.personal_data import PATH as PERSONAL_DATA
from binome_shared.runtime.personal_data import PersonalDataEndpoint
from binome_shared.runtime.service import PeriodicJob, ServiceDefinition
from binome_shared.runtime.settings import ServiceSettings, local_database_url

NAME = "pairing"


class PairingSettings(ServiceSettings):
    """Settings of the pairing service (``BINOME_*`` environment variables)."""

    serves_action_links: ClassVar[bool] = True  # accept / decline a pair (docs/actions.md)

    database_url: str = Field(default=local_database_url(NAME))
    http_port: int = Field(default=8001)


def definition(settings: ServiceSettings | None = None) -> ServiceDefinition:  # noqa: ARG001
    """Everything the pairing service reads, does and writes.

    Rounds are solved in a worker process (see :mod:`binome_pairing.adapters.solver_pool`),
    started with the first round, stopped when the service stops. A periodic job calls off
    the pairs whose members did not both accept in time (:mod:`binome_pairing.consent`).
    """
    solver = SolverPool()
    handlers = MessageHandlers(solver=solver.solve)
    return ServiceDefinition(
        name=NAME,
        description="Forms globally optimal, explained mentor/mentee pairs from HR's programmes.",
        subscriptions=(HR_COMMANDS,),
        routes=handlers.routes(),
        shutdown_hooks=(solver.close,),
        publishes=(*PAIRING_EVENT_TYPES, ErasureCompleted),
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_pairing")),
        jobs={CONSENT_DEADLINES: handlers.expire_consents},
        periodic_jobs=(PeriodicJob(CONSENT_DEADLINES, CONSENT_DEADLINES_EVERY),),
        actions=ConsentActions().kinds(),
        programme_data_routes={
            PERSONAL_DATA: PersonalDataEndpoint(
                service=NAME, kinds=personal_data.KINDS, gather=personal_data.personal_data
            )
        },
    )
