"""Two tenants side by side in the sessions service, on the real broker and Postgres: the same
programme id with different session plans, the same pairs (same pair ids, same people ids).
Each tenant's pairs follow its own plan, its events carry only its own data, its progress
token sees only its own figures; a command of one tenant naming a pair only the other has
waits under its own tenant's name, is never applied to the other's pair, and ends as a dead
letter (``prerequisite_never_arrived``) when its parking time is over."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.session_plan import SessionPlan, default_planned_sessions
from binome_shared.contracts.sessions_messages import (
    ProgrammeProgressReported,
    ReportSessionHeld,
    ScheduleSession,
    SessionCompleted,
    SessionPlanned,
    SessionScheduled,
    SetObjective,
)
from binome_shared.contracts.topics import SESSION_COMMANDS, SESSIONS_EVENTS
from tests.integration.sessions.test_sessions_service_flow import (
    FORMED_AT,
    OTHER_TENANT,
    PROGRAMME,
    STARTS_ON,
    TENANT,
    define_programme,
    message,
    pair_formed,
    set_clock,
)
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

A, B = TENANT, OTHER_TENANT
PAIRS = {A: 6, B: 5}
"""pair-0 … pair-4 exist in both tenants, with the same people ids; pair-5 only in A."""
UNITS = {A: "Finance", B: "Achats"}
PLAN_B = SessionPlan(
    starts_on=STARTS_ON, ends_on=date(2028, 6, 30), sessions=default_planned_sessions()[1:4]
)
PLANNED = {A: 6, B: 3}
SLOT = FORMED_AT + timedelta(days=1)
NOW = SLOT + timedelta(hours=2)
HELD = {A: ["pair-0"], B: ["pair-0", "pair-1"]}
OBJECTIVES = {A: [("pair-0", "o1")], B: [("pair-0", "o1"), ("pair-0", "o2")]}

HELD_PER_TENANT = """
SELECT count(*) FROM pairs, jsonb_array_elements(state -> 'sessions') AS session
WHERE tenant_id = $1 AND session ->> 'status' = 'held'
"""


def commands(tenant: str) -> list[Envelope[Any]]:
    """The tenant's sessions held and objectives set, in the order a pair would send them."""
    sent: list[Envelope[Any]] = []
    for pair_id in HELD[tenant]:
        sent.append(
            message(
                ScheduleSession(pair_id=pair_id, session_number=1, starts_at=SLOT), tenant=tenant
            )
        )
        sent.append(
            message(
                ReportSessionHeld(
                    pair_id=pair_id, session_number=1, held_at=SLOT, duration_minutes=55
                ),
                tenant=tenant,
            )
        )
    for pair_id, objective_id in OBJECTIVES[tenant]:
        sent.append(
            message(
                SetObjective(
                    pair_id=pair_id, objective_id=objective_id, owner="mentee", title="Publier"
                ),
                tenant=tenant,
            )
        )
    return sent


async def sessions_service(service_factory: Any, idp: TokenIssuer) -> ServiceProcess:
    sessions: ServiceProcess = service_factory(
        "sessions", BINOME_CLOCK="simulated", **idp.service_env()
    )
    await sessions.wait_ready()
    await set_clock(sessions, NOW)
    return sessions


async def progress(sessions: ServiceProcess, idp: TokenIssuer, tenant: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        answer = await client.get(
            "/programmes/progress",
            params={"programme_id": PROGRAMME, "grouped_by": "mentee_business_unit"},
            headers=bearer(idp.token(tenant)),
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_two_tenants_with_the_same_programme_and_pair_ids_stay_apart(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    idp = TokenIssuer()
    sessions = await sessions_service(service_factory, idp)
    await kafka.publish(define_programme(tenant=A))
    await kafka.publish(define_programme(tenant=B, plan=PLAN_B))

    # B names a pair only A will have, before A's pair is even formed.
    stray = message(ScheduleSession(pair_id="pair-5", session_number=1, starts_at=SLOT), tenant=B)
    await kafka.publish(stray)
    waiting = "SELECT array_agg(waiting_for) FROM parked_messages"
    await eventually(lambda: database.fetchval("sessions", waiting), ["pair:autre-groupe/pair-5"])

    for tenant, count in PAIRS.items():
        for index in range(count):
            await kafka.publish(pair_formed(index, mentee_unit=UNITS[tenant], tenant=tenant))
    started = "SELECT count(*) FROM pairs WHERE state IS NOT NULL"
    await eventually(lambda: database.fetchval("sessions", started), sum(PAIRS.values()))
    assert await database.fetchval("sessions", "SELECT count(*) FROM programmes") == 2
    assert await database.fetchval("sessions", waiting) == ["pair:autre-groupe/pair-5"], (
        "A's PairFormed for pair-5 did not release what B parked"
    )

    for tenant in (A, B):
        for command in commands(tenant):
            await kafka.publish(command)
    objectives = (
        "SELECT sum(jsonb_array_length(state -> 'objectives')) FROM pairs WHERE tenant_id = $1"
    )
    for tenant in (A, B):
        held = partial(database.fetchval, "sessions", HELD_PER_TENANT, tenant)
        await eventually(held, len(HELD[tenant]))
        objectives_set = partial(database.fetchval, "sessions", objectives, tenant)
        await eventually(objectives_set, len(OBJECTIVES[tenant]))

    pair_facts = sum(PAIRS.values()) + sum(2 * len(HELD[t]) + len(OBJECTIVES[t]) for t in (A, B))
    facts = [
        envelope
        for envelope in await read_envelopes(kafka, SESSIONS_EVENTS, expect=pair_facts)
        if not isinstance(envelope.data, ProgrammeProgressReported)
    ]
    assert Counter((e.tenant_id, type(e.data).__name__) for e in facts) == {
        (A, "SessionPlanned"): 6,
        (A, "SessionScheduled"): 1,
        (A, "SessionCompleted"): 1,
        (A, "ObjectiveSet"): 1,
        (B, "SessionPlanned"): 5,
        (B, "SessionScheduled"): 2,
        (B, "SessionCompleted"): 2,
        (B, "ObjectiveSet"): 2,
    }
    for envelope in facts:
        tenant = envelope.tenant_id
        if isinstance(envelope.data, SessionPlanned | SessionCompleted):
            assert envelope.data.sessions_planned == PLANNED[tenant], envelope
        if isinstance(envelope.data, SessionScheduled):
            first = (default_planned_sessions() if tenant == A else PLAN_B.sessions)[0]
            assert (envelope.data.theme_key, envelope.data.theme) == (first.key, first.title)
    assert not [e for e in facts if e.subject == "pair-5" and e.tenant_id == B]
    assert [type(e.data).__name__ for e in facts if e.subject == "pair-5"] == ["SessionPlanned"], (
        "B's command was not applied to A's pair-5"
    )

    for tenant in (A, B):
        body = await progress(sessions, idp, tenant)
        figures = body["total"]["figures"]
        assert body["total"]["people"] == PAIRS[tenant]
        assert figures["pairs_active"] == PAIRS[tenant]
        assert figures["sessions_planned"] == PAIRS[tenant] * PLANNED[tenant]
        assert figures["sessions_held"] == len(HELD[tenant])
        assert figures["objectives_set"] == len(OBJECTIVES[tenant])
        assert [group["group"] for group in body["groups"]] == [UNITS[tenant]]

    # Past the parking time, B's stray command is dead-lettered, naming only B's pair.
    await set_clock(sessions, NOW + timedelta(days=8))
    dead = await kafka.read_all(
        SESSION_COMMANDS.dead_letter_name(kafka.prefix), expect=1, timeout=120
    )
    assert len(dead) == 1
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert headers["ce_id"] == str(stray.id)
    assert headers["binome_dlq_code"] == "prerequisite_never_arrived"
    assert "pair:autre-groupe/pair-5" in headers["binome_dlq_reason"]
    assert A not in headers["binome_dlq_reason"], "nothing said about the other tenant"
    assert await database.fetchval("sessions", "SELECT count(*) FROM parked_messages") == 0
    scheduled_for_a5 = """
    SELECT count(*) FROM pairs, jsonb_array_elements(state -> 'sessions') AS session
    WHERE tenant_id = $1 AND pair_id = 'pair-5' AND session ->> 'scheduled_at' IS NOT NULL
    """
    assert await database.fetchval("sessions", scheduled_for_a5, A) == 0
