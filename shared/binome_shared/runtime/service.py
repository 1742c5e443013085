"""The one composition of a Binôme service process, shared by all three services.

A service is described by a :class:`ServiceDefinition` (what it subscribes to, which handler
takes which message, what it publishes); :func:`build_app` turns it into an ASGI application:
a FastStream ``KafkaBroker`` whose batch subscriber feeds the :class:`ReliableConsumer`, an
outbox relay, and ``/health``, ``/ready``, ``/metrics`` and ``/asyncapi.json``. The
:class:`ServiceRuntime` (``lifecycle``) starts and stops those parts; ``process`` runs the
whole under SIGTERM and SIGINT.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from faststream.asgi import AsgiResponse, get
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from binome_shared.messaging.consumer import Clock
from binome_shared.runtime import action_pages
from binome_shared.runtime.action_links import action_verifier_from
from binome_shared.runtime.asgi import ServiceApp
from binome_shared.runtime.clock import SimulatedClock, SystemClock
from binome_shared.runtime.definition import (
    HttpHandler,
    PeriodicJob,
    ProgrammeDataHandler,
    RunningService,
    ServiceDefinition,
)
from binome_shared.runtime.health import exposition
from binome_shared.runtime.http_auth import (
    Caller,
    TokenRejectedError,
    TokenVerifier,
    caller_of_request,
    verifier_from,
)
from binome_shared.runtime.http_input import (
    InputRefusedError,
    header_values,
    not_found,
    query_fields,
    read_body,
    read_only_method,
)
from binome_shared.runtime.kafka_security import faststream_security
from binome_shared.runtime.lifecycle import ServiceRuntime
from binome_shared.runtime.observability import tracer_provider
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.subscription import subscribe

logger = logging.getLogger(__name__)

__all__ = [
    "Caller",
    "HttpHandler",
    "PeriodicJob",
    "ProgrammeDataHandler",
    "RunningService",
    "ServiceDefinition",
    "ServiceRuntime",
    "build_app",
    "json_response",
]


def build_app(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    asyncapi: Callable[[], dict[str, Any]] | None = None,
) -> tuple[ServiceApp, ServiceRuntime]:
    """The ASGI application of one service, and its runtime (for tests and the demo)."""
    metrics = CollectorRegistry()
    # The messaging core opens a span per message (or per batched run), continuing the
    # producer's trace; FastStream's telemetry middleware would add a span per Kafka batch
    # and read every record's baggage (a tenth of the consumer's time) for nothing more.
    tracer_provider(definition.name)
    broker = KafkaBroker(
        # A list: FastStream takes a comma-separated string for one host name.
        [server.strip() for server in settings.kafka_bootstrap_servers.split(",")],
        client_id=f"binome-{definition.name}-{settings.instance_id}",
        security=faststream_security(settings),
        graceful_timeout=settings.graceful_timeout_seconds,
        # FastStream would create a missing subscribed topic with one partition; the
        # runtime creates every topic with its declared partitions before subscribing.
        allow_auto_create_topics=False,
        # Our JSON handler, not FastStream's coloured one; per-message lines only at DEBUG.
        logger=logging.getLogger("faststream.broker"),
        log_level=logging.DEBUG,
        # No FastStream Prometheus middleware: the services publish through the outbox
        # relay, not FastStream, so its publish families stayed empty; the runtime counts
        # what it consumes (binome_messages_total) and publishes (binome_relay_published).
    )
    runtime = ServiceRuntime(
        definition=definition,
        settings=settings,
        clock=clock or (SimulatedClock() if settings.clock == "simulated" else SystemClock()),
        metrics=metrics,
        broker=broker,
    )
    if definition.subscriptions:
        runtime.subscriber = subscribe(
            broker,
            definition=definition,
            settings=settings,
            membership=runtime.membership,
            consume=runtime.consume,
        )

    @get(include_in_schema=False)
    async def health(scope: Any) -> AsgiResponse:  # noqa: ARG001 - liveness needs no input
        return json_response({"status": "alive", "service": definition.name})

    @get(include_in_schema=False)
    async def ready(scope: Any) -> AsgiResponse:  # noqa: ARG001
        checks = await runtime.readiness()
        ready = all(checks.values())
        return json_response({"ready": ready, "checks": checks}, 200 if ready else 503)

    @get(include_in_schema=False)
    async def metrics_endpoint(scope: Any) -> AsgiResponse:  # noqa: ARG001
        await runtime.sample_metrics()
        return AsgiResponse(exposition(metrics), 200, {"content-type": CONTENT_TYPE_LATEST})

    routes: list[tuple[str, Any]] = [
        ("/health", ReadOnly(health)),
        ("/ready", ReadOnly(ready)),
        ("/metrics", ReadOnly(metrics_endpoint)),
    ]
    if asyncapi is not None:
        document = asyncapi()

        @get(include_in_schema=False)
        async def asyncapi_endpoint(scope: Any) -> AsgiResponse:  # noqa: ARG001
            return json_response(document)

        routes.append(("/asyncapi.json", ReadOnly(asyncapi_endpoint)))
    for path, handler in definition.http_routes.items():
        routes.append((path, _bind(handler, runtime)))
    if definition.programme_data_routes:
        verifier = verifier_from(settings)
        if verifier is None:
            logger.warning(
                "no BINOME_HTTP_AUTH_JWKS_URL or _PUBLIC_KEYS: %s answer 401 to every request",
                ", ".join(definition.programme_data_routes),
            )
        for path, data_handler in definition.programme_data_routes.items():
            routes.append((path, _bind_programme_data(data_handler, runtime, verifier)))
    if definition.actions:
        pages = action_pages.ActionPages(
            runtime=runtime,
            verifier=action_verifier_from(settings, owner=definition.name),
            kinds={kind.name: kind for kind in definition.actions},
        )
        routes.append((action_pages.PATH, pages))
    if isinstance(runtime.clock, SimulatedClock):
        routes.append(("/admin/clock", _clock_endpoint(runtime, runtime.clock)))

    http_logger = logging.getLogger("binome_shared.runtime.http")
    for _, route in routes:
        if hasattr(route, "set_logger"):  # FastStream's handlers log what they answer 500 for
            route.set_logger(http_logger)
    app = ServiceApp(
        routes=routes,
        on_startup=runtime.launch,
        on_shutdown=runtime.shutdown,
        unrouted=unrouted,
    )
    return app, runtime


def _clock_endpoint(runtime: ServiceRuntime, clock: SimulatedClock) -> Any:
    """``GET``/``POST /admin/clock`` (simulated clock only): read or move the service's time."""

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        status, body = 200, b""
        if scope["method"] == "POST":
            try:
                sent = json.loads(await read_body(scope, receive))
                clock.set(datetime.fromisoformat(sent["now"]))
                if runtime.jobs is not None:
                    runtime.jobs.wake()
            except InputRefusedError as refusal:
                status, body = refusal.status, json.dumps({"error": refusal.bilingual}).encode()
            # RecursionError: JSON nested thousands deep, which json.loads cannot parse.
            except (ValueError, KeyError, TypeError, RecursionError) as error:
                status, body = 400, json.dumps({"error": str(error)}).encode()
        if not body:
            body = json.dumps({"now": clock.now().isoformat()}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return endpoint


def _bind(handler: HttpHandler, runtime: ServiceRuntime) -> Any:
    @get(include_in_schema=False)
    async def bound(scope: Any) -> AsgiResponse:
        return await handler(runtime, scope)

    return ReadOnly(bound)


def _bind_programme_data(
    handler: ProgrammeDataHandler, runtime: ServiceRuntime, verifier: TokenVerifier | None
) -> Any:
    """The one place a programme-data endpoint is guarded: no verified token, no handler."""

    @get(include_in_schema=False)
    async def guarded(scope: Any) -> AsgiResponse:
        try:
            caller = await caller_of_request(scope, verifier)
        except TokenRejectedError as rejection:
            return unauthorized(rejection)
        try:
            # The limits of every query (docs/http-api.md), also for an endpoint reading none.
            query_fields(scope)
            return await handler(runtime, caller, scope)
        except InputRefusedError as refusal:
            return refused(refusal)

    return ReadOnly(guarded)


class ReadOnly:
    """``endpoint`` for GET and HEAD; any other method is told so in both languages, as a
    page or JSON (:func:`negotiated`); FastStream's own answer is a bare English "Method Not
    Allowed"."""

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    def set_logger(self, logger: Any) -> None:
        self._endpoint.set_logger(logger)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("method") in ("GET", "HEAD"):
            await self._endpoint(scope, receive, send)
            return
        await negotiated(scope, read_only_method())(scope, receive, send)


async def unrouted(scope: Any, receive: Any, send: Any) -> None:
    """A path no endpoint serves: 404, as a page or JSON (:func:`negotiated`)."""
    await negotiated(scope, not_found())(scope, receive, send)


def method_not_allowed() -> AsgiResponse:
    """405 for a read-only endpoint, in JSON and both languages."""
    return refused(read_only_method())


def negotiated(scope: Mapping[str, Any], refusal: InputRefusedError) -> AsgiResponse:
    """A refusal as a browser shows it (a page in French then English, when the request
    accepts ``text/html``) or as a program reads it (:func:`refused`'s JSON): a person who
    mistyped an address reads why, an HR platform parses the code. Both carry the same code."""
    if not wants_html(scope):
        return refused(refusal)
    return action_pages.refusal_page(refusal, _allow(refusal))


def wants_html(scope: Mapping[str, Any]) -> bool:
    """Whether the request asks for a page: a browser's ``Accept`` names ``text/html``; an
    HTTP client's (none, ``*/*``, ``application/json``) does not, nor ``text/html;q=0``."""
    for value in header_values(scope, "accept"):
        accepted = value.lower().replace(" ", "").split(",")
        if any(_names_html(item) for item in accepted):
            return True
    return False


def _names_html(item: str) -> bool:
    media, *parameters = item.split(";")
    refused_outright = any(p.startswith("q=") and p[2:].strip("0.") == "" for p in parameters)
    return media == "text/html" and not refused_outright


def _allow(refusal: InputRefusedError) -> dict[str, str]:
    return {"allow": "GET, HEAD"} if refusal.status == 405 else {}


def refused(refusal: InputRefusedError) -> AsgiResponse:
    """A request whose method, query or body is refused (docs/http-api.md, "Limits")."""
    return json_response(
        {"error": refusal.bilingual, "code": refusal.code}, refusal.status, headers=_allow(refusal)
    )


def unauthorized(rejection: TokenRejectedError) -> AsgiResponse:
    """401 with RFC 6750's ``WWW-Authenticate`` challenge and a bilingual JSON body."""
    challenge = 'Bearer realm="binome"'
    if rejection.error is not None:
        # RFC 6750 allows printable ASCII only here: the English half, quotes replaced.
        english = rejection.description.split(" / ")[0].replace('"', "'").replace("\\", "/")
        ascii_only = english.encode("ascii", "replace").decode()
        challenge += f', error="{rejection.error}", error_description="{ascii_only}"'
    return json_response(
        {"error": rejection.description}, 401, headers={"www-authenticate": challenge}
    )


def json_response(
    body: Mapping[str, Any], status: int = 200, *, headers: Mapping[str, str] | None = None
) -> AsgiResponse:
    """A JSON answer for the service's HTTP endpoints (UTF-8, accents kept)."""
    return AsgiResponse(
        json.dumps(body, ensure_ascii=False, default=str).encode(),
        status,
        {
            "content-type": "application/json; charset=utf-8",
            # The body may echo an id from the query: never let a browser sniff it as HTML.
            "x-content-type-options": "nosniff",
            **(headers or {}),
        },
    )
