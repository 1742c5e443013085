"""Service processes on the real stack for the hostile HTTP suites, started once per module
(many small requests, one platform), and the means to judge each answer and count effects.

An answer to a hostile request must be a clear refusal: a 4xx, never a 500; a page or JSON
body saying why in French and English; no header carrying what the request sent; and
nothing recorded. Effects are counted in the service's own tables, per tenant: the links
marked used, the events in its outbox (what would reach Kafka), the messages handled.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.platform import (
    DatabaseTemplate,
    Kafka,
    ProvisionedDatabase,
    ServiceProcess,
    create_test_database,
    create_topics,
    delete_topics,
    drop_test_database,
    free_port,
    service_env,
)

_TENANT_HEADER = "header_values[array_position(header_names, 'ce_tenantid')]"
EFFECTS: Mapping[str, str] = {
    "links used": "SELECT count(*) FROM action_links_used WHERE tenant_id = $1",
    "events": f"SELECT count(*) FROM outbox WHERE {_TENANT_HEADER} = convert_to($1, 'UTF8')",
}
"""What one tenant's valid click leaves in the owning service (``$1``: the tenant)."""
HANDLED = "SELECT count(*) FROM processed_messages"

TRACEBACK_MARKS = ("Traceback", "Exception occurred while processing request")


@dataclass(frozen=True)
class HttpStage:
    database: ProvisionedDatabase
    kafka: Kafka
    services: Mapping[str, ServiceProcess]

    async def effects(self, service: str, tenants: Sequence[str]) -> dict[str, int]:
        """Every counted effect in ``service``, per tenant, and the messages it handled."""
        conn = await self.database.connect(service)
        try:
            counted = {"handled": int(await conn.fetchval(HANDLED))}
            for tenant in tenants:
                for name, query in EFFECTS.items():
                    counted[f"{tenant}: {name}"] = int(await conn.fetchval(query, tenant))
        finally:
            await conn.close()
        return counted

    def tracebacks(self) -> list[str]:
        """Log lines of any service that show a request failing with a stack trace."""
        found = []
        for process in self.services.values():
            text = process.log_path.read_text(errors="replace") if process.log_path.exists() else ""
            found += [line for line in text.splitlines() if line.startswith(TRACEBACK_MARKS)]
            found += [line for line in text.splitlines() if TRACEBACK_MARKS[1] in line]
        return found


@asynccontextmanager
async def http_stage(
    *,
    template: DatabaseTemplate,
    bootstrap: str,
    directory: Path,
    services: Mapping[str, Mapping[str, str]],
) -> AsyncIterator[HttpStage]:
    """A database and topics of their own, and one process per service (its extra settings
    given), ready; all removed afterwards."""
    database = await create_test_database(template)
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(bootstrap, prefix)
    kafka = Kafka(bootstrap, prefix)
    await kafka.start()
    processes: dict[str, ServiceProcess] = {}
    try:
        for name, extra in services.items():
            port = free_port()
            env = service_env(
                name=name, database=database, bootstrap=bootstrap, prefix=prefix, port=port
            )
            process = ServiceProcess(
                name=name, env=env, port=port, log_path=directory / f"{name}.log"
            )
            process.start(**extra)
            processes[name] = process
        await asyncio.gather(*(process.wait_ready() for process in processes.values()))
        yield HttpStage(database=database, kafka=kafka, services=processes)
    finally:
        for process in processes.values():
            process.kill()
        await kafka.stop()
        await delete_topics(bootstrap, prefix)
        await drop_test_database(database)


_OUTCOME = re.compile(r'data-outcome="([a-z0-9_]+)"')


def outcome(page: str) -> str:
    """What an action page says happened (``(form)`` for the form shown again)."""
    found = _OUTCOME.search(page)
    return found.group(1) if found else "(form)"
