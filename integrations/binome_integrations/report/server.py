"""The programme report served over HTTP: ``binome-report serve``.

``GET /programmes/{programme_id}/report?lang=fr|en`` returns the self-contained HTML page,
``GET /programmes/{programme_id}/report.json`` its figures (:class:`ProgrammeReport`).
Both need the same bearer JWT as the services' programme-data endpoints
(:mod:`binome_shared.runtime.http_auth`): the token's tenant is the only tenant read, so a
programme of another tenant is simply not found (404, the same answer as an unknown one).

The report is a read model of what the services publish, nothing else: one background
reader per process (:class:`~.live.LiveReports`, no consumer group, nothing committed)
reads the report's topics once from their beginning, then tails them, folding every record
into its (tenant, programme)'s history (:mod:`.read_model`); a request builds the report
from that state, as of the last fact folded. ``/ready`` answers 503 until the reader has
caught up with the topics as they were at start; a request before that gets 503
``catching_up``. Dead letters are left out: their topics are shared by all tenants, so their
counts are an operator's figure, not a tenant's.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol, runtime_checkable
from urllib.parse import unquote

from faststream.asgi import AsgiResponse
from faststream.asgi.types import Receive, Scope, Send
from pydantic import Field

from binome_integrations.report.html import render_html
from binome_integrations.report.live import LiveReports, NotCaughtUpError
from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.text import is_identifier
from binome_shared.contracts.values import Language
from binome_shared.runtime.http_auth import (
    TokenRejectedError,
    TokenVerifier,
    caller_of_request,
)
from binome_shared.runtime.http_input import (
    InputRefusedError,
    not_found,
    query_fields,
    read_only_method,
    single,
)
from binome_shared.runtime.kafka_security import aiokafka_security
from binome_shared.runtime.production_guard import (
    KafkaHttpClientSettings,
    UnsafeProductionError,
    client_problems,
)
from binome_shared.runtime.service import json_response, negotiated, unauthorized

_UNKNOWN_PROGRAMME: Final = InputRefusedError(
    404,
    "unknown_programme",
    fr="Programme inconnu : aucun programme de ce nom n'a été publié pour vous.",
    en="Unknown programme: none of this name was published for you.",
)
_CATCHING_UP: Final = {
    "error": "the report is still reading the platform's events, try again shortly / "
    "le rapport lit encore les événements de la plateforme, réessayez sous peu",
    "code": "catching_up",
}


def _not_an_id() -> InputRefusedError:
    return InputRefusedError(
        400,
        "invalid_programme_id",
        fr="l'identifiant de programme n'est pas valide",
        en="the programme id is not a valid id",
    )


class ReportServerSettings(KafkaHttpClientSettings):
    """Where the report server reads the events, who may call it, and where it listens."""

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", description="Kafka bootstrap servers, comma-separated."
    )
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (as the services' setting)."
    )
    http_host: str = Field(default="127.0.0.1", description="Address the server binds.")
    http_port: int = Field(default=8004, description="Port of the report endpoints.")
    report_fresh_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a request waits for the facts published before it to be folded "
        "(0: answer from the state as it is).",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses to start with any unsafe setting (all listed at once).",
    )


class ReportSource(Protocol):
    """A programme's report as the published events tell it, or None when the tenant has
    no such programme."""

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None: ...


@runtime_checkable
class LiveSource(ReportSource, Protocol):
    """A source with a life of its own (:class:`LiveReports`): started and stopped with the
    server, and probed by ``/health`` and ``/ready``."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def alive(self) -> bool: ...

    @property
    def ready(self) -> bool: ...

    def status(self) -> dict[str, Any]: ...


def refuse_unsafe_production(settings: ReportServerSettings) -> None:
    """In production, :class:`UnsafeProductionError` listing every unsafe setting (the
    services' Kafka, password and bearer-token checks)."""
    if settings.environment == "production" and (problems := client_problems(settings)):
        raise UnsafeProductionError(problems)


def live_reports(settings: ReportServerSettings) -> LiveReports:
    """The reader the settings describe (not started)."""
    return LiveReports(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        client_options=aiokafka_security(settings),
        fresh_wait_seconds=settings.report_fresh_wait_seconds,
    )


class ReportApp:
    """The ASGI application: ``/health``, ``/ready`` and the two report endpoints."""

    def __init__(self, *, source: ReportSource, verifier: TokenVerifier | None) -> None:
        self._source = source
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            response = await self._response(scope)
            await response(scope, receive, send)

    async def _response(self, scope: Scope) -> AsgiResponse:
        if str(scope["path"]) in ("/health", "/ready"):
            return self._probe(str(scope["path"]))
        try:
            programme_id, form, language = _report_request(scope)
            caller = await caller_of_request(scope, self._verifier)
            report = await self._source.report(caller.tenant_id, programme_id)
        except InputRefusedError as refusal:
            return negotiated(scope, refusal)
        except TokenRejectedError as rejection:
            return unauthorized(rejection)
        except NotCaughtUpError:
            return json_response(_CATCHING_UP, 503)
        if report is None:
            return negotiated(scope, _UNKNOWN_PROGRAMME)
        return _answer(report, form, language)

    def _probe(self, path: str) -> AsgiResponse:
        """``/health``: the reading loop runs; ``/ready``: and it has caught up."""
        source = self._source
        if not isinstance(source, LiveSource):
            return json_response({"status": "ok"})
        healthy = source.alive and (path == "/health" or source.ready)
        status = "ok" if healthy else ("catching_up" if source.alive else "stopped")
        return json_response({"status": status, **source.status()}, 200 if healthy else 503)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Start the reader with the server, stop it on shutdown (SIGTERM, SIGINT)."""
        live = self._source if isinstance(self._source, LiveSource) else None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if live is not None:
                    live.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if live is not None:
                    await live.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _report_request(scope: Scope) -> tuple[str, str, Language]:
    """What a request asks: the programme, the form (``html`` or ``json``), the language;
    refused (:class:`InputRefusedError`) when it asks nothing this server answers."""
    programme_id, form = _report_path(scope)
    if programme_id is None:
        raise not_found()
    if scope["method"] not in ("GET", "HEAD"):
        raise read_only_method()
    return programme_id, form, _language(scope)


def _report_path(scope: Scope) -> tuple[str | None, str]:
    """(programme id, ``html`` or ``json``) for a report path, (None, "") for anything else.

    Read from the raw path, split first and percent-decoded once: ids are opaque and may
    hold a ``/`` or a ``%`` (``/programmes/a%2Fb/report`` is programme ``a/b``). The
    decoded ``path`` would cut such an id in two, and decoding it again would turn a
    literal ``%41`` into ``A``. An id that is not UTF-8 or not an identifier is refused
    (400) before any state is looked up for it."""
    raw = scope.get("raw_path") or str(scope["path"]).encode()
    parts = bytes(raw).split(b"?")[0].strip(b"/").split(b"/")
    if len(parts) != 3 or parts[0] != b"programmes" or parts[2] not in (b"report", b"report.json"):
        return None, ""
    try:
        programme_id = unquote(parts[1].decode("ascii"), errors="strict")
    except UnicodeError as error:
        raise _not_an_id() from error
    if not is_identifier(programme_id):
        raise _not_an_id()
    return programme_id, "json" if parts[2] == b"report.json" else "html"


def _language(scope: Scope) -> Language:
    wanted = single(query_fields(scope), "lang", "fr")
    return Language.EN if wanted == "en" else Language.FR


def _answer(report: ProgrammeReport, form: str, language: Language) -> AsgiResponse:
    if form == "json":
        body = report.model_dump_json().encode()
        content_type = "application/json; charset=utf-8"
    else:
        body = render_html(report, language).encode()
        content_type = "text/html; charset=utf-8"
    headers = {
        "content-type": content_type,
        "cache-control": "private, no-store",
        "content-language": str(language),
        "x-content-type-options": "nosniff",
    }
    return AsgiResponse(body, 200, headers)
