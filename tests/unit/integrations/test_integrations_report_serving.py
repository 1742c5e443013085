"""The report server before any Kafka: refused in production with unsafe settings (every
problem listed, exit 3), and its probes and answers while its reader catches up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from binome_integrations.report import cli
from binome_integrations.report.live import NotCaughtUpError
from binome_integrations.report.model import ProgrammeReport
from binome_integrations.report.sample import sample_report
from binome_integrations.report.server import (
    ReportApp,
    ReportServerSettings,
    refuse_unsafe_production,
)
from binome_shared.runtime.http_auth import verifier_from
from binome_shared.runtime.production_guard import UnsafeProductionError, client_problems
from tests.support.tokens import TokenIssuer, bearer

pytestmark = pytest.mark.unit


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.crt"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def safe(ca_file: Path) -> dict[str, Any]:
    return {
        "environment": "production",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "binome-report-kafka",
        "kafka_sasl_password": "Vt3-generated-by-strimzi",
        "kafka_ssl_ca_file": ca_file,
        "http_auth_issuer": "https://idp.example.test/realms/hr",
        "http_auth_jwks_url": "https://idp.example.test/realms/hr/certs",
    }


def test_a_production_report_server_as_deployed_starts(ca_file: Path) -> None:
    settings = ReportServerSettings.model_validate(safe(ca_file))
    assert client_problems(settings) == []
    refuse_unsafe_production(settings)


def test_laptop_defaults_in_production_list_every_problem() -> None:
    settings = ReportServerSettings.model_validate({"environment": "production"})

    with pytest.raises(UnsafeProductionError) as refused:
        refuse_unsafe_production(settings)

    problems = refused.value.problems
    assert len(problems) == 4, problems
    assert any("PLAINTEXT" in problem and "en clair" in problem for problem in problems)
    assert any("without authentication" in problem for problem in problems)
    assert any("BINOME_HTTP_AUTH_JWKS_URL" in problem for problem in problems)
    assert any("BINOME_HTTP_AUTH_ISSUER" in problem for problem in problems)


def test_outside_production_the_laptop_defaults_start() -> None:
    refuse_unsafe_production(ReportServerSettings())


def test_a_weak_kafka_password_or_keys_in_clear_are_refused(ca_file: Path) -> None:
    unsafe = {
        **safe(ca_file),
        "kafka_sasl_password": "changeme",
        "http_auth_jwks_url": "http://idp.example.test/certs",
    }
    with pytest.raises(UnsafeProductionError) as refused:
        refuse_unsafe_production(ReportServerSettings.model_validate(unsafe))
    assert [problem.split(" ")[0] for problem in refused.value.problems] == [
        "BINOME_KAFKA_SASL_PASSWORD",
        "BINOME_HTTP_AUTH_JWKS_URL",
    ]


def test_serve_exits_3_and_names_the_problems_in_both_languages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BINOME_ENVIRONMENT", "production")
    monkeypatch.setenv("BINOME_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")

    assert cli.main(["serve"]) == cli.EXIT_BAD_SETTINGS

    error = capsys.readouterr().err
    assert "refusing to start in production / refus de démarrer en production" in error
    assert "traffic in clear" in error
    assert "trafic en clair" in error


class CatchingUp:
    """A live source in a chosen state."""

    def __init__(self, *, alive: bool, ready: bool) -> None:
        self.alive, self.ready = alive, ready
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def status(self) -> dict[str, Any]:
        return {"caught_up": self.ready, "folded": 12, "skipped": {"missing_attribute": 1}}

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        if not self.ready:
            raise NotCaughtUpError
        known = (tenant_id, programme_id) == ("groupe-exemple", "prog-1")
        return sample_report() if known else None


@pytest.mark.parametrize(
    ("alive", "ready", "health", "readiness"),
    [(True, False, 200, 503), (True, True, 200, 200), (False, False, 503, 503)],
)
async def test_probes_follow_the_reader(
    alive: bool, ready: bool, health: int, readiness: int
) -> None:
    app = ReportApp(source=CatchingUp(alive=alive, ready=ready), verifier=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        assert (await c.get("/health")).status_code == health
        answer = await c.get("/ready")
    assert answer.status_code == readiness
    assert answer.json()["skipped"] == {"missing_attribute": 1}


async def test_a_request_while_catching_up_is_503_then_served_then_404_for_the_unknown() -> None:
    issuer = TokenIssuer()
    source = CatchingUp(alive=True, ready=False)
    settings = ReportServerSettings.model_validate(
        {
            "http_auth_public_keys": issuer.public_pem,
            "http_auth_issuer": issuer.issuer,
            "http_auth_audience": issuer.audience,
        }
    )
    app = ReportApp(source=source, verifier=verifier_from(settings))
    headers = bearer(issuer.token("groupe-exemple"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        cold = await c.get("/programmes/prog-1/report.json", headers=headers)
        source.ready = True
        warm = await c.get("/programmes/prog-1/report.json", headers=headers)
        unknown = await c.get("/programmes/prog-2/report.json", headers=headers)

    assert cold.status_code == 503
    assert cold.json()["code"] == "catching_up"
    assert "réessayez" in cold.json()["error"]
    assert warm.status_code == 200
    assert unknown.status_code == 404


async def test_the_lifespan_starts_and_stops_the_reader() -> None:
    source = CatchingUp(alive=True, ready=True)
    app = ReportApp(source=source, verifier=None)
    sent: list[str] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]

    assert (source.started, source.stopped) == (True, True)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
