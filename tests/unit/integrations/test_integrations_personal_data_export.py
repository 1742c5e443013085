"""``binome-export`` over stand-in services (httpx's mock transport): one document, all or
nothing, one tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from binome_integrations.personal_data_export import ExportError, gather_export, main
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

URLS = {name: f"http://{name}.test" for name in ("pairing", "sessions", "notifications")}
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def answer(request: httpx.Request, *, tenant: str = "acme") -> httpx.Response:
    service = request.url.host.removesuffix(".test")
    return httpx.Response(
        200,
        json={
            "service": service,
            "tenant_id": tenant,
            "participant_id": request.url.params["participant_id"],
            "erased_at": None,
            "generated_at": NOW.isoformat(),
            "sections": {f"{service}_things": [{"seen": request.headers["authorization"]}]},
        },
    )


async def gather(handler: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await gather_export("E1", token="tok", urls=URLS, client=client, now=NOW)


async def test_one_document_with_one_section_per_service_asked_with_the_same_token() -> None:
    document = await gather(answer)
    assert document == {
        "participant_id": "E1",
        "tenant_id": "acme",
        "generated_at": NOW.isoformat(),
        **{name: {"erased_at": None, f"{name}_things": [{"seen": "Bearer tok"}]} for name in URLS},
    }


async def test_a_service_that_refuses_fails_the_whole_export() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sessions.test":
            return httpx.Response(401, json={"error": "token expired / jeton expiré"})
        return answer(request)

    with pytest.raises(ExportError) as failure:
        await gather(refusing)
    assert failure.value.message(Language.FR).startswith("sessions a répondu 401")
    assert "token expired" in str(failure.value)


async def test_an_unreachable_service_fails_the_whole_export() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ExportError, match="unreachable"):
        await gather(unreachable)


async def test_answers_for_different_tenants_are_refused() -> None:
    def mixed(request: httpx.Request) -> httpx.Response:
        return answer(request, tenant="other" if request.url.host == "pairing.test" else "acme")

    with pytest.raises(ExportError, match="different tenants: acme, other"):
        await gather(mixed)


def test_without_a_token_the_command_stops_before_asking_anyone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BINOME_EXPORT_TOKEN", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main(["E1", "--language", "en"])
    assert stopped.value.code == 2
    assert "BINOME_EXPORT_TOKEN" in capsys.readouterr().err


def test_a_failed_export_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BINOME_EXPORT_TOKEN", "tok")
    output = tmp_path / "export.json"
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    urls = [f"--{name}-url={closed}" for name in URLS]
    code = main(["E1", "--output", str(output), "--language", "en", *urls])
    assert code == 1
    assert not output.exists()
    assert "unreachable (http://127.0.0.1:9)" in capsys.readouterr().err
