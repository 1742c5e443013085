"""The sessions service's action links under attack, on a real process, Kafka and Postgres:
the feedback form's fields out of range (ratings 0, 6, "5.0", huge; a comment at and past
its length, with NUL or a bidirectional override; fields given twice), a second tenant with
the same programme, pair and people ids, and one link clicked eight times at once. Every
hostile form is refused with its reason (the form again, 422) and records nothing; the
genuine click acts exactly once, in its own tenant only."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_shared.contracts.sessions_messages import ReportSessionHeld, ScheduleSession
from binome_shared.contracts.topics import SESSIONS_EVENTS
from tests.integration.sessions.test_sessions_service_flow import (
    FORMED_AT,
    OTHER_TENANT,
    PROGRAMME,
    TENANT,
    define_programme,
    message,
    pair_formed,
    set_clock,
)
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.hostile_http import (
    UNROUTED,
    HttpStage,
    check_unrouted,
    http_stage,
)
from tests.support.platform import DatabaseTemplate, read_envelopes
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SLOT = FORMED_AT + timedelta(days=3)
TENANTS = (TENANT, OTHER_TENANT)
SESSION_STATUS = """
SELECT count(*) FROM pairs WHERE pair_id = 'pair-0' AND tenant_id = $1
AND state -> 'sessions' -> 0 ->> 'status' = $2
"""
OUTBOX_ON = "SELECT count(*) FROM outbox WHERE topic = $1"
STORED_COMMENTS = """
SELECT feedback ->> 'comment' FROM pairs, jsonb_array_elements(state -> 'feedback') AS feedback
WHERE tenant_id = $1 AND pair_id = 'pair-0'
"""


@dataclass(frozen=True)
class Stage:
    http: HttpStage
    links: ActionLinkIssuer

    @property
    def url(self) -> str:
        return self.http.services["sessions"].url

    def link(self, action: str, *, tenant: str, pair_id: str = "pair-0", **more: Any) -> str:
        return self.links.link(
            owner="sessions",
            tenant=tenant,
            subject="E0",
            action=action,
            target={
                "programme_id": PROGRAMME,
                "pair_id": pair_id,
                "session_number": 1,
                "side": "mentee",
            },
            language="en",
            **more,
        )

    async def effects(self) -> dict[str, int]:
        return await self.http.effects("sessions", TENANTS)


@pytest.fixture(scope="module")
async def stage(
    database_template: DatabaseTemplate, kafka_bootstrap: str, tmp_path_factory: Any
) -> AsyncIterator[Stage]:
    """In each tenant the same programme and pair-0 (E0, M0), its first session booked and
    past; in tenant B that session is already reported held (by a platform) and B also has
    pair-1, which A does not."""
    links = ActionLinkIssuer()
    async with http_stage(
        template=database_template,
        bootstrap=kafka_bootstrap,
        directory=Path(tmp_path_factory.mktemp("hostile-sessions")),
        services={"sessions": {"BINOME_CLOCK": "simulated", **links.verifying_env()}},
    ) as http:
        kafka, database = http.kafka, http.database
        for tenant in TENANTS:
            await kafka.publish(define_programme(tenant=tenant))
            await kafka.publish(pair_formed(0, tenant=tenant))
        await kafka.publish(pair_formed(1, tenant=OTHER_TENANT))
        await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 3)
        sessions = http.services["sessions"]
        await set_clock(sessions, FORMED_AT + timedelta(days=1))
        for tenant in TENANTS:
            booking = ScheduleSession(pair_id="pair-0", session_number=1, starts_at=SLOT)
            await kafka.publish(message(booking, tenant=tenant))
            await eventually(
                partial(database.fetchval, "sessions", SESSION_STATUS, tenant, "scheduled"), 1
            )
        await set_clock(sessions, SLOT + timedelta(hours=2))
        held = ReportSessionHeld(
            pair_id="pair-0", session_number=1, held_at=SLOT, duration_minutes=60
        )
        await kafka.publish(message(held, at=SLOT + timedelta(hours=1), tenant=OTHER_TENANT))
        await eventually(
            lambda: database.fetchval("sessions", SESSION_STATUS, OTHER_TENANT, "held"), 1
        )
        yield Stage(http=http, links=links)


_PLEASE_ANSWER = "Please answer"
FORMS: dict[str, tuple[dict[str, Any], str]] = {
    **{
        f"rating {rating!r}": ({"rating": rating, "good_fit": "yes"}, _PLEASE_ANSWER)
        for rating in ("0", "6", "5.0", "", " 5", "-1", "9" * 10_000, "5\x00", "\u0665")
    },
    "no rating": ({"good_fit": "yes"}, _PLEASE_ANSWER),
    "good fit neither yes nor no": ({"rating": "4", "good_fit": "maybe"}, _PLEASE_ANSWER),
    "two ratings": ({"rating": ["4", "5"]}, "given several times with different values"),
    "two comments": (
        {"rating": "4", "comment": ["a", "b"], "good_fit": "yes"},
        "given several times with different values",
    ),
    "a comment of 2,001 characters": (
        {"rating": "4", "comment": "é" * 2_001, "good_fit": "yes"},
        "longer than 2000 characters",
    ),
    "a comment with a NUL": (
        {"rating": "4", "comment": "Très bien\x00", "good_fit": "yes"},
        "Part of what you typed cannot be accepted",
    ),
    "a comment with a bidirectional override": (
        {"rating": "4", "comment": "ok \u202egnp.exe", "good_fit": "yes"},
        "Part of what you typed cannot be accepted",
    ),
    "markup in a comment beside a bad rating": (
        {"rating": "7", "comment": "<script>alert(1)</script>"},
        _PLEASE_ANSWER,
    ),
    "markup in a comment of 2,480 characters": (
        {"rating": "5", "comment": "</textarea><script>x</script>\n" * 80, "good_fit": "yes"},
        "longer than 2000 characters",
    ),
}


@pytest.mark.parametrize("case", list(FORMS))
async def test_a_feedback_form_out_of_range_is_refused_with_its_reason(
    stage: Stage, case: str
) -> None:
    form, reason = FORMS[case]
    token = stage.link("session.feedback", tenant=OTHER_TENANT)
    before = await stage.effects()
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        answer = await client.post("/actions", data={"token": token, **form})
    assert (answer.status_code, outcome(answer.text)) == (422, "(form)")
    assert reason in answer.text
    assert 'name="token"' in answer.text  # the form again, to correct
    assert "<script>" not in answer.text
    assert "\x00" not in answer.text
    _assert_kept(answer.text, form)
    assert await stage.effects() == before


def _first(value: str | list[str]) -> str:
    return value if isinstance(value, str) else value[0]


def _assert_kept(page: str, form: dict[str, Any]) -> None:
    """The form comes back as the person filled it: the comment (its first value) escaped in
    its text area, a NUL shown as U+FFFD; the answers that are among the choices ticked."""
    typed = html.escape(_first(form.get("comment", ""))).replace("\x00", "\ufffd")
    assert f'maxlength="2000">\n{typed}</textarea>' in page
    for name in ("rating", "good_fit"):
        if name in form:
            sent = _first(form[name])
            offered = re.search(f'name="{name}" value="{re.escape(html.escape(sent))}"', page)
            ticked = re.search(f'name="{name}" value="{re.escape(sent)}"( required)? checked', page)
            assert (offered is None) == (ticked is None)


async def test_a_comment_at_its_length_with_line_breaks_and_markup_is_recorded_once(
    stage: Stage,
) -> None:
    """2,000 characters once the browser's CR LF line breaks count as one, as its maxlength
    counted them; the markup is stored as text, never shown unescaped."""
    lines = ["<b>Très utile</b> " + "x" * 81] * 20  # 20 lines of 99 characters
    comment = "\r\n".join(lines) + "y" * (2_000 - 20 * 99 - 19)
    assert len(comment.replace("\r\n", "\n")) == 2_000
    token = stage.link("session.feedback", tenant=OTHER_TENANT)
    before = await stage.effects()
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        form = {"token": token, "rating": "5", "comment": comment, "good_fit": "yes"}
        sent = await client.post("/actions", data=form)
        again = await client.post("/actions", data=form)
    assert (sent.status_code, outcome(sent.text)) == (200, "recorded")
    assert (again.status_code, outcome(again.text)) == (200, "already_recorded")
    after = await stage.effects()
    assert after[f"{OTHER_TENANT}: links used"] == before[f"{OTHER_TENANT}: links used"] + 1
    assert after[f"{OTHER_TENANT}: events"] > before[f"{OTHER_TENANT}: events"]
    assert {key: after[key] for key in after if TENANT + ":" in key} == {
        key: before[key] for key in before if TENANT + ":" in key
    }
    stored = await stage.http.database.fetchval("sessions", STORED_COMMENTS, OTHER_TENANT)
    assert stored == comment.replace("\r\n", "\n")


async def test_one_link_clicked_eight_times_at_once_acts_once_in_its_own_tenant(
    stage: Stage,
) -> None:
    """Tenant A's "it took place" link, posted eight times concurrently, beside A's link to a
    pair only B has: exactly one SessionCompleted, in A; nothing in B; then replayed."""
    held = stage.link("session.held", tenant=TENANT)
    b_only_pair = stage.link("session.held", tenant=TENANT, pair_id="pair-1")
    before = await stage.effects()
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        clicks = await asyncio.gather(
            *(client.post("/actions", data={"token": held}) for _ in range(8)),
            client.post("/actions", data={"token": b_only_pair}),
        )
        *same_link, stranger = clicks
        replayed = await client.post("/actions", data={"token": held})
        shown_again = await client.get("/actions", params={"token": held})
    assert sorted(outcome(click.text) for click in same_link) == [
        *["already_recorded"] * 7,
        "recorded",
    ]
    assert {click.status_code for click in same_link} == {200}
    assert stranger.status_code == 422
    assert "no longer matches your pair" in stranger.text
    assert outcome(replayed.text) == outcome(shown_again.text) == "already_recorded"
    after = await stage.effects()
    assert after[f"{TENANT}: links used"] == before[f"{TENANT}: links used"] + 1
    assert after[f"{OTHER_TENANT}: links used"] == before[f"{OTHER_TENANT}: links used"]
    assert after[f"{OTHER_TENANT}: events"] == before[f"{OTHER_TENANT}: events"]
    assert await stage.http.database.fetchval("sessions", SESSION_STATUS, TENANT, "held") == 1

    kafka = stage.http.kafka
    topic = SESSIONS_EVENTS.full_name(kafka.prefix)
    written = await stage.http.database.fetchval("sessions", OUTBOX_ON, topic)
    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=written, timeout=20)
    completed = [e.tenant_id for e in facts if type(e.data).__name__ == "SessionCompleted"]
    # B's one SessionCompleted is the platform's report of the fixture, not a click.
    assert sorted(completed) == sorted([TENANT, OTHER_TENANT])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"now": "' + b"9" * 1_000_000 + b'"}', 413),
        (b"[" * 50_000, 400),
        (b'{"now": "2028-13-45T99:00:00+00:00"}', 400),
        (b'{"now": "\xff"}', 400),
    ],
    ids=["1 MB", "nested 50,000 deep", "no such date", "invalid UTF-8"],
)
async def test_the_demo_clock_refuses_a_hostile_body_and_keeps_its_time(
    stage: Stage, body: bytes, status: int
) -> None:
    """``/admin/clock`` exists on a simulated clock only (the demo, these tests)."""
    async with httpx.AsyncClient(base_url=stage.url, timeout=30) as client:
        before = (await client.get("/admin/clock")).json()
        answer = await client.post("/admin/clock", content=body)
        after = (await client.get("/admin/clock")).json()
    assert answer.status_code == status
    assert "error" in answer.json()
    assert after == before


@pytest.mark.parametrize("case", list(UNROUTED))
async def test_an_unknown_path_or_method_is_answered_in_both_languages(
    stage: Stage, case: str
) -> None:
    await check_unrouted(stage.http.services["sessions"].port, case)
