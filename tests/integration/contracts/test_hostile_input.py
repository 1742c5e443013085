"""Hostile input on the real broker: every service that reads a message refuses it the same
way, on the dead-letter topic with a reason naming the field or header, and keeps going.

Before the contracts were tightened, each of these was stored by one service and retried then
dead-lettered as ``handler_failed`` by another (NUL in text, a programme ending in 9999, a
non-UTF-8 tenant header), or became a forged e-mail header (a name with CR/LF).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.programmes import hr_command, programme_definition
from tests.support.waiting import eventually, metric

pytestmark = pytest.mark.integration

SERVICES = ("pairing", "sessions", "notifications")
FORGED_NAME = "Ines\r\nReply-To: attacker@evil.example"


def _record(kafka: Kafka, data: Any, programme_id: str = "prog-hostile") -> KafkaRecord:
    return encode(
        hr_command(data, programme_id=programme_id), topic=HR_COMMANDS.full_name(kafka.prefix)
    )


def _body(record: KafkaRecord, change: Callable[[dict[str, Any]], None]) -> KafkaRecord:
    body = json.loads(record.value)
    change(body)
    return KafkaRecord(
        topic=record.topic, key=record.key, value=json.dumps(body).encode(), headers=record.headers
    )


def _header(record: KafkaRecord, name: str, value: bytes) -> KafkaRecord:
    headers = [(key, value if key == name else old) for key, old in record.headers]
    return KafkaRecord(topic=record.topic, key=record.key, value=record.value, headers=headers)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for part in parents:
            body = body[part]
        body[last] = value

    return change


async def test_every_service_refuses_hostile_commands_alike_and_keeps_going(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    services = [service_factory(name) for name in SERVICES]
    for service in services:
        await service.wait_ready()
    define = _record(kafka, programme_definition(ProgrammeRules(starts_on=date(2027, 1, 11))))
    profile = generate_cohort(mentees=1, mentors=1, seed=3).participants[0]
    enrol = _record(kafka, EnrolParticipant(participant=profile))
    # (record, code, what the reason names); every programme definition reaches all three
    # services, an enrolment only pairing and notifications.
    hostile_definitions = [
        (_body(define, _set("session_plan.ends_on", "9999-12-31")), "schema_invalid", "ends_on"),
        (_body(define, _set("rules.starts_on", "0001-01-01")), "schema_invalid", "starts_on"),
        (_body(define, _set("name", "Programme\u0000")), "schema_invalid", "name"),
        (_body(define, _set("contact.name", FORGED_NAME)), "schema_invalid", "contact.name"),
        (_header(define, "ce_tenantid", b"acme\xff"), "invalid_attribute", "ce_tenantid"),
        (_header(define, "ce_tenantid", b"acme\x00"), "invalid_attribute", "ce_tenantid"),
        (_header(define, "ce_programmeid", b"p" * 300), "invalid_attribute", "ce_programmeid"),
        (_header(define, "ce_time", b"0001-01-01T00:00:00+01:00"), "invalid_attribute", "ce_time"),
    ]
    forged_enrolment = _body(enrol, _set("participant.full_name", FORGED_NAME))
    for record, _, _ in hostile_definitions:
        await kafka.send(record)
    await kafka.send(forged_enrolment)
    await kafka.publish(
        hr_command(
            programme_definition(ProgrammeRules(starts_on=date(2027, 1, 11))),
            programme_id="prog-valid",
        )
    )

    for service in SERVICES:
        await eventually(
            lambda service=service: database.fetchval(  # type: ignore[misc]
                service, "SELECT count(*) FROM programmes"
            ),
            1,
            timeout=90,
        )
    expected = 3 * len(hostile_definitions) + 2
    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=expected)
    refusals: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: dict[str, list[str]] = defaultdict(list)
    for record in dead:
        headers = dict(record.headers)
        group = headers["binome_dlq_consumer_group"].decode()
        service = next(name for name in SERVICES if name in group)
        refusals[service][headers["binome_dlq_code"].decode()] += 1
        reasons[service].append(headers["binome_dlq_reason"].decode())

    definitions = Counter(code for _, code, _ in hostile_definitions)
    assert refusals["sessions"] == definitions
    assert (
        refusals["pairing"] == refusals["notifications"] == definitions + Counter(schema_invalid=1)
    )
    for service in SERVICES:
        for _, _, named in hostile_definitions:
            assert any(named in reason for reason in reasons[service]), (service, named)
    assert any("participant.full_name" in reason for reason in reasons["notifications"])
    for service in SERVICES:
        assert await database.fetchval(service, "SELECT programme_id FROM programmes") == (
            "prog-valid"
        )
    assert await database.fetchval("notifications", "SELECT count(*) FROM people") == 0
    assert await database.fetchval("pairing", "SELECT count(*) FROM participants") == 0
    # An operator sees the same refusals, by reason, on each service's /metrics.
    for service, process in zip(SERVICES, services, strict=True):
        for code, count in refusals[service].items():
            assert await metric(process.url, "binome_dead_letters_total", code=code) == count
