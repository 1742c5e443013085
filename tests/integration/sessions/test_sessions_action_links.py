"""The sessions service's action pages, as a real process on the real broker and Postgres: a
signed link shows its page, its POST becomes the command a platform would send (the events
on Kafka), a second click is "already recorded", and forged, expired, tampered, other-tenant
or other-person links do nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.sessions_messages import ScheduleSession
from binome_shared.contracts.topics import SESSIONS_EVENTS
from tests.integration.sessions.test_sessions_service_flow import (
    FORMED_AT,
    PROGRAMME,
    TENANT,
    formed,
    message,
    set_clock,
)
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SLOT = FORMED_AT + timedelta(days=3)
FEEDBACK = """
SELECT count(*) FROM pairs, jsonb_array_elements(state -> 'feedback') AS feedback
WHERE pair_id = $1 AND (feedback ->> 'rating')::int = $2
"""
USED = "SELECT count(*) FROM action_links_used WHERE tenant_id = $1"


async def started(service_factory: Any, issuer: ActionLinkIssuer) -> ServiceProcess:
    sessions: ServiceProcess = service_factory(
        "sessions", BINOME_CLOCK="simulated", **issuer.verifying_env()
    )
    await sessions.wait_ready()
    return sessions


async def scheduled(
    service_factory: Any, issuer: ActionLinkIssuer, kafka: Kafka, database: ProvisionedDatabase
) -> ServiceProcess:
    """Sessions running, pair-0 formed and its first session booked at SLOT."""
    sessions = await started(service_factory, issuer)
    await formed(kafka, database)
    await set_clock(sessions, FORMED_AT + timedelta(days=1))
    await kafka.publish(
        message(ScheduleSession(pair_id="pair-0", session_number=1, starts_at=SLOT))
    )
    return sessions


def session_link(
    issuer: ActionLinkIssuer, action: str, *, subject: str = "E0", side: str = "mentee", **more: Any
) -> str:
    target = {"programme_id": PROGRAMME, "pair_id": "pair-0", "session_number": 1, "side": side}
    return issuer.link(
        owner="sessions",
        tenant=more.pop("tenant", TENANT),
        subject=subject,
        action=action,
        target=target,
        language=more.pop("language", "en"),
        **more,
    )


async def test_a_click_reports_the_session_held_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    sessions = await scheduled(service_factory, issuer, kafka, database)
    await read_envelopes(kafka, SESSIONS_EVENTS, expect=2)  # planned, scheduled
    await set_clock(sessions, SLOT + timedelta(hours=2))
    token = session_link(issuer, "session.held")

    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        page = await client.get("/actions", params={"token": token})
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert 'method="post"' in page.text
        assert "Do you confirm this session took place?" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"

        done = await client.post("/actions", data={"token": token})
        assert (done.status_code, outcome(done)) == (200, "recorded")
        again = await client.post("/actions", data={"token": token})
        assert (again.status_code, outcome(again)) == (200, "already_recorded")
        shown_again = await client.get("/actions", params={"token": token})
        assert outcome(shown_again) == "already_recorded"

    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=3)
    completed = [e for e in facts if type(e.data).__name__ == "SessionCompleted"]
    assert len(completed) == 1
    assert completed[0].data.held_at == SLOT
    assert completed[0].tenant_id == TENANT
    assert await database.fetchval("sessions", USED, TENANT) == 1


async def test_feedback_from_the_form_reaches_the_track_and_kafka(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    sessions = await scheduled(service_factory, issuer, kafka, database)
    await set_clock(sessions, SLOT + timedelta(hours=2))
    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        held = await client.post("/actions", data={"token": session_link(issuer, "session.held")})
        assert outcome(held) == "recorded"
        token = session_link(issuer, "session.feedback", language="fr")
        form = await client.get("/actions", params={"token": token})
        assert '<html lang="fr">' in form.text
        assert "Ce binôme vous convient-il ?" in form.text  # asked after the first session
        unanswered = await client.post("/actions", data={"token": token})
        assert unanswered.status_code == 422
        assert "Merci de répondre" in unanswered.text
        sent = await client.post(
            "/actions",
            data={"token": token, "rating": "4", "comment": "Très utile <b>", "good_fit": "yes"},
        )
        assert (sent.status_code, outcome(sent)) == (200, "recorded")

    await eventually(lambda: database.fetchval("sessions", FEEDBACK, "pair-0", 4), 1)
    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=4)
    given = [e.data for e in facts if type(e.data).__name__ == "FeedbackGiven"]
    assert [(f.rating, f.side.value) for f in given] == [(4, "mentee")]


async def test_links_that_must_do_nothing_do_nothing(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    issuer = ActionLinkIssuer()
    sessions = await scheduled(service_factory, issuer, kafka, database)
    await set_clock(sessions, SLOT + timedelta(hours=2))
    good = session_link(issuer, "session.held")
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
    forged = session_link(ActionLinkIssuer(), "session.held")
    expired = session_link(issuer, "session.held", now=0, lifetime_seconds=60)
    other_tenant = session_link(issuer, "session.held", tenant="autre-groupe")
    other_person = session_link(issuer, "session.held", subject="E9")
    for_notifications = issuer.link(
        owner="notifications",
        tenant=TENANT,
        subject="E0",
        action="session.held",
        target={"programme_id": PROGRAMME, "pair_id": "pair-0", "session_number": 1},
    )

    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        answers = {
            name: await client.post("/actions", data={"token": token})
            for name, token in {
                "tampered": tampered,
                "forged": forged,
                "expired": expired,
                "for_notifications": for_notifications,
                "none": "",
            }.items()
        }
        for name, answer in answers.items():
            assert answer.status_code == 403, name
        assert {name: outcome(answer) for name, answer in answers.items()} == {
            "tampered": "invalid",
            "forged": "invalid",
            "expired": "expired",
            "for_notifications": "wrong_action",
            "none": "invalid",
        }
        assert "Lien non valide" in answers["forged"].text
        assert "Invalid link" in answers["forged"].text
        for token in (other_tenant, other_person):
            refused = await client.post("/actions", data={"token": token})
            assert refused.status_code == 422
            assert "no longer matches your pair" in refused.text
        # The genuine link still works: the refusals above recorded nothing.
        done = await client.post("/actions", data={"token": good})
        assert outcome(done) == "recorded"

    assert await database.fetchval("sessions", USED, TENANT) == 1
    assert await database.fetchval("sessions", "SELECT count(*) FROM action_links_used") == 1
    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=3)
    assert [type(e.data).__name__ for e in facts].count("SessionCompleted") == 1


async def test_a_refused_action_says_why_and_leaves_the_link_usable(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    """ "It did not take place" after "it took place": the handler's own refusal, shown."""
    issuer = ActionLinkIssuer()
    sessions = await scheduled(service_factory, issuer, kafka, database)
    early = session_link(issuer, "session.held")
    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        await eventually(
            lambda: database.fetchval(
                "sessions",
                "SELECT state -> 'sessions' -> 0 ->> 'status' FROM pairs WHERE pair_id = $1",
                "pair-0",
            ),
            "scheduled",
        )
        too_early = await client.post("/actions", data={"token": early})
        assert too_early.status_code == 409
        assert outcome(too_early) == "refused"
        await set_clock(sessions, SLOT + timedelta(hours=2))
        assert outcome(await client.post("/actions", data={"token": early})) == "recorded"
        missed = await client.post(
            "/actions", data={"token": session_link(issuer, "session.missed")}
        )
        assert (missed.status_code, outcome(missed)) == (409, "refused")
    assert await database.fetchval("sessions", USED, TENANT) == 1
