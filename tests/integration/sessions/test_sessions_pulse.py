"""Pulse check-ins on the real broker and Postgres: moving the service's clock opens each round
once per pair, answers arrive as AnswerPulse commands, "need help" alerts HR once per pair and
round, refusals go to the dead-letter topic in both languages, and the progress endpoint
counts the answers."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import (
    AnswerPulse,
    PairNeedsHelp,
    PulseAnswer,
    PulseCheckRequested,
)
from binome_shared.contracts.topics import SESSIONS_EVENTS
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
from tests.integration.sessions.test_sessions_tenancy import sessions_service
from tests.support.platform import Kafka, ProvisionedDatabase, read_envelopes
from tests.support.tokens import TokenIssuer, bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

PAIRS = 5
"""Five mentees in one unit: exactly the suppression threshold, so the figures are shown."""
PLAN = SessionPlan(starts_on=STARTS_ON, ends_on=date(2028, 6, 30), stall_after_weeks=20)
"""No stall within the 90 days the test covers: only pulse rounds are due."""
FIRST_ROUND = FORMED_AT + timedelta(days=30)
SECOND_ROUND = FORMED_AT + timedelta(days=90)
NEED_HELP, ON_TRACK = PulseAnswer.NEED_HELP, PulseAnswer.ON_TRACK
DLQ = "binome.sessions.commands.dlq"

FOLLOW_UP_RAN_AFTER = """
SELECT due_at > $1 FROM scheduled_jobs WHERE job_id = 'periodic:follow-up'
"""
ROUNDS_ASKED = """
SELECT count(*) FROM pairs WHERE jsonb_array_length(state -> 'pulses') = $1
"""
REPLIES = """
SELECT count(*) FROM pairs, jsonb_array_elements(state -> 'pulses') AS pulse,
                     jsonb_array_elements(pulse -> 'replies') AS reply
"""


def answer(
    pair: int, who: str, value: PulseAnswer, *, number: int = 1, tenant: str = TENANT
) -> Envelope[Any]:
    return message(
        AnswerPulse(pair_id=f"pair-{pair}", pulse_number=number, participant_id=who, answer=value),
        tenant=tenant,
    )


async def dead_letter_codes(kafka: Kafka, expect: int) -> list[str]:
    records = await kafka.read_all(f"{kafka.prefix}{DLQ}", expect=expect)
    return [dict(record.headers)["binome_dlq_code"].decode() for record in records]


async def test_pulse_rounds_answers_and_one_alert_per_round_on_the_real_stack(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    idp = TokenIssuer()
    sessions = await sessions_service(service_factory, idp)  # its clock: a day after formation
    await kafka.publish(define_programme(plan=PLAN))
    for index in range(PAIRS):
        await kafka.publish(pair_formed(index))
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs WHERE state IS NOT NULL"),
        PAIRS,
    )

    just_before = FIRST_ROUND - timedelta(hours=1)
    await set_clock(sessions, just_before)
    await eventually(lambda: database.fetchval("sessions", FOLLOW_UP_RAN_AFTER, just_before), True)
    assert await database.fetchval("sessions", ROUNDS_ASKED, 1) == 0, "not due yet"
    await set_clock(sessions, FIRST_ROUND + timedelta(minutes=1))
    await eventually(lambda: database.fetchval("sessions", ROUNDS_ASKED, 1), PAIRS)

    for sent in (
        answer(0, "E0", NEED_HELP),
        answer(0, "M0", NEED_HELP),  # the round already alerted HR: no second alert
        answer(0, "E0", NEED_HELP),  # the same answer again: nothing new
        answer(1, "M1", ON_TRACK),
        answer(2, "E2", ON_TRACK),
        answer(2, "E2", NEED_HELP),  # a change of mind: the last answer counts, and alerts
        answer(1, "E9", NEED_HELP),
        answer(1, "E1", NEED_HELP, number=2),
        answer(404, "E1", NEED_HELP),
        answer(0, "E0", NEED_HELP, tenant=OTHER_TENANT),
    ):
        await kafka.publish(sent)
    assert sorted(await dead_letter_codes(kafka, expect=4)) == [
        "not_pair_member",
        "pulse_not_asked",
        "unknown_pair",
        "unknown_pair",
    ]
    await eventually(lambda: database.fetchval("sessions", REPLIES), 4)

    await set_clock(sessions, SECOND_ROUND + timedelta(minutes=1))
    await eventually(lambda: database.fetchval("sessions", ROUNDS_ASKED, 2), PAIRS)
    await kafka.publish(answer(0, "E0", ON_TRACK))  # round 1 closed when round 2 opened
    codes = await dead_letter_codes(kafka, expect=5)
    assert Counter(codes) == {
        "not_pair_member": 1,
        "pulse_not_asked": 1,
        "unknown_pair": 2,
        "pulse_closed": 1,
    }

    facts = await read_envelopes(kafka, SESSIONS_EVENTS, expect=PAIRS + 2 * PAIRS + 5 + 2)
    pulse_facts = Counter(
        type(e.data).__name__ for e in facts if type(e.data).__name__ != "ProgrammeProgressReported"
    )
    assert pulse_facts == {
        "SessionPlanned": PAIRS,
        "PulseCheckRequested": 2 * PAIRS,
        "PulseAnswered": 5,
        "PairNeedsHelp": 2,
    }
    requests = [e.data for e in facts if isinstance(e.data, PulseCheckRequested)]
    assert sorted((r.pair_id, r.pulse_number) for r in requests) == sorted(
        (f"pair-{index}", number) for index in range(PAIRS) for number in (1, 2)
    )
    assert {(r.mentor_id, r.mentee_id) for r in requests if r.pair_id == "pair-3"} == {("M3", "E3")}
    alerts = sorted(
        ((e.data.pair_id, e.data.pulse_number, e.data.side), e.tenant_id)
        for e in facts
        if isinstance(e.data, PairNeedsHelp)
    )
    assert alerts == [(("pair-0", 1, "mentee"), TENANT), (("pair-2", 1, "mentee"), TENANT)]

    dead = await kafka.read_all(f"{kafka.prefix}{DLQ}", expect=5)
    reasons = [dict(record.headers)["binome_dlq_reason"].decode() for record in dead]
    closed = next(reason for reason in reasons if reason.startswith("pulse_closed"))
    assert "This pulse check-in is closed" in closed
    assert "Ce baromètre est clos" in closed

    async with httpx.AsyncClient(base_url=sessions.url, timeout=10) as client:
        response = await client.get(
            "/programmes/progress",
            params={"programme_id": PROGRAMME},
            headers=bearer(idp.token(TENANT)),
        )
    assert response.status_code == 200, response.text
    figures = response.json()["total"]["figures"]
    assert {name: figures[name] for name in figures if name.startswith("pulses_")} == {
        "pulses_asked": 2 * 2 * PAIRS,
        "pulses_answered": 4,
        "pulses_on_track": 1,
        "pulses_need_help": 3,
    }
