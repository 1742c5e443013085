"""The programme-data endpoints behind bearer JWTs under attack, on real processes: the
sessions service (``/personal-data``, ``/programmes/progress``) and the report server
(``binome-report serve``) reading the real Kafka. Forged and hostile tokens get 401 with a
one-line RFC 6750 challenge; hostile queries and paths (NUL, CR/LF, invalid UTF-8, too long,
too many, repeated) get a 4xx JSON reason in both languages; other methods 405; never a 500.
Two tenants hold the same ids: each token reads its own tenant's data only, also while the
hostile requests are being refused beside it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.text import ID_MAX_LENGTH
from binome_shared.runtime.process import REQUEST_HEAD_LIMIT_BYTES
from tests.integration.integrations.test_integrations_report_server import (
    PROGRAMME as REPORTED,
)
from tests.integration.integrations.test_integrations_report_server import publish_story
from tests.integration.sessions.test_sessions_service_flow import (
    OTHER_TENANT,
    PROGRAMME,
    TENANT,
    define_programme,
    pair_formed,
)
from tests.support.action_links import ActionLinkIssuer
from tests.support.hostile_http import HttpStage, http_stage
from tests.support.hostile_tokens import bearer_claims, hmac_with, signed, unsigned, without
from tests.support.platform import DatabaseTemplate, ServiceProcess, free_port
from tests.support.programmes import programme_definition
from tests.support.published import published
from tests.support.raw_http import exchange, request_bytes
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

UNITS = {TENANT: "Finance", OTHER_TENANT: "Juridique"}
"""E0's business unit in each tenant: the same ids, told apart by what each tenant holds."""
PAIR_0 = "SELECT count(*) FROM pairs WHERE pair_id = 'pair-0'"
ODD_PROGRAMME = "prog/<b>%41 2027"
"""A valid id (ids are opaque): a slash, markup, a percent sign, a space."""
HOSTILE_NAME = "<script>alert(1)</script> & Co"


@dataclass(frozen=True)
class Stage:
    http: HttpStage
    report: ServiceProcess
    tokens: TokenIssuer

    @property
    def sessions(self) -> ServiceProcess:
        return self.http.services["sessions"]

    def claims(self, **more: Any) -> dict[str, Any]:
        tokens = self.tokens
        return bearer_claims(issuer=tokens.issuer, audience=tokens.audience, tenant=TENANT, **more)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return signed(self.tokens.key, {"kid": self.tokens.kid, **header}, claims)


def _report_process(http: HttpStage, tokens: TokenIssuer, directory: Path) -> ServiceProcess:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BINOME_")}
    env |= {
        "BINOME_KAFKA_BOOTSTRAP_SERVERS": http.kafka.bootstrap,
        "BINOME_TOPIC_PREFIX": http.kafka.prefix,
        "BINOME_HTTP_PORT": str(port),
        **tokens.service_env(),
    }
    argv = [sys.executable, "-m", "binome_integrations.report.cli", "serve"]
    process = ServiceProcess(
        name="report", env=env, port=port, log_path=directory / "report.log", argv=argv
    )
    process.start()
    return process


@pytest.fixture(scope="module")
async def stage(
    database_template: DatabaseTemplate, kafka_bootstrap: str, tmp_path_factory: Any
) -> AsyncIterator[Stage]:
    tokens = TokenIssuer()
    directory = Path(tmp_path_factory.mktemp("hostile-bearer"))
    async with http_stage(
        template=database_template,
        bootstrap=kafka_bootstrap,
        directory=directory,
        services={"sessions": tokens.service_env()},
    ) as http:
        for tenant, unit in UNITS.items():
            await http.kafka.publish(define_programme(tenant=tenant))
            await http.kafka.publish(pair_formed(0, mentee_unit=unit, tenant=tenant))
        await publish_story(http.kafka)
        hostile = programme_definition(
            ProgrammeRules(starts_on=date(2027, 1, 4)), name=HOSTILE_NAME
        )
        await http.kafka.publish(published(hostile, programme_id=ODD_PROGRAMME))
        await eventually(lambda: http.database.fetchval("sessions", PAIR_0), 2)
        report = _report_process(http, tokens, directory)
        try:
            await report.wait_ready()
            yield Stage(http=http, report=report, tokens=tokens)
        finally:
            report.kill()
        assert "Traceback" not in report.log_tail(10_000)


ENDPOINTS = {
    "personal data": ("sessions", "/personal-data?participant_id=E0"),
    "progress": ("sessions", f"/programmes/progress?programme_id={PROGRAMME}"),
    "report": ("report", f"/programmes/{REPORTED}/report.json"),
}


def _url(stage: Stage, endpoint: str) -> str:
    service, path = ENDPOINTS[endpoint]
    return (stage.report if service == "report" else stage.sessions).url + path


TokenCase = Callable[[Stage], str]


def _signed_without(claim: str) -> TokenCase:
    return lambda stage: stage.sign(without(stage.claims(), claim))


def _signed_for_tenant(tenant: object) -> TokenCase:
    return lambda stage: stage.sign(stage.claims(binome_tenant=tenant))


TOKENS: dict[str, TokenCase] = {
    "alg none": lambda s: unsigned({"kid": s.tokens.kid}, s.claims()),
    "HS256 with the public key as secret": lambda s: hmac_with(
        s.tokens.public_pem.encode(), {"kid": s.tokens.kid}, s.claims()
    ),
    "another key, unknown kid": lambda s: TokenIssuer(kid="unknown").token(TENANT),
    "expired": lambda s: s.sign(s.claims(iat=1_000, exp=2_000)),
    "nbf in the future": lambda s: s.sign(s.claims(nbf=3_999_000_000)),
    **{
        f"without {claim}": _signed_without(claim)
        for claim in ("exp", "iss", "aud", "binome_tenant")
    },
    "another audience": lambda s: s.sign(s.claims(aud="binome-action:sessions")),
    "another issuer": lambda s: s.sign(s.claims(iss="https://evil.example/")),
    "an action link": lambda s: ActionLinkIssuer().link(
        owner="sessions", tenant=TENANT, subject="E0", action="session.held", target={}
    ),
    "an action link's typ": lambda s: s.sign(s.claims(), typ="binome-action+jwt"),
    **{
        f"tenant {name}": _signed_for_tenant(tenant)
        for name, tenant in {
            "with NUL": "groupe\x00exemple",
            "with CR/LF": "groupe\r\nX-Injected: 1",
            f"of {ID_MAX_LENGTH + 1} characters": "t" * (ID_MAX_LENGTH + 1),
            "a number": 42,
            "empty": "",
            "a list": [TENANT],
        }.items()
    },
    "crit header naming CR/LF": lambda s: s.sign(s.claims(), crit=["\r\nX-Injected: 1"]),
    "malformed": lambda s: "abc",
    "garbage segments": lambda s: "e30.e30.%00",
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("case", list(TOKENS))
async def test_a_forged_or_hostile_bearer_token_gets_401(
    stage: Stage, case: str, endpoint: str
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.get(_url(stage, endpoint), headers=bearer(TOKENS[case](stage)))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert " / " in answer.json()["error"]  # English / French
    [challenge] = answer.headers.get_list("www-authenticate")
    assert challenge.startswith('Bearer realm="binome", error="invalid_token"')
    assert challenge.isprintable()
    assert "X-Injected" not in str(answer.headers)


HEADERS: dict[str, list[tuple[bytes, bytes]]] = {
    "Authorization of raw invalid UTF-8": [(b"Authorization", b"Bearer \xff\xfe")],
    "Basic instead of Bearer": [(b"Authorization", b"Basic dXNlcjpwYXNz")],
    "two Authorization headers": [(b"Authorization", b"Bearer x"), (b"Authorization", b"Bearer y")],
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("case", list(HEADERS))
async def test_a_hostile_authorization_header_gets_401(
    stage: Stage, case: str, endpoint: str
) -> None:
    service, path = ENDPOINTS[endpoint]
    port = (stage.report if service == "report" else stage.sessions).port
    answer = await exchange(port, request_bytes(b"GET", path.encode(), headers=HEADERS[case]))
    assert answer.status == 401
    assert answer.header(b"www-authenticate")[0].startswith(b'Bearer realm="binome"')


async def test_two_authorization_headers_are_refused_even_when_one_is_genuine(
    stage: Stage,
) -> None:
    genuine = b"Bearer " + stage.tokens.token(TENANT).encode()
    headers = [(b"Authorization", genuine), (b"Authorization", b"Bearer forged")]
    raw = request_bytes(b"GET", b"/personal-data?participant_id=E0", headers=headers)
    assert (await exchange(stage.sessions.port, raw)).status == 401


async def test_a_64_kb_token_is_refused_and_the_service_still_answers(stage: Stage) -> None:
    """Read whole and refused by the verifier (401) however the network cuts the head: it
    is within the runtime's limit on a request head, whatever the packets (a reset instead
    of an answer, or a 400, depended on the machine's load before)."""
    header = [(b"Authorization", b"Bearer " + b"e" * 65_536)]
    raw = request_bytes(b"GET", b"/personal-data?participant_id=E0", headers=header)
    assert len(raw) < REQUEST_HEAD_LIMIT_BYTES
    assert (await exchange(stage.sessions.port, raw)).status == 401
    assert (await exchange(stage.sessions.port, raw, piece_size=4096)).status == 401
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{stage.sessions.url}/health")).status_code == 200


QUERIES: dict[str, tuple[str, str, int, str]] = {
    "participant_id with a NUL": ("sessions", "/personal-data?participant_id=E%00", 400, ""),
    "participant_id with CR/LF": ("sessions", "/personal-data?participant_id=E%0D%0A", 400, ""),
    "participant_id of invalid UTF-8": (
        "sessions",
        "/personal-data?participant_id=%FF%FE",
        400,
        "not_utf8",
    ),
    "participant_id too long": (
        "sessions",
        f"/personal-data?participant_id={'E' * (ID_MAX_LENGTH + 1)}",
        400,
        "",
    ),
    "participant_id twice, different": (
        "sessions",
        "/personal-data?participant_id=E0&participant_id=E1",
        400,
        "field_repeated",
    ),
    "a 9 KB query": ("sessions", f"/personal-data?participant_id=E0&p={'x' * 9_000}", 414, ""),
    "65 parameters": (
        "sessions",
        "/personal-data?" + "&".join(f"p{n}=1" for n in range(64)) + "&participant_id=E0",
        400,
        "too_many_fields",
    ),
    "programme_id with a NUL": ("sessions", "/programmes/progress?programme_id=p%00", 400, ""),
    "grouped_by twice": (
        "sessions",
        f"/programmes/progress?programme_id={PROGRAMME}"
        "&grouped_by=mentor_business_unit&grouped_by=mentee_business_unit",
        400,
        "field_repeated",
    ),
    "report of a NUL id": ("report", "/programmes/a%00b/report.json", 400, ""),
    "report of invalid UTF-8": ("report", "/programmes/%FF%FE/report", 400, ""),
    "report of an id too long": ("report", f"/programmes/{'p' * 201}/report.json", 400, ""),
    "report of an id with a slash": ("report", "/programmes/a%2Fb/report.json", 404, ""),
    "report double-encoded": ("report", f"/programmes/{REPORTED}%252F/report.json", 404, ""),
    "report in two languages": (
        "report",
        f"/programmes/{REPORTED}/report?lang=fr&lang=en",
        400,
        "",
    ),
}


@pytest.mark.parametrize("case", list(QUERIES))
async def test_a_hostile_query_or_path_gets_a_4xx_reason(stage: Stage, case: str) -> None:
    service, path, status, code = QUERIES[case]
    base = stage.report.url if service == "report" else stage.sessions.url
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.get(base + path, headers=bearer(stage.tokens.token(TENANT)))
    assert answer.status_code == status
    assert answer.headers["x-content-type-options"] == "nosniff"
    body = answer.json()
    assert " / " in body["error"]
    if code:
        assert body["code"] == code


async def test_an_odd_programme_id_is_read_once_and_its_hostile_name_escaped(
    stage: Stage,
) -> None:
    """The id is percent-encoded whole in the path (its slash too) and decoded once; the
    programme's name, markup from HR, is text in the page."""
    path = f"{stage.report.url}/programmes/{quote(ODD_PROGRAMME, safe='')}/report"
    async with httpx.AsyncClient(timeout=60) as client:
        page = await client.get(path, headers=bearer(stage.tokens.token(TENANT)))
        figures = await client.get(f"{path}.json", headers=bearer(stage.tokens.token(TENANT)))
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page.text
    assert figures.json()["programme_id"] == ODD_PROGRAMME


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_another_method_gets_405_in_json(stage: Stage, endpoint: str, method: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.request(
            method, _url(stage, endpoint), headers=bearer(stage.tokens.token(TENANT))
        )
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
    assert answer.json()["code"] == "method_not_allowed"


async def test_each_tenant_reads_its_own_data_while_hostile_requests_are_refused(
    stage: Stage,
) -> None:
    """The genuine neighbours: A's and B's exports of the same id, and A's report, asked at
    the same time as every hostile token and query above; B's token on A's report: 404."""
    before = await stage.http.effects("sessions", (TENANT, OTHER_TENANT))
    export = f"{stage.sessions.url}/personal-data?participant_id=E0"
    report = f"{stage.report.url}/programmes/{REPORTED}/report.json"
    async with httpx.AsyncClient(timeout=60) as client:
        hostile = [
            client.get(_url(stage, "personal data"), headers=bearer(build(stage)))
            for build in TOKENS.values()
        ] + [
            client.get(
                (stage.report if service == "report" else stage.sessions).url + path,
                headers=bearer(stage.tokens.token(TENANT)),
            )
            for service, path, _, _ in QUERIES.values()
        ]
        genuine = [
            client.get(export, headers=bearer(stage.tokens.token(TENANT))),
            client.get(export, headers=bearer(stage.tokens.token(OTHER_TENANT))),
            client.get(report, headers=bearer(stage.tokens.token(TENANT))),
            client.get(report, headers=bearer(stage.tokens.token(OTHER_TENANT))),
        ]
        *refused, as_a, as_b, report_a, report_b = await asyncio.gather(*hostile, *genuine)
    assert all(400 <= answer.status_code < 500 for answer in refused)
    for answer, tenant in ((as_a, TENANT), (as_b, OTHER_TENANT)):
        assert answer.status_code == 200
        assert answer.json()["tenant_id"] == tenant
        [pair] = answer.json()["sections"]["pairs"]
        assert pair["business_unit"] == UNITS[tenant]
    assert report_a.status_code == 200
    assert report_a.json()["programme_name"] == "Programme servi"
    assert report_b.status_code == 404
    assert await stage.http.effects("sessions", (TENANT, OTHER_TENANT)) == before
