"""A consumer service for the messaging benchmark: the shared runtime, one trivial effect.

It runs exactly the production path — FastStream batch subscriber, ReliableConsumer,
processed-message rows, offsets committed after the transaction — with a handler that
inserts one row, so the benchmark measures the messaging core, not a service's domain.
``BENCH_HANDLER=single`` routes PairFormed to a one-message handler (a round trip to
Postgres per message); ``batched`` to a :class:`Batched` handler (one ``executemany`` per
run of messages). Started by benchmarks/messaging_throughput.py as a process of its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from binome_sessions.bootstrap import SessionsSettings
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.db.migrations import service_migrations
from binome_shared.messaging.consumer import Batched, Route, UnitOfWork
from binome_shared.runtime.observability import configure_logging
from binome_shared.runtime.process import run_service
from binome_shared.runtime.service import ServiceDefinition, build_app

_RECORD = "INSERT INTO bench_effects (event_id, pair_id) VALUES ($1, $2)"


async def record(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    await uow.conn.execute(_RECORD, envelope.id, envelope.data.pair_id)


async def record_many(envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
    await uow.conn.executemany(
        _RECORD, [(envelope.id, envelope.data.pair_id) for envelope in envelopes]
    )


def main() -> None:
    settings = SessionsSettings()
    configure_logging(service="bench", level=settings.log_level, json_format=False)
    handlers: dict[str, Route] = {"single": record, "batched": Batched(record_many)}
    definition = ServiceDefinition(
        name="sessions",  # its schema and role; the benchmark creates bench_effects there
        subscriptions=(PAIRING_EVENTS,),
        routes={PairFormed: handlers[os.environ.get("BENCH_HANDLER", "single")]},
        publishes=(),
        registry=CATALOGUE,
        migrations=tuple(service_migrations("binome_sessions")),
    )
    app, runtime = build_app(definition, settings)
    raise SystemExit(run_service(app, runtime, settings))


if __name__ == "__main__":
    main()
