"""The notifications service's own HTTP surfaces under attack, on a real process, Kafka and
Postgres: ``GET /deliveries`` behind bearer tokens (forged and hostile tokens, hostile
queries, other methods, two tenants with the same ids), the preferences form sent a box it
does not offer, an unsubscribe link of a person the tenant does not know, and paths no
endpoint serves. Each refusal says why in French and English and records nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_shared.contracts.base import Envelope
from tests.integration.runtime.test_hostile_http_bearer import TOKENS as BEARER_TOKENS
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.hostile_http import (
    UNROUTED,
    HttpStage,
    check_unrouted,
    http_stage,
)
from tests.support.hostile_tokens import ACTION_HEADER, action_claims, bearer_claims, signed
from tests.support.platform import DatabaseTemplate
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

TENANT = make.TENANT
OTHER_TENANT = "autre-groupe"
TENANTS = (TENANT, OTHER_TENANT)
PEOPLE = "SELECT count(*) FROM people"
DELIVERIES = "SELECT count(*) FROM deliveries WHERE tenant_id = $1"
PREFERENCES = "SELECT count(*) FROM notification_preferences WHERE tenant_id = $1"
OPT_OUTS = """
SELECT opt_outs FROM notification_preferences WHERE tenant_id = $1 AND participant_id = $2
"""


@dataclass(frozen=True)
class Stage:
    """Also what ``TOKENS`` (the bearer suite's hostile tokens) build their tokens from."""

    http: HttpStage
    links: ActionLinkIssuer
    tokens: TokenIssuer

    @property
    def url(self) -> str:
        return self.http.services["notifications"].url

    @property
    def port(self) -> int:
        return self.http.services["notifications"].port

    def claims(self, **more: Any) -> dict[str, Any]:
        """A genuine bearer token's claims for tenant A (``more`` overrides)."""
        tokens = self.tokens
        return bearer_claims(issuer=tokens.issuer, audience=tokens.audience, tenant=TENANT, **more)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return signed(self.tokens.key, {"kid": self.tokens.kid, **header}, claims)

    def link(self, action: str, *, tenant: str = TENANT, subject: str = make.MENTEE) -> str:
        """A genuine notifications link (an unsubscribe from introductions, or preferences)."""
        target = {"programme_id": make.PROGRAMME}
        if action == "notifications.unsubscribe":
            target["kind"] = "introduction"
        claims = action_claims(
            owner="notifications", tenant=tenant, subject=subject, action=action, target=target
        )
        return signed(self.links.key, ACTION_HEADER, claims)

    async def effects(self) -> dict[str, int]:
        counted = await self.http.effects("notifications", TENANTS)
        for tenant in TENANTS:
            conn = self.http.database
            counted[f"{tenant}: preferences"] = await conn.fetchval(
                "notifications", PREFERENCES, tenant
            )
        return counted


def _in_tenant(envelope: Envelope[Any], tenant: str) -> Envelope[Any]:
    return Envelope.new(
        envelope.data,
        source=envelope.source,
        time=envelope.time,
        tenant_id=tenant,
        programme_id=envelope.programme_id,
    )


@pytest.fixture(scope="module")
async def stage(
    database_template: DatabaseTemplate, kafka_bootstrap: str, tmp_path_factory: Any
) -> AsyncIterator[Stage]:
    """Both tenants hold the same programme and people (X1, Y1); only tenant A's pair is
    formed, so only A has deliveries (its introductions)."""
    links, tokens = ActionLinkIssuer(), TokenIssuer()
    async with http_stage(
        template=database_template,
        bootstrap=kafka_bootstrap,
        directory=Path(tmp_path_factory.mktemp("hostile-notifications")),
        services={"notifications": {**links.signing_env(), **tokens.service_env()}},
    ) as http:
        for tenant in TENANTS:
            for envelope in (make.define_programme(), *make.enrol_pair()):
                await http.kafka.publish(_in_tenant(envelope, tenant))
        await eventually(lambda: http.database.fetchval("notifications", PEOPLE), 4)
        await http.kafka.publish(make.pair_formed())
        await eventually(lambda: http.database.fetchval("notifications", DELIVERIES, TENANT), 2)
        yield Stage(http=http, links=links, tokens=tokens)


# --- GET /deliveries -----------------------------------------------------------------------

TOKENS: dict[str, Callable[[Any], str]] = dict(BEARER_TOKENS)
"""The bearer suite's forged and hostile tokens, built from this module's :class:`Stage`."""


@pytest.mark.parametrize("case", list(TOKENS))
async def test_deliveries_refuse_a_forged_or_hostile_bearer_token(stage: Stage, case: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.get(f"{stage.url}/deliveries", headers=bearer(TOKENS[case](stage)))
    assert answer.status_code == 401
    assert " / " in answer.json()["error"]
    [challenge] = answer.headers.get_list("www-authenticate")
    assert challenge.isprintable()


QUERIES: dict[str, tuple[str, int, str]] = {
    "invalid UTF-8": ("?%FF%FE", 400, "not_utf8"),
    "raw-looking NUL and CR/LF": ("?x=%00%0D%0ASet-Cookie:1", 200, ""),
    "a 9 KB query": ("?p=" + "x" * 9_000, 414, "query_too_long"),
    "65 parameters": ("?" + "&".join(f"p{n}=1" for n in range(65)), 400, "too_many_fields"),
}


@pytest.mark.parametrize("case", list(QUERIES))
async def test_deliveries_read_a_hostile_query_within_the_limits(stage: Stage, case: str) -> None:
    """/deliveries takes no parameter: one is ignored, but the limits of every query hold."""
    query, status, code = QUERIES[case]
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.get(
            f"{stage.url}/deliveries{query}", headers=bearer(stage.tokens.token(TENANT))
        )
    assert answer.status_code == status
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "Set-Cookie" not in answer.headers
    if code:
        assert answer.json()["code"] == code
        assert " / " in answer.json()["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_deliveries_answer_another_method_405(stage: Stage, method: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.request(
            method, f"{stage.url}/deliveries", headers=bearer(stage.tokens.token(TENANT))
        )
    assert (answer.status_code, answer.headers["allow"]) == (405, "GET, HEAD")
    assert answer.json()["code"] == "method_not_allowed"


async def test_each_tenant_counts_its_own_deliveries_beside_hostile_requests(
    stage: Stage,
) -> None:
    """The same ids in both tenants; A's introductions are A's alone, also while every
    hostile token above is refused at the same time."""
    before = await stage.effects()
    url = f"{stage.url}/deliveries"
    async with httpx.AsyncClient(timeout=60) as client:
        hostile = [client.get(url, headers=bearer(build(stage))) for build in TOKENS.values()]
        *refused, as_a, as_b = await asyncio.gather(
            *hostile,
            client.get(url, headers=bearer(stage.tokens.token(TENANT))),
            client.get(url, headers=bearer(stage.tokens.token(OTHER_TENANT))),
        )
    assert {answer.status_code for answer in refused} == {401}
    assert {row["kind"] for row in as_a.json()["deliveries"]} == {"introduction"}
    assert sum(row["deliveries"] for row in as_a.json()["deliveries"]) == 2
    assert as_b.json() == {"deliveries": []}
    assert await stage.effects() == before


# --- the preferences page and unsubscribe links ------------------------------------------------


@pytest.mark.parametrize("box", ["zzz", "introduction,stall_nudge", "", "<b>all</b>", "ALL"])
async def test_a_preferences_box_the_page_does_not_offer_is_refused_with_the_form(
    stage: Stage, box: str
) -> None:
    before = await stage.effects()
    token = stage.link("notifications.preferences")
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        answer = await client.post(
            "/actions", data={"token": token, "opt_out": ["session_reminder", box]}
        )
    assert (answer.status_code, outcome(answer.text)) == (422, "(form)")
    assert "Please tick only the boxes offered" in answer.text
    assert 'value="session_reminder" checked' in answer.text  # what they ticked, kept
    assert "<b>" not in answer.text
    assert await stage.effects() == before


async def test_an_unsubscribe_link_of_a_person_the_tenant_does_not_know_records_nothing(
    stage: Stage,
) -> None:
    """RFC 8058's one-click POST succeeds (200) but stores no opt-out for someone the
    tenant holds nothing on: X9 in A, and A's X1 link replayed as tenant C."""
    before = await stage.effects()
    strangers = [
        stage.link("notifications.unsubscribe", subject="X9"),
        stage.link("notifications.unsubscribe", tenant="groupe-inconnu"),
    ]
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        for token in strangers:
            shown = await client.get("/actions", params={"token": token})
            one_click = await client.post(
                f"/actions?token={token}",
                content=b"List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert (shown.status_code, outcome(shown.text)) == (200, "already_recorded")
            assert (one_click.status_code, outcome(one_click.text)) == (200, "already_recorded")
    after = await stage.effects()
    assert await stage.http.database.fetchval("notifications", PREFERENCES, "groupe-inconnu") == 0
    assert after == before


async def test_an_unsubscribe_link_of_a_person_the_tenant_knows_records_once(
    stage: Stage,
) -> None:
    """B's X1 is enrolled (no preferences yet): the one-click POST records the opt-out in B."""
    before = await stage.effects()
    token = stage.link("notifications.unsubscribe", tenant=OTHER_TENANT)
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        clicks = await asyncio.gather(
            *(
                client.post(
                    f"/actions?token={token}",
                    content=b"List-Unsubscribe=One-Click",
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                for _ in range(2)
            )
        )
    assert sorted(outcome(click.text) for click in clicks) == ["already_recorded", "recorded"]
    after = await stage.effects()
    assert after[f"{OTHER_TENANT}: links used"] == before[f"{OTHER_TENANT}: links used"] + 1
    assert after[f"{OTHER_TENANT}: preferences"] == before[f"{OTHER_TENANT}: preferences"] + 1
    assert after[f"{TENANT}: preferences"] == before[f"{TENANT}: preferences"]
    raw = await stage.http.database.fetchval("notifications", OPT_OUTS, OTHER_TENANT, make.MENTEE)
    assert json.loads(raw) == [{"kind": "introduction", "channel": "email"}]


# --- paths and methods no endpoint serves -----------------------------------------------------


@pytest.mark.parametrize("case", list(UNROUTED))
async def test_an_unknown_path_or_method_is_answered_in_both_languages(
    stage: Stage, case: str
) -> None:
    await check_unrouted(stage.port, case)
