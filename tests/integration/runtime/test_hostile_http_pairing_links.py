"""Pairing's consent pages (accept and decline a proposed pair) under attack, on a real
process, Kafka and Postgres. Two tenants hold the same programme, people and therefore the
same pair id. Hostile tokens, and hostile requests around a genuine accept or decline link
(NUL, CR/LF, invalid UTF-8, oversized, fields and tokens given twice, other methods), are
refused and record nothing; the genuine accept link, posted twice at once, puts exactly one
PairAccepted on Kafka, in its own tenant only; unknown paths and methods are answered in
both languages. (Pairing's imposed pairs and previews have no pages: platform commands.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.pairing.test_pairing_consent import (
    ASKED_AT,
    OTHER_TENANT,
    PROGRAMME,
    start_consent_round,
)
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.hostile_http import (
    UNROUTED,
    HttpStage,
    check_unrouted,
    http_stage,
)
from tests.support.hostile_tokens import ACTION_HEADER, action_claims, signed, unsigned
from tests.support.platform import DatabaseTemplate
from tests.support.programmes import TENANT
from tests.support.raw_http import exchange, request_bytes
from tests.support.waiting import eventually
from tests.unit.pairing.pairing_builders import mentee, mentor, need, skill

pytestmark = pytest.mark.integration

TENANTS = (TENANT, OTHER_TENANT)
PAIRS = "SELECT count(*) FROM pairs"
PAIR_ID = "SELECT pair_id FROM pairs WHERE tenant_id = $1"
OUTBOX_ON = "SELECT count(*) FROM outbox WHERE topic = $1"


@dataclass(frozen=True)
class Stage:
    http: HttpStage
    links: ActionLinkIssuer
    pair_id: str

    @property
    def url(self) -> str:
        return self.http.services["pairing"].url

    @property
    def port(self) -> int:
        return self.http.services["pairing"].port

    def claims(self, action: str = "pair.accept", **more: Any) -> dict[str, Any]:
        """A genuine consent link of E1 to the pair in tenant A (``more`` overrides)."""
        genuine = action_claims(
            owner="pairing",
            tenant=TENANT,
            subject="E1",
            action=action,
            target={"programme_id": PROGRAMME, "pair_id": self.pair_id},
        )
        return {**genuine, **more}

    def sign(self, claims: dict[str, Any]) -> str:
        return signed(self.links.key, ACTION_HEADER, claims)

    async def effects(self) -> dict[str, int]:
        return await self.http.effects("pairing", TENANTS)


@pytest.fixture(scope="module")
async def stage(
    database_template: DatabaseTemplate, kafka_bootstrap: str, tmp_path_factory: Any
) -> AsyncIterator[Stage]:
    """In each tenant the same consent programme, M1 and E1, matched: the same pair id,
    proposed and waiting for both answers."""
    links = ActionLinkIssuer()
    async with http_stage(
        template=database_template,
        bootstrap=kafka_bootstrap,
        directory=Path(tmp_path_factory.mktemp("hostile-pairing")),
        services={"pairing": {"BINOME_CLOCK": "simulated", **links.verifying_env()}},
    ) as http:
        await set_clock(http.services["pairing"], ASKED_AT)
        people = [
            mentor("M1", skills=[skill("data", 5)]),
            mentee("E1", learning_needs=[need("data", 5)]),
        ]
        for tenant in TENANTS:
            await start_consent_round(http.kafka, people, tenant_id=tenant)
        await eventually(lambda: http.database.fetchval("pairing", PAIRS), 2)
        pair_a = await http.database.fetchval("pairing", PAIR_ID, TENANT)
        assert await http.database.fetchval("pairing", PAIR_ID, OTHER_TENANT) == pair_a
        yield Stage(http=http, links=links, pair_id=str(pair_a))


TokenCase = Callable[[Stage], str]
TOKENS: dict[str, tuple[TokenCase, str]] = {
    "alg none": (lambda s: unsigned(ACTION_HEADER, s.claims()), "invalid"),
    "another key": (lambda s: signed(ActionLinkIssuer().key, ACTION_HEADER, s.claims()), "invalid"),
    "expired": (lambda s: s.sign(s.claims(iat=1_000, exp=2_000)), "expired"),
    "another service's audience": (
        lambda s: s.sign(s.claims(aud="binome-action:sessions")),
        "wrong_action",
    ),
    "a pair id with a NUL": (
        lambda s: s.sign(s.claims(tgt={"programme_id": PROGRAMME, "pair_id": "p\x00"})),
        "invalid",
    ),
    "a subject with CR/LF": (lambda s: s.sign(s.claims(sub="E1\r\nX: 1")), "invalid"),
    "a tenant of 201 characters": (
        lambda s: s.sign(s.claims(binome_tenant="t" * 201)),
        "invalid",
    ),
    "a nested pair id": (
        lambda s: s.sign(s.claims(tgt={"programme_id": PROGRAMME, "pair_id": {"$ne": ""}})),
        "invalid",
    ),
}


@pytest.mark.parametrize("case", list(TOKENS))
async def test_a_forged_or_hostile_consent_token_is_refused_and_does_nothing(
    stage: Stage, case: str
) -> None:
    build, code = TOKENS[case]
    before = await stage.effects()
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        answer = await client.post("/actions", data={"token": build(stage)})
    assert (answer.status_code, outcome(answer.text)) == (403, code)
    assert await stage.effects() == before


def _post(token: str, target: bytes, body: bytes) -> bytes:
    """The request with the genuine token written where ``TOKEN`` stands."""
    genuine = token.encode()
    return request_bytes(
        b"POST",
        target.replace(b"TOKEN", genuine),
        body=body.replace(b"TOKEN", genuine),
        headers=[(b"Content-Type", b"application/x-www-form-urlencoded")],
    )


REQUESTS: dict[str, tuple[bytes, bytes, int, str]] = {
    "NUL and CR/LF after the token": (b"/actions?token=TOKEN%00%0D%0AX:1", b"", 403, "invalid"),
    "the token twice, different": (b"/actions", b"token=TOKEN&token=TOKENx", 403, "invalid"),
    "invalid UTF-8 in the form": (b"/actions", b"token=TOKEN&x=%FF", 400, "not_utf8"),
    "raw invalid UTF-8 in the form": (b"/actions", b"token=TOKEN&x=\xff", 400, "not_utf8"),
    "a 1 MB body": (b"/actions", b"token=TOKEN&x=" + b"x" * 1_000_000, 413, "body_too_large"),
    "65 fields": (
        b"/actions",
        b"token=TOKEN&" + b"&".join(b"f%d=1" % n for n in range(64)),
        400,
        "too_many_fields",
    ),
    "a 9 KB query": (b"/actions?token=TOKEN&p=" + b"x" * 9_000, b"", 414, "query_too_long"),
}


@pytest.mark.parametrize("action", ["pair.accept", "pair.decline"])
@pytest.mark.parametrize("case", list(REQUESTS))
async def test_a_hostile_request_around_a_genuine_consent_link_does_nothing(
    stage: Stage, case: str, action: str
) -> None:
    target, body, status, code = REQUESTS[case]
    before = await stage.effects()
    answer = await exchange(stage.port, _post(stage.sign(stage.claims(action)), target, body))
    assert (answer.status, outcome(answer.text)) == (status, code)
    assert answer.header(b"content-type") == [b"text/html; charset=utf-8"]
    assert await stage.effects() == before


@pytest.mark.parametrize("method", [b"PUT", b"DELETE", b"PATCH"])
async def test_another_method_on_a_consent_page_does_nothing(stage: Stage, method: bytes) -> None:
    before = await stage.effects()
    token = stage.sign(stage.claims()).encode()
    answer = await exchange(stage.port, request_bytes(method, b"/actions?token=" + token))
    assert (answer.status, outcome(answer.text)) == (405, "method_not_allowed")
    assert await stage.effects() == before


@pytest.mark.parametrize("case", list(UNROUTED))
async def test_an_unknown_path_or_method_is_answered_in_both_languages(
    stage: Stage, case: str
) -> None:
    await check_unrouted(stage.port, case)
