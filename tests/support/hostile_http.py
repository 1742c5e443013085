"""Service processes on the real stack for the hostile HTTP suites, started once per module
(many small requests, one platform), and the means to judge each answer and count effects.

An answer to a hostile request must be a clear refusal: a 4xx, never a 500; a page or JSON
body saying why in French and English; no header carrying what the request sent; and
nothing recorded. Effects are counted in the service's own tables, per tenant: the links
marked used, the events in its outbox (what would reach Kafka), the messages handled.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.action_links import outcome
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
from tests.support.raw_http import RawAnswer, exchange, request_bytes

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
    given), ready; all removed afterwards. Whatever was sent, no request may have failed with
    a stack trace in any service's log (checked when the stage ends without an error)."""
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
        stage = HttpStage(database=database, kafka=kafka, services=processes)
        yield stage
        assert stage.tracebacks() == []
    finally:
        for process in processes.values():
            process.kill()
        await kafka.stop()
        await delete_topics(bootstrap, prefix)
        await drop_test_database(database)


# --- paths and methods no endpoint serves -----------------------------------------------------

_BROWSER = [(b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")]
_PROGRAM = [(b"Accept", b"application/json")]


@dataclass(frozen=True)
class Unrouted:
    """A request to a path or with a method no endpoint serves, and the refusal it gets:
    a page when it accepts ``text/html`` (a browser), else JSON, both bilingual."""

    raw: bytes
    status: int
    code: str
    page: bool


UNROUTED: Mapping[str, Unrouted] = {
    "an unknown path, from a browser": Unrouted(
        request_bytes(b"GET", b"/nope", headers=_BROWSER), 404, "not_found", page=True
    ),
    "an unknown path, from a program": Unrouted(
        request_bytes(b"GET", b"/nope", headers=_PROGRAM), 404, "not_found", page=False
    ),
    "an unknown path, no Accept": Unrouted(
        request_bytes(b"GET", b"/actions/"), 404, "not_found", page=False
    ),
    "markup and CR/LF in the path, from a browser": Unrouted(
        request_bytes(b"GET", b"/%3Cscript%3Ealert(1)%3C/script%3E%0D%0AX:1", headers=_BROWSER),
        404,
        "not_found",
        page=True,
    ),
    "a page refused with q=0": Unrouted(
        request_bytes(b"GET", b"/nope", headers=[(b"Accept", b"text/html;q=0, */*")]),
        404,
        "not_found",
        page=False,
    ),
    "POST on /health, from a browser": Unrouted(
        request_bytes(b"POST", b"/health", headers=_BROWSER), 405, "method_not_allowed", True
    ),
    "DELETE on /metrics, from a program": Unrouted(
        request_bytes(b"DELETE", b"/metrics", headers=_PROGRAM), 405, "method_not_allowed", False
    ),
}


def assert_refused_unrouted(answer: RawAnswer, expected: Unrouted) -> None:
    """The refusal is the one expected, says why in French and English, repeats nothing of
    the request and cannot be sniffed as another type."""
    assert answer.status == expected.status
    assert answer.header(b"x-content-type-options") == [b"nosniff"]
    if expected.status == 405:
        assert answer.header(b"allow") == [b"GET, HEAD"]
    if expected.page:
        assert answer.header(b"content-type") == [b"text/html; charset=utf-8"]
        assert outcome(answer.text) == expected.code
        assert '<html lang="fr">' in answer.text
        assert '<div lang="en">' in answer.text
    else:
        assert answer.header(b"content-type") == [b"application/json; charset=utf-8"]
        body = json.loads(answer.body)
        assert body["code"] == expected.code
        english, french = body["error"].split(" / ")
        assert "nothing was done" in english or "only GET" in english
        assert "rien n'a été fait" in french or "seule la méthode" in french
    assert "script" not in answer.text
    assert "X:1" not in answer.text


async def check_unrouted(port: int, case: str) -> None:
    """Send :data:`UNROUTED`'s ``case`` to the service on ``port`` and judge its answer."""
    expected = UNROUTED[case]
    assert_refused_unrouted(await exchange(port, expected.raw), expected)
