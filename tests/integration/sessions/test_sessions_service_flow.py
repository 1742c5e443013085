"""The sessions service as real processes on the real broker and Postgres: a pair's whole plan,
redelivery, rejections on the dead-letter topic, stalls across replicas, and HR's progress."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme, ProgrammeContact
from binome_shared.contracts.pairing_events import PairExplanation, PairFormed, PairSide
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import (
    PairStalled,
    ProgrammeProgressReported,
    ReportSessionHeld,
    ScheduleSession,
)
from binome_shared.contracts.topics import SESSIONS_EVENTS
from binome_shared.contracts.values import LocalisedText
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess, read_envelopes
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

TENANT = "groupe-exemple"
OTHER_TENANT = "autre-groupe"
PROGRAMME = "prog-2028"
STARTS_ON = date(2028, 1, 10)
FORMED_AT = datetime(2028, 1, 10, 8, 0, tzinfo=UTC)
"""After the machine's real time: a simulated clock only moves forward."""

JOB_DUE = "SELECT due_at FROM scheduled_jobs WHERE job_id = $1"
HELD_SESSIONS = """
SELECT count(*) FROM pairs, jsonb_array_elements(state -> 'sessions') AS session
WHERE pair_id = $1 AND session ->> 'status' = 'held'
"""


def message(
    data: Message, *, at: datetime = FORMED_AT, source: str = "/hr/test", tenant: str = TENANT
) -> Envelope[Any]:
    return Envelope.new(data, source=source, time=at, tenant_id=tenant, programme_id=PROGRAMME)


def define_programme(*, tenant: str = TENANT, plan: SessionPlan | None = None) -> Envelope[Any]:
    return message(
        DefineProgramme(
            name="Mentorat inversé 2028",
            organisation_name="Groupe Exemple",
            rules=ProgrammeRules(starts_on=STARTS_ON),
            session_plan=plan or SessionPlan(starts_on=STARTS_ON, ends_on=date(2028, 6, 30)),
            contact=ProgrammeContact(name="Claire Dubois", email="claire.dubois@example.com"),
        ),
        tenant=tenant,
    )


def pair_formed(index: int, *, mentee_unit: str = "Finance", tenant: str = TENANT) -> Envelope[Any]:
    return message(
        PairFormed(
            pair_id=f"pair-{index}",
            round_id="round-1",
            mentor=PairSide(participant_id=f"M{index}", business_unit="Digital"),
            mentee=PairSide(participant_id=f"E{index}", business_unit=mentee_unit),
            explanation=PairExplanation(
                score=0.8,
                breakdown={"needs_coverage": 0.8},
                summary=LocalisedText(fr="Bon binôme", en="Good pair"),
            ),
            mentor_trained=True,
        ),
        source="/binome/pairing",
        tenant=tenant,
    )


async def set_clock(service: ServiceProcess, moment: datetime) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{service.url}/admin/clock", json={"now": moment.isoformat()}, timeout=10
        )
    assert response.status_code == 200, response.text


async def simulated_sessions(service_factory: Any, replicas: int = 1) -> list[ServiceProcess]:
    started = [service_factory("sessions", BINOME_CLOCK="simulated") for _ in range(replicas)]
    await asyncio.gather(*(service.wait_ready() for service in started))
    return started


async def formed(kafka: Kafka, database: ProvisionedDatabase, count: int = 1) -> None:
    await kafka.publish(define_programme())
    for index in range(count):
        await kafka.publish(pair_formed(index))
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs WHERE state IS NOT NULL"),
        count,
    )


async def test_a_pair_holds_its_whole_plan_and_completes(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    [sessions] = await simulated_sessions(service_factory)
    await formed(kafka, database)

    for number in range(1, 7):
        slot = FORMED_AT + timedelta(weeks=3 * (number - 1), days=1)
        await set_clock(sessions, slot + timedelta(hours=2))
        await kafka.publish(
            message(ScheduleSession(pair_id="pair-0", session_number=number, starts_at=slot))
        )
        await kafka.publish(
            message(
                ReportSessionHeld(
                    pair_id="pair-0", session_number=number, held_at=slot, duration_minutes=55
                )
            )
        )
        await eventually(lambda: database.fetchval("sessions", HELD_SESSIONS, "pair-0"), number)

    assert await database.fetchval("sessions", "SELECT status FROM pairs") == "completed"
    facts = [
        envelope
        for envelope in await read_envelopes(kafka, SESSIONS_EVENTS, expect=16)
        if envelope.subject == "pair-0"
    ]
    # Pulse check-ins are on by default: days 30 and 90 fall before sessions 3 and 6.
    assert [type(envelope.data).__name__ for envelope in facts] == [
        "SessionPlanned",
        *["SessionScheduled", "SessionCompleted"] * 2,
        "PulseCheckRequested",
        *["SessionScheduled", "SessionCompleted"] * 3,
        "PulseCheckRequested",
        "SessionScheduled",
        "SessionCompleted",
        "PairCompleted",
    ]
    completed = facts[-1].data
    assert (completed.reason, completed.sessions_held, completed.sessions_planned) == (
        "plan_completed",
        6,
        6,
    )
    assert facts[-1].causation_id is not None
    assert {envelope.partition_key() for envelope in facts} == {"pair-0"}


async def test_a_redelivered_command_acts_once_and_a_refused_one_is_dead_lettered(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    [sessions] = await simulated_sessions(service_factory)
    await formed(kafka, database)
    await set_clock(sessions, FORMED_AT + timedelta(days=1))

    schedule = message(
        ScheduleSession(pair_id="pair-0", session_number=1, starts_at=FORMED_AT + timedelta(days=3))
    )
    await kafka.publish(schedule)
    await kafka.publish(schedule)
    refused = message(
        ReportSessionHeld(
            pair_id="pair-0", session_number=2, held_at=FORMED_AT, duration_minutes=60
        )
    )
    await kafka.publish(refused)

    dead = await kafka.read_all(f"{kafka.prefix}binome.sessions.commands.dlq", expect=1)
    assert len(dead) == 1, "the copy of the schedule command is a duplicate, not a refusal"
    headers = {name: value.decode() for name, value in dead[0].headers}
    assert headers["binome_dlq_code"] == "session_not_scheduled"
    assert headers["ce_id"] == str(refused.id)
    assert "This session is not scheduled" in headers["binome_dlq_reason"]
    assert "Cette séance n'est pas planifiée" in headers["binome_dlq_reason"]

    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=2)
    assert Counter(type(e.data).__name__ for e in facts if e.subject == "pair-0") == {
        "SessionPlanned": 1,
        "SessionScheduled": 1,
    }
    outcomes = "SELECT count(*) FROM processed_messages WHERE event_id = $1"
    assert await database.fetchval("sessions", outcomes, schedule.id) == 1


async def test_two_replicas_report_a_stall_once_and_one_progress_report_per_week(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    replicas = await simulated_sessions(service_factory, replicas=2)
    await formed(kafka, database, count=3)

    stalled = "SELECT count(*) FROM pairs WHERE state ->> 'silent_since' IS NOT NULL"
    first = FORMED_AT + timedelta(weeks=7)
    await asyncio.gather(*(set_clock(replica, first) for replica in replicas))
    await eventually(lambda: database.fetchval("sessions", stalled), 3)

    # Run the follow-up again before the next weekly report is due: the stall stays reported.
    follow_up_due = await database.fetchval("sessions", JOB_DUE, "periodic:follow-up")
    report_due = await database.fetchval("sessions", JOB_DUE, "periodic:progress-report")
    second = min(follow_up_due, report_due - timedelta(minutes=1))
    await asyncio.gather(*(set_clock(replica, second) for replica in replicas))
    if second >= follow_up_due:
        await eventually(
            lambda: database.fetchval(
                "sessions",
                "SELECT due_at > $1 FROM scheduled_jobs WHERE job_id = $2",
                second,
                "periodic:follow-up",
            ),
            True,
        )

    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=3 + 3 + 1)
    stalls = [envelope.data for envelope in facts if isinstance(envelope.data, PairStalled)]
    assert sorted(stall.pair_id for stall in stalls) == ["pair-0", "pair-1", "pair-2"]
    assert {stall.weeks_silent for stall in stalls} == {7}
    reports = [e for e in facts if isinstance(e.data, ProgrammeProgressReported)]
    assert len(reports) == 1, "the weekly report ran once across both replicas"
    assert reports[0].data.total.suppressed, "three people are fewer than the threshold"
    for replica in replicas:
        assert replica.process is not None
        assert replica.process.poll() is None


async def test_progress_endpoint_serves_figures_with_small_groups_suppressed(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    idp = TokenIssuer()
    sessions = service_factory("sessions", **idp.service_env())
    await sessions.wait_ready()
    units = ["Marketing"] * 6 + ["Finance"] * 5 + ["RH"] * 2
    for index, unit in enumerate(units):
        await kafka.publish(pair_formed(index, mentee_unit=unit))
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM parked_messages"), len(units)
    )
    await kafka.publish(define_programme())
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), len(units)
    )

    async with httpx.AsyncClient(
        base_url=sessions.url, timeout=10, headers=bearer(idp.token(TENANT))
    ) as client:
        response = await client.get("/programmes/progress", params={"programme_id": PROGRAMME})
        missing = await client.get("/programmes/progress")
        unknown = await client.get("/programmes/progress", params={"programme_id": "nope"})
        hostile = [
            await client.get("/programmes/progress", params={"programme_id": value})
            for value in ("prog\x00", "p" * 201)
        ]
    assert (missing.status_code, unknown.status_code) == (400, 404)
    assert [answer.status_code for answer in hostile] == [400, 400], "never a 500"
    assert response.status_code == 200
    body = response.json()
    assert body["programme_id"] == PROGRAMME
    assert body["total"]["people"] == 13
    assert body["total"]["figures"]["pairs_active"] == 13
    assert body["total"]["figures"]["sessions_planned"] == 13 * 6
    groups = {group["group"]: group for group in body["groups"]}
    assert groups["RH"] == {"group": "RH", "suppressed": True, "people": None, "figures": None}
    assert groups["Finance"]["suppressed"], "hidden too, or total minus the rest would show RH"
    assert groups["Marketing"]["people"] == 6
    assert groups["Marketing"]["figures"]["pairs_active"] == 6


async def test_progress_answers_only_a_valid_token_and_only_for_its_tenant(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    idp = TokenIssuer()
    sessions = service_factory("sessions", **idp.service_env())
    await sessions.wait_ready()
    # Another tenant's pairs under the same programme id must not count in this one's figures.
    await kafka.publish(define_programme())
    await kafka.publish(define_programme(tenant=OTHER_TENANT))
    for index in range(6):
        await kafka.publish(pair_formed(index))
    for index in range(3):
        await kafka.publish(pair_formed(10 + index, tenant=OTHER_TENANT))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 9)
    query = {"programme_id": PROGRAMME}

    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        own = await client.get(
            "/programmes/progress", params=query, headers=bearer(idp.token(TENANT))
        )
        stranger = await client.get(
            "/programmes/progress", params=query, headers=bearer(idp.token("troisieme-groupe"))
        )
        anonymous = await client.get("/programmes/progress", params=query)
        refused = {
            reason: await client.get("/programmes/progress", params=query, headers=bearer(token))
            for reason, token in {
                "expired": idp.token(TENANT, exp=0),
                "another issuer's key": TokenIssuer().token(TENANT),
                "no tenant": idp.token(None),
                "garbage": "abc",
            }.items()
        }
        probes = {path: await client.get(path) for path in ("/health", "/ready", "/asyncapi.json")}

    assert own.status_code == 200, own.text
    assert own.json()["total"]["people"] == 6
    assert own.json()["total"]["figures"]["pairs_active"] == 6, "not the other tenant's 3"
    assert stranger.status_code == 404, "another tenant's programme is not said to exist"
    assert stranger.json() == unknown_programme_body()
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="binome"'
    assert "jeton requis" in anonymous.json()["error"]
    for reason, answer in refused.items():
        assert answer.status_code == 401, reason
        assert answer.headers["www-authenticate"].startswith(
            'Bearer realm="binome", error="invalid_token", error_description="'
        ), reason
        assert " / " in answer.json()["error"], f"{reason}: English and French"
        assert "Traceback" not in answer.text
    assert {path: answer.status_code for path, answer in probes.items()} == {
        "/health": 200,
        "/ready": 200,
        "/asyncapi.json": 200,
    }


def unknown_programme_body() -> dict[str, str]:
    return {"error": "unknown programme / programme inconnu"}
