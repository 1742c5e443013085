"""A consumer service for the messaging benchmark: the shared runtime, one trivial effect.

It runs exactly the production path — FastStream batch subscriber, ReliableConsumer,
processed-message rows, offsets committed after the transaction — with a handler that
inserts one row, so the benchmark measures the messaging core, not a service's domain.
Started by benchmarks/messaging_throughput.py as a process of its own.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from binome_sessions.bootstrap import SessionsSettings
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.db.migrations import service_migrations
from binome_shared.messaging.consumer import UnitOfWork
from binome_shared.runtime.observability import configure_logging
from binome_shared.runtime.service import ServiceDefinition, build_app

_RECORD = "INSERT INTO bench_effects (event_id, pair_id) VALUES ($1, $2)"


async def record(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    await uow.conn.execute(_RECORD, envelope.id, envelope.data.pair_id)


def main() -> None:
    settings = SessionsSettings()
    configure_logging(service="bench", level=settings.log_level, json_format=False)
    definition = ServiceDefinition(
        name="sessions",  # its schema and role; the benchmark creates bench_effects there
        subscriptions=(PAIRING_EVENTS,),
        routes={PairFormed: record},
        publishes=(),
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_sessions")),
    )
    app, _ = build_app(definition, settings)
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
