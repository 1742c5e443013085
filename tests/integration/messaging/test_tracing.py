"""A trace crosses Kafka and the outbox: what HR started, every service continues."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_shared.contracts.hr_commands import EnrolParticipant, RequestMatching
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.programmes import hr_command, programme_definition

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def send_traced(kafka: Kafka, envelope: Any) -> None:
    record = encode(envelope, topic=HR_COMMANDS.full_name(kafka.prefix))
    await kafka.send(
        KafkaRecord(
            topic=record.topic,
            key=record.key,
            value=record.value,
            headers=[*record.headers, ("traceparent", TRACEPARENT.encode())],
        )
    )


def trace_of(record: Any) -> str:
    parent = dict(record.headers).get("traceparent", b"").decode()
    return parent.split("-")[1] if parent.count("-") == 3 else ""


async def test_the_hr_trace_reaches_pairing_events_and_sessions_events(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    sessions = service_factory("sessions")
    await asyncio.gather(pairing.wait_ready(), sessions.wait_ready())
    cohort = generate_cohort(mentees=3, mentors=4, seed=11)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    await kafka.publish(hr_command(programme_definition(rules), programme_id="p-trace"))
    for profile in cohort.participants:
        await kafka.publish(
            hr_command(EnrolParticipant(participant=profile), programme_id="p-trace")
        )
    await send_traced(kafka, hr_command(RequestMatching(round_id="r1"), programme_id="p-trace"))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if await database.fetchval("sessions", "SELECT count(*) FROM pairs") >= 1:
            break
        await asyncio.sleep(0.3)
    pairing_records = await kafka.read_all(PAIRING_EVENTS.full_name(kafka.prefix), expect=2)
    assert pairing_records
    assert {trace_of(record) for record in pairing_records} == {TRACE_ID}
    sessions_records = await kafka.read_all(SESSIONS_EVENTS.full_name(kafka.prefix), expect=1)
    assert sessions_records, "sessions published what PairFormed caused"
    assert {trace_of(record) for record in sessions_records} == {TRACE_ID}
