"""Pairing's consent action pages, as a real process on the real broker and Postgres: an
"accept" link becomes the AcceptPair a platform would send (PairAccepted on Kafka, then
PairFormed once both accepted), a second click is "already recorded", a decline link calls
the pair off, and the handler's refusals (another person's pair, a settled pair, a passed
deadline, an unknown pair) and expired links are told clearly, recording nothing."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.pairing_events import (
    PairAccepted,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.topics import PAIRING_EVENTS
from tests.integration.pairing.test_pairing_consent import (
    ASKED_AT,
    PAIRS,
    PROGRAMME,
    ROUNDS,
    STATUS,
    WITHIN,
    of_type,
    start_consent_round,
)
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.programmes import TENANT
from tests.support.waiting import eventually
from tests.unit.pairing.pairing_builders import mentee, mentor, need, skill

pytestmark = pytest.mark.integration

USED = "SELECT count(*) FROM action_links_used WHERE tenant_id = $1"


def shown(page: httpx.Response) -> str:
    """The page's text as a person reads it (apostrophes are escaped in the HTML)."""
    return html.unescape(page.text)


def consent_link(
    issuer: ActionLinkIssuer, action: str, pair_id: str, subject: str, **more: Any
) -> str:
    return issuer.link(
        owner="pairing",
        tenant=TENANT,
        subject=subject,
        action=action,
        target={"programme_id": PROGRAMME, "pair_id": pair_id},
        language=more.pop("language", "en"),
        **more,
    )


async def test_consent_links_accept_decline_and_refuse_on_the_real_stack(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    pairing = service_factory("pairing", BINOME_CLOCK="simulated", **issuer.verifying_env())
    await pairing.wait_ready()
    await set_clock(pairing, ASKED_AT)
    people = [
        mentor("M1", skills=[skill("data", 5)]),
        mentor("M2", skills=[skill("generative_ai", 5)]),
        mentee("E1", learning_needs=[need("data", 5)]),
        mentee("E2", learning_needs=[need("generative_ai", 5)]),
    ]
    await start_consent_round(kafka, people)
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 1)
    pairs = dict(await database.fetch("pairing", PAIRS, "r1"))
    kept, declined = pairs["M1"], pairs["M2"]
    accept = consent_link(issuer, "pair.accept", kept, "E1")

    async with httpx.AsyncClient(base_url=pairing.url, timeout=30) as client:
        page = await client.get("/actions", params={"token": accept})
        assert page.status_code == 200
        assert '<html lang="en">' in shown(page)
        assert 'method="post"' in shown(page)
        assert "Do you accept this pair?" in shown(page)
        done = await client.post("/actions", data={"token": accept})
        assert (done.status_code, outcome(done)) == (200, "recorded")
        again = await client.post("/actions", data={"token": accept})
        assert (again.status_code, outcome(again)) == (200, "already_recorded")
        assert outcome(await client.get("/actions", params={"token": accept})) == (
            "already_recorded"
        )
        # The same answer through another message's link: nothing more is published.
        other_message = consent_link(issuer, "pair.accept", kept, "E1", token_id="t-other")
        repeat = await client.post("/actions", data={"token": other_message})
        assert (repeat.status_code, outcome(repeat)) == (200, "already_recorded")
        assert "Already recorded" in shown(repeat)
        # The mentor accepts in French: both have, the pair is formed.
        mentor_accepts = consent_link(issuer, "pair.accept", kept, "M1", language="fr")
        formed = await client.post("/actions", data={"token": mentor_accepts})
        assert (formed.status_code, outcome(formed)) == (200, "recorded")
        assert "C'est enregistré" in shown(formed)

        # Someone else's link to that pair: a clear refusal, nothing recorded.
        stranger = await client.post(
            "/actions", data={"token": consent_link(issuer, "pair.accept", kept, "E2")}
        )
        assert (stranger.status_code, outcome(stranger)) == (409, "refused")
        assert "This link is not yours" in shown(stranger)
        unknown = await client.post(
            "/actions", data={"token": consent_link(issuer, "pair.accept", "pair-nope", "E1")}
        )
        assert (unknown.status_code, outcome(unknown)) == (409, "refused")
        assert "This proposed pair cannot be found" in shown(unknown)
        expired = consent_link(issuer, "pair.accept", declined, "E2", now=0, lifetime_seconds=60)
        late_link = await client.post("/actions", data={"token": expired})
        assert (late_link.status_code, outcome(late_link)) == (403, "expired")

        # M2 declines; E2's acceptance then finds the pair settled, and later too late.
        decline = consent_link(issuer, "pair.decline", declined, "M2")
        assert (
            "Do you decline this pair?"
            in (await client.get("/actions", params={"token": decline})).text
        )
        assert outcome(await client.post("/actions", data={"token": decline})) == "recorded"
        e2_accepts = consent_link(issuer, "pair.accept", declined, "E2", language="fr")
        settled = await client.post("/actions", data={"token": e2_accepts})
        assert (settled.status_code, outcome(settled)) == (409, "refused")
        assert "n'attend plus de réponse" in shown(settled)
        assert "M2" not in shown(settled)  # never who declined
        await set_clock(pairing, ASKED_AT + WITHIN + timedelta(minutes=1))
        too_late = await client.post("/actions", data={"token": e2_accepts})
        assert (too_late.status_code, outcome(too_late)) == (409, "refused")
        assert "Le délai pour répondre" in shown(too_late)

    assert await database.fetchval("pairing", STATUS, kept) == "formed"
    assert await database.fetchval("pairing", STATUS, declined) == "called_off"
    # Accept E1, accept M1, decline M2: three links used, the refused ones none.
    assert await database.fetchval("pairing", USED, TENANT) == 3
    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=7)
    assert len(of_type(events, PairConsentRequested)) == 2
    accepted = of_type(events, PairAccepted)
    assert sorted((a.pair_id, a.side.value) for a in accepted) == sorted(
        [(kept, "mentee"), (kept, "mentor")]
    )
    assert [f.pair_id for f in of_type(events, PairFormed)] == [kept]
    assert [c.pair_id for c in of_type(events, PairCalledOff)] == [declined]
