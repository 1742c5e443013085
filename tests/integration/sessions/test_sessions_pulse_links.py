"""The sessions service's pulse action pages, as a real process on the real broker and
Postgres: "on track" and "we need help" links become the AnswerPulse a platform would send
(PulseAnswered, PairNeedsHelp once, on Kafka), a second click is "already recorded", and
another person's link, a round not asked and an expired link are refused clearly."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.sessions_messages import PairNeedsHelp, PulseAnswer, PulseAnswered
from binome_shared.contracts.topics import SESSIONS_EVENTS
from tests.integration.sessions.test_sessions_action_links import USED, started
from tests.integration.sessions.test_sessions_pulse import FIRST_ROUND, PLAN, ROUNDS_ASKED
from tests.integration.sessions.test_sessions_service_flow import (
    FORMED_AT,
    PROGRAMME,
    TENANT,
    define_programme,
    pair_formed,
    set_clock,
)
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def pulse_link(
    issuer: ActionLinkIssuer, action: str, subject: str, *, number: int = 1, **more: Any
) -> str:
    return issuer.link(
        owner="sessions",
        tenant=TENANT,
        subject=subject,
        action=action,
        target={"programme_id": PROGRAMME, "pair_id": "pair-0", "pulse_number": number},
        language=more.pop("language", "en"),
        **more,
    )


async def test_pulse_links_answer_once_and_refuse_clearly_on_the_real_stack(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    sessions = await started(service_factory, issuer)
    await kafka.publish(define_programme(plan=PLAN))
    await kafka.publish(pair_formed(0))
    tracked = "SELECT count(*) FROM pairs WHERE state IS NOT NULL"
    await eventually(lambda: database.fetchval("sessions", tracked), 1)
    await set_clock(sessions, FORMED_AT + timedelta(days=1))
    await set_clock(sessions, FIRST_ROUND + timedelta(minutes=1))
    await eventually(lambda: database.fetchval("sessions", ROUNDS_ASKED, 1), 1)
    on_track = pulse_link(issuer, "pulse.on_track", "E0")

    async with httpx.AsyncClient(base_url=sessions.url, timeout=30) as client:
        page = await client.get("/actions", params={"token": on_track})
        assert page.status_code == 200
        assert "Is your pair going well?" in html.unescape(page.text)
        assert 'method="post"' in page.text
        done = await client.post("/actions", data={"token": on_track})
        assert (done.status_code, outcome(done)) == (200, "recorded")
        again = await client.post("/actions", data={"token": on_track})
        assert (again.status_code, outcome(again)) == (200, "already_recorded")
        # The same answer through another message's link: already so, nothing published.
        copy = pulse_link(issuer, "pulse.on_track", "E0", token_id="t-copy")
        assert outcome(await client.post("/actions", data={"token": copy})) == "already_recorded"
        # A change of mind through the other link, then the mentor: HR is alerted once.
        for who in ("E0", "M0"):
            need_help = pulse_link(issuer, "pulse.need_help", who, language="fr")
            helped = await client.post("/actions", data={"token": need_help})
            assert (helped.status_code, outcome(helped)) == (200, "recorded")

        stranger = await client.post(
            "/actions", data={"token": pulse_link(issuer, "pulse.on_track", "E9")}
        )
        assert (stranger.status_code, outcome(stranger)) == (409, "refused")
        assert "This person is not a member of this pair" in html.unescape(stranger.text)
        not_asked = await client.post(
            "/actions",
            data={"token": pulse_link(issuer, "pulse.on_track", "E0", number=2, language="fr")},
        )
        assert (not_asked.status_code, outcome(not_asked)) == (409, "refused")
        assert "Ce baromètre n'a pas (encore) été demandé" in html.unescape(not_asked.text)
        expired = pulse_link(issuer, "pulse.on_track", "M0", now=0, lifetime_seconds=60)
        late = await client.post("/actions", data={"token": expired})
        assert (late.status_code, outcome(late)) == (403, "expired")

    assert await database.fetchval("sessions", USED, TENANT) == 3
    events = await read_envelopes(kafka, SESSIONS_EVENTS, expect=6)
    answered = [e.data for e in events if isinstance(e.data, PulseAnswered)]
    assert [(a.side.value, a.answer) for a in answered] == [
        ("mentee", PulseAnswer.ON_TRACK),
        ("mentee", PulseAnswer.NEED_HELP),
        ("mentor", PulseAnswer.NEED_HELP),
    ]
    alerts = [e.data for e in events if isinstance(e.data, PairNeedsHelp)]
    assert [(a.pulse_number, a.side.value) for a in alerts] == [(1, "mentee")]
