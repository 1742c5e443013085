"""One-click action links under a hostile host: pairing (accept links) and sessions ("it took
place" and feedback links) are SIGKILLed (at several moments) or SIGTERMed while the POST of a
link is in flight, restarted, and the person clicks again. Whatever the moment, each link has
exactly one effect in all: one PairAccepted, SessionCompleted or FeedbackGiven on
Kafka (the relay may publish an event twice under the same id when killed between the
broker's ack and marking it sent, docs/messaging-core.md: consumers drop the copy), one
used-link row, no outbox row left unsent; the second click says "recorded" when
the first never committed and "already recorded" when it did."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.pairing_events import PairAccepted, PairFormed
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from tests.integration.pairing.test_pairing_consent import (
    PAIRS,
    ROUNDS,
    of_type,
    start_consent_round,
)
from tests.integration.pairing.test_pairing_consent_links import USED, consent_link
from tests.integration.sessions.test_sessions_action_links import SLOT, scheduled, session_link
from tests.integration.sessions.test_sessions_service_flow import set_clock
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.programmes import TENANT
from tests.support.waiting import eventually
from tests.unit.pairing.pairing_builders import mentee, mentor, need, skill

pytestmark = pytest.mark.integration

PEOPLE = 2
"""Two pairs, four accept links: one interrupted click per link."""
MOMENTS: tuple[float | str, ...] = (0.05, 0.15, "committed", "sigterm")
"""When the service is stopped after the POST is sent: SIGKILL after so many seconds (before,
then usually after the commit), SIGKILL as soon as the link's row is committed (before or after
the answer), or SIGTERM."""
SESSION_MOMENTS: tuple[float | str, ...] = (0.005, "committed", "sigterm")
"""Sessions answers a click faster than pairing: killed at 0.05 s it has already committed."""
UNSENT = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"


async def click(url: str, form: dict[str, str]) -> str:
    """One POST of the link's form; a connection the service dropped reads as ``dropped``."""
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return outcome(await client.post("/actions", data=form))
    except httpx.TransportError:
        return "dropped"


async def interrupted_click(
    service: ServiceProcess,
    database: ProvisionedDatabase,
    form: dict[str, str],
    moment: float | str,
) -> str:
    """Click while the service is stopped at ``moment``; the first click's outcome."""
    used = await database.fetchval(service.name, USED, TENANT)
    first = asyncio.create_task(click(service.url, form))
    if moment == "sigterm":
        await asyncio.sleep(0.01)
        assert await asyncio.to_thread(service.terminate) == 0
    else:
        if moment == "committed":
            await eventually(lambda: database.fetchval(service.name, USED, TENANT), used + 1)
        else:
            assert isinstance(moment, float)
            await asyncio.sleep(moment)
        await asyncio.to_thread(service.kill)
    answered = await first
    # SIGTERM lets the request in flight finish or refuses it whole, nothing between.
    assert moment != "sigterm" or answered in {"recorded", "dropped"}, answered
    return answered


def assert_second_click(first: str, second: str) -> None:
    """Recorded again only if the first click never committed."""
    expected = {"already_recorded"} if first == "recorded" else {"recorded", "already_recorded"}
    assert second in expected, (first, second)


async def test_accept_links_have_one_effect_whenever_pairing_is_killed(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    env = issuer.verifying_env()
    pairing = service_factory("pairing", **env)
    await pairing.wait_ready()
    people = [mentor(f"M{n}", skills=[skill("data", 5)]) for n in range(PEOPLE)]
    people += [mentee(f"E{n}", learning_needs=[need("data", 5)]) for n in range(PEOPLE)]
    await start_consent_round(kafka, people)
    await eventually(lambda: database.fetchval("pairing", ROUNDS), 1)
    pairs = await database.fetch("pairing", "SELECT pair_id, mentor_id, mentee_id FROM pairs")
    assert len(pairs) == PEOPLE, await database.fetch("pairing", PAIRS, "r1")
    links = [
        consent_link(issuer, "pair.accept", pair["pair_id"], member)
        for pair in pairs
        for member in (pair["mentor_id"], pair["mentee_id"])
    ]

    seen: list[tuple[str, str]] = []
    for token, moment in zip(links, MOMENTS, strict=True):
        first = await interrupted_click(pairing, database, {"token": token}, moment)
        pairing.start(**env)
        await pairing.wait_ready()
        second = await click(pairing.url, {"token": token})
        seen.append((first, second))
        assert_second_click(first, second)
    print("pairing's killed clicks (first, second):", seen)

    await eventually(lambda: database.fetchval("pairing", UNSENT), 0)
    assert await database.fetchval("pairing", USED, TENANT) == len(links)
    copies = await read_envelopes(kafka, PAIRING_EVENTS, expect=PEOPLE * 4 + 1)
    events = list({envelope.id: envelope for envelope in copies}.values())
    print("pairing events:", len(events), "on Kafka:", len(copies))
    accepted = Counter((a.pair_id, a.side.value) for a in of_type(events, PairAccepted))
    assert accepted == Counter({(p["pair_id"], s): 1 for p in pairs for s in ("mentor", "mentee")})
    assert sorted(f.pair_id for f in of_type(events, PairFormed)) == sorted(
        p["pair_id"] for p in pairs
    )
    kinds = Counter(type(envelope.data).__name__ for envelope in events)
    assert kinds == Counter(
        PairConsentRequested=PEOPLE, PairAccepted=2 * PEOPLE, PairFormed=PEOPLE, MatchingCompleted=1
    )


async def test_session_links_have_one_effect_whenever_sessions_is_killed(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    env = {"BINOME_CLOCK": "simulated", **issuer.verifying_env()}
    sessions = await scheduled(service_factory, issuer, kafka, database)
    after_the_slot = SLOT + timedelta(hours=2)
    await set_clock(sessions, after_the_slot)
    answers = {"good_fit": "yes"}
    forms = [
        {"token": session_link(issuer, "session.held")},
        {"token": session_link(issuer, "session.feedback"), "rating": "4", **answers},
        {
            "token": session_link(issuer, "session.feedback", subject="M0", side="mentor"),
            "rating": "5",
            **answers,
        },
    ]

    seen: list[tuple[str, str]] = []
    for form, moment in zip(forms, SESSION_MOMENTS, strict=True):
        first = await interrupted_click(sessions, database, form, moment)
        sessions.start(**env)
        await sessions.wait_ready()
        await set_clock(sessions, after_the_slot)  # the simulated clock starts afresh
        second = await click(sessions.url, form)
        seen.append((first, second))
        assert_second_click(first, second)
    print("sessions' killed clicks (first, second):", seen)

    await eventually(lambda: database.fetchval("sessions", UNSENT), 0)
    assert await database.fetchval("sessions", USED, TENANT) == len(forms)
    copies = await read_envelopes(kafka, SESSIONS_EVENTS, expect=5)
    events = list({envelope.id: envelope for envelope in copies}.values())
    print("sessions events:", len(events), "on Kafka:", len(copies))
    kinds = Counter(type(envelope.data).__name__ for envelope in events)
    assert (kinds["SessionCompleted"], kinds["FeedbackGiven"]) == (1, 2), kinds
    given = [e.data for e in events if type(e.data).__name__ == "FeedbackGiven"]
    assert sorted((f.rating, f.side.value) for f in given) == [(4, "mentee"), (5, "mentor")]
