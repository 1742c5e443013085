"""The runtime's HTTP layer is the one place programme-data routes are guarded: the handler
runs only with a verified token and receives its tenant; open routes stay open."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from faststream.asgi import AsgiResponse
from pydantic import ValidationError

from binome_shared.contracts.registry import Registry
from binome_shared.runtime.service import (
    Caller,
    RunningService,
    ServiceDefinition,
    build_app,
    json_response,
)
from binome_shared.runtime.settings import ServiceSettings
from tests.support.tokens import TokenIssuer

pytestmark = pytest.mark.unit


async def tenant_echo(
    runtime: RunningService,
    caller: Caller,
    scope: Mapping[str, Any],
) -> AsgiResponse:
    return json_response({"tenant": caller.tenant_id})


def app_with(**settings: Any) -> Any:
    definition = ServiceDefinition(
        name="probe",
        subscriptions=(),
        routes={},
        publishes=(),
        registry=Registry({}),
        migrations=(),
        programme_data_routes={"/figures": tenant_echo},
    )
    values = {"database_url": "postgresql://a:a@127.0.0.1:1/db", "http_port": 1, **settings}
    app, _ = build_app(definition, ServiceSettings.model_validate(values))
    return app


async def get(app: Any, path: str, token: str | None = None) -> tuple[int, dict[str, str], Any]:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent[0], b"".join(message.get("body", b"") for message in sent[1:])
    response_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], response_headers, json.loads(body) if body.startswith(b"{") else body


async def test_a_verified_token_reaches_the_handler_with_its_tenant() -> None:
    idp = TokenIssuer()
    app = app_with(
        **{key.removeprefix("BINOME_").lower(): v for key, v in idp.service_env().items()}
    )

    status, _, body = await get(app, "/figures", idp.token("groupe-a"))
    assert (status, body) == (200, {"tenant": "groupe-a"})

    status, headers, body = await get(app, "/figures")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="binome"'
    assert body == {"error": "bearer token required / jeton requis"}

    status, headers, _ = await get(app, "/figures", TokenIssuer().token("groupe-a"))
    assert status == 401
    assert headers["www-authenticate"] == (
        'Bearer realm="binome", error="invalid_token", error_description="signature not verified"'
    )
    assert (await get(app, "/health"))[0] == 200, "probes stay open"


async def test_without_any_key_configured_every_token_is_refused() -> None:
    app = app_with()
    status, headers, body = await get(app, "/figures", TokenIssuer().token("groupe-a"))
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"]
    assert body == {"error": "no signing key configured / aucune clé configurée"}


def test_an_unreadable_public_key_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="no PEM public key found"):
        ServiceSettings.model_validate(
            {"database_url": "postgresql://h/db", "http_port": 1, "http_auth_public_keys": "x"}
        )
