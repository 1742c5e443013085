"""The programme report served over HTTP: ``binome-report serve``.

``GET /programmes/{programme_id}/report?lang=fr|en`` returns the self-contained HTML page,
``GET /programmes/{programme_id}/report.json`` its figures (:class:`ProgrammeReport`).
Both need the same bearer JWT as the services' programme-data endpoints
(:mod:`binome_shared.runtime.http_auth`): the token's tenant is the only tenant read, so a
programme of another tenant is simply not found (404, the same answer as an unknown one).

The report is a read model of what the services publish, nothing else: the programme's
envelopes are replayed from the report's topics (:class:`ProgrammeEvents`, no consumer
group, nothing committed) and folded in memory (:mod:`.history`). A built report is kept
for ``BINOME_REPORT_CACHE_SECONDS`` and at most :data:`CACHED_REPORTS` programmes, and
concurrent requests for one programme share one replay, so a busy dashboard costs one
replay per programme and period. Dead letters are left out: their topics are shared by all
tenants, so their counts are an operator's figure, not a tenant's.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Final, Protocol
from urllib.parse import unquote

from faststream.asgi import AsgiResponse
from faststream.asgi.types import Receive, Scope, Send
from pydantic import Field, TypeAdapter, ValidationError

from binome_integrations.report.build import programme_report
from binome_integrations.report.events import ProgrammeEvents
from binome_integrations.report.history import programme_history
from binome_integrations.report.html import render_html
from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.text import Identifier
from binome_shared.contracts.values import Language
from binome_shared.runtime.http_auth import (
    Caller,
    HttpAuthSettings,
    TokenRejectedError,
    TokenVerifier,
    bearer_token,
)
from binome_shared.runtime.http_input import (
    InputRefusedError,
    query_fields,
    read_only_method,
    single,
)
from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security
from binome_shared.runtime.service import json_response, refused, unauthorized

CACHED_REPORTS: Final = 256
"""Programmes whose last report is kept in memory (least recently asked dropped first)."""

_NOT_FOUND: Final = {
    "error": "unknown programme / programme inconnu",
    "code": "unknown_programme",
}
_PROGRAMME_ID: TypeAdapter[str] = TypeAdapter(Identifier)


def _not_an_id() -> InputRefusedError:
    return InputRefusedError(
        400,
        "invalid_programme_id",
        fr="l'identifiant de programme n'est pas valide",
        en="the programme id is not a valid id",
    )


class ReportServerSettings(KafkaSecuritySettings, HttpAuthSettings):
    """Where the report server reads the events, who may call it, and where it listens."""

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", description="Kafka bootstrap servers, comma-separated."
    )
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (as the services' setting)."
    )
    http_host: str = Field(default="127.0.0.1", description="Address the server binds.")
    http_port: int = Field(default=8004, description="Port of the report endpoints.")
    report_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a programme's report is reused before its events are replayed "
        "again (0: every request replays).",
    )


class ReportSource(Protocol):
    """A programme's report as the published events tell it, or None when the tenant has
    no such programme."""

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None: ...


class ReplayedReports:
    """Reports built by replaying the programme's envelopes from Kafka, kept for a while."""

    def __init__(self, settings: ReportServerSettings) -> None:
        self._settings = settings
        self._built: OrderedDict[tuple[str, str], tuple[float, ProgrammeReport | None]] = (
            OrderedDict()
        )
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        key = (tenant_id, programme_id)
        async with self._locks.setdefault(key, asyncio.Lock()):
            kept = self._built.get(key)
            fresh_for = self._settings.report_cache_seconds
            if kept is not None and time.monotonic() - kept[0] < fresh_for:
                self._built.move_to_end(key)
                return kept[1]
            built = await self._replay(tenant_id, programme_id)
            self._built[key] = (time.monotonic(), built)
            self._built.move_to_end(key)
            while len(self._built) > CACHED_REPORTS:
                dropped, _ = self._built.popitem(last=False)
                self._locks.pop(dropped, None)
            return built

    async def _replay(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        envelopes = await ProgrammeEvents(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            topic_prefix=self._settings.topic_prefix,
            tenant_id=tenant_id,
            programme_id=programme_id,
            client_options=aiokafka_security(self._settings),
        ).collect()
        history = programme_history(envelopes)
        if history.definition is None:
            return None
        # As of the last fact published: a platform on a simulated clock (the demo) shows
        # its own time, and the page says how fresh the figures are.
        as_of = max((envelope.time for envelope in envelopes), default=datetime.now(UTC))
        return programme_report(history, programme_id=programme_id, generated_at=as_of)


class ReportApp:
    """The ASGI application: ``/health`` and the two report endpoints."""

    def __init__(self, *, source: ReportSource, verifier: TokenVerifier | None) -> None:
        self._source = source
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            response = await self._response(scope)
            await response(scope, receive, send)

    async def _response(self, scope: Scope) -> AsgiResponse:
        if str(scope["path"]) in ("/health", "/ready"):
            return json_response({"status": "ok"})
        try:
            programme_id, form, language = _report_request(scope)
            caller = await self._caller(scope)
        except InputRefusedError as refusal:
            return refused(refusal)
        except TokenRejectedError as rejection:
            return unauthorized(rejection)
        report = await self._source.report(caller.tenant_id, programme_id)
        if report is None:
            return json_response(_NOT_FOUND, 404)
        return _answer(report, form, language)

    async def _caller(self, scope: Scope) -> Caller:
        token = bearer_token(scope)
        if self._verifier is None:
            raise TokenRejectedError("no signing key configured / aucune clé configurée")
        return await self._verifier.caller_of(token)


def _report_request(scope: Scope) -> tuple[str, str, Language]:
    """What a request asks: the programme, the form (``html`` or ``json``), the language;
    refused (:class:`InputRefusedError`) when it asks nothing this server answers."""
    programme_id, form = _report_path(scope)
    if programme_id is None:
        raise InputRefusedError(404, "not_found", fr="introuvable", en="not found")
    if scope["method"] not in ("GET", "HEAD"):
        raise read_only_method()
    return programme_id, form, _language(scope)


def _report_path(scope: Scope) -> tuple[str | None, str]:
    """(programme id, ``html`` or ``json``) for a report path, (None, "") for anything else.

    Read from the raw path, split first and percent-decoded once: ids are opaque and may
    hold a ``/`` or a ``%`` (``/programmes/a%2Fb/report`` is programme ``a/b``). The
    decoded ``path`` would cut such an id in two, and decoding it again would turn a
    literal ``%41`` into ``A``. An id that is not UTF-8 or not an identifier is refused
    (400) before any event is replayed for it."""
    raw = scope.get("raw_path") or str(scope["path"]).encode()
    parts = bytes(raw).split(b"?")[0].strip(b"/").split(b"/")
    if len(parts) != 3 or parts[0] != b"programmes" or parts[2] not in (b"report", b"report.json"):
        return None, ""
    try:
        programme_id = unquote(parts[1].decode("ascii"), errors="strict")
        _PROGRAMME_ID.validate_python(programme_id)
    except (UnicodeError, ValidationError) as error:
        raise _not_an_id() from error
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


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
