"""Nothing lost, nothing done twice: the messaging core against real Kafka and Postgres,
with services running as real processes that are killed at the worst instants."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from binome_shared.messaging.outbox import Outbox
from tests.integration.messaging.factories import enrolments, pair_formed, programme_defined
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually, metric

pytestmark = pytest.mark.integration

PAIRS_PROCESSED = (
    "SELECT count(*) FROM processed_messages WHERE message_type = 'binome.pairing.pair-formed'"
)


async def test_pair_formed_from_pairing_outbox_is_recorded_by_sessions_and_notifications(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    sessions = service_factory("sessions")
    notifications = service_factory("notifications")
    for service in (pairing, sessions, notifications):
        await service.wait_ready()
    await kafka.publish(programme_defined())
    commands, mentor_id, mentee_id = enrolments()
    for command in commands:
        await kafka.publish(command)

    conn = await database.connect("pairing")
    try:
        async with conn.transaction():
            await Outbox(topic_prefix=kafka.prefix).add(
                conn, pair_formed(1, mentor_id=mentor_id, mentee_id=mentee_id)
            )
    finally:
        await conn.close()

    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 1)
    await eventually(
        lambda: database.fetchval(
            "notifications", "SELECT count(*) FROM deliveries WHERE kind = 'introduction'"
        ),
        2,
    )
    assert await database.fetchval("sessions", "SELECT mentee_unit FROM pairs") == "Finance"
    assert (
        await database.fetchval("pairing", "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")
        == 1
    )
    for service in (sessions, notifications):
        assert (
            await metric(
                service.url,
                "binome_messages_total",
                outcome="done",
                type="binome.pairing.pair-formed",
            )
            == 1
        )


async def test_consumer_killed_between_db_commit_and_offset_commit_acts_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    await kafka.publish(programme_defined())
    first = service_factory("sessions")
    await first.wait_ready()
    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM processed_messages"), 1
    )
    await asyncio.to_thread(first.terminate)

    sessions = service_factory("sessions", BINOME_FAILPOINTS="consumer.after_db_commit")
    await sessions.wait_ready()
    await kafka.publish(pair_formed(1))
    assert await sessions.wait_exit() == -9, "the failpoint kills the process after the commit"
    assert await database.fetchval("sessions", "SELECT count(*) FROM pairs") == 1

    restarted = service_factory("sessions")
    await restarted.wait_ready()
    await eventually(
        lambda: metric(restarted.url, "binome_messages_total", outcome="duplicate"), 1.0
    )
    assert await database.fetchval("sessions", "SELECT count(*) FROM pairs") == 1
    assert (
        await database.fetchval(
            "sessions",
            PAIRS_PROCESSED,
        )
        == 1
    )


async def test_relay_killed_between_broker_ack_and_marking_sent_is_seen_twice_acted_once(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    await kafka.publish(programme_defined())
    sessions = service_factory("sessions")
    pairing = service_factory("pairing", BINOME_FAILPOINTS="relay.after_broker_ack")
    await asyncio.gather(sessions.wait_ready(), pairing.wait_ready())

    conn = await database.connect("pairing")
    try:
        async with conn.transaction():
            await Outbox(topic_prefix=kafka.prefix).add(conn, pair_formed(7))
    finally:
        await conn.close()
    assert await pairing.wait_exit() == -9
    assert (
        await database.fetchval("pairing", "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1
    )

    restarted = service_factory("pairing")
    await restarted.wait_ready()
    await eventually(
        lambda: database.fetchval("pairing", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0
    )
    topic = f"{kafka.prefix}binome.pairing.events"
    copies = await kafka.read_all(topic, expect=2)
    assert len(copies) == 2, "the broker holds the event twice: once per relay attempt"
    assert copies[0].value == copies[1].value
    await eventually(
        lambda: metric(sessions.url, "binome_messages_total", outcome="duplicate"), 1.0
    )
    assert await database.fetchval("sessions", "SELECT count(*) FROM pairs") == 1


async def test_unreadable_messages_go_to_the_dead_letter_topic_and_the_rest_flows(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    from binome_shared.messaging.cloudevents import KafkaRecord, encode

    await kafka.publish(programme_defined())
    sessions = service_factory("sessions")
    await sessions.wait_ready()
    topic = f"{kafka.prefix}binome.pairing.events"
    good = encode(pair_formed(1), topic=topic)

    def variant(headers: dict[str, bytes], value: bytes) -> KafkaRecord:
        merged = dict(good.headers) | headers
        return KafkaRecord(topic=topic, key=b"pair-x", value=value, headers=list(merged.items()))

    await kafka.send(variant({}, b'{"pair_id": '))
    await kafka.send(variant({}, b'{"pair_id": "p", "mentor": 12}'))
    await kafka.send(
        variant(
            {
                "ce_type": b"binome.pairing.pair-teleported",
                "ce_id": b"5d1c1d3e-0000-4000-8000-000000000001",
            },
            good.value,
        )
    )
    await kafka.send(
        variant(
            {"ce_schemaversion": b"9.0", "ce_id": b"5d1c1d3e-0000-4000-8000-000000000002"},
            good.value,
        )
    )
    await kafka.publish(pair_formed(2))
    signed = encode(pair_formed(3), topic=topic)  # a binary header from some other producer
    await kafka.send(
        KafkaRecord(
            topic=topic,
            key=signed.key,
            value=signed.value,
            headers=[*signed.headers, ("x-signature", b"\xff\xfe\x00\x81")],
        )
    )

    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 2)
    dead = await kafka.read_all(f"{topic}.dlq", expect=4)
    codes = sorted(dict(record.headers)["binome_dlq_code"].decode() for record in dead)
    assert codes == ["malformed_json", "schema_invalid", "unknown_type", "unknown_version"]
    first = dict(dead[0].headers)
    assert first["binome_dlq_source_topic"].decode() == topic
    assert first["binome_dlq_consumer_group"].decode().endswith("binome-sessions")
    assert first["binome_dlq_reason"]
    pairs = "SELECT string_agg(pair_id, ',' ORDER BY pair_id) FROM pairs"
    assert await database.fetchval("sessions", pairs) == "pair-2,pair-3", (
        "a binary header of another producer does not stop a valid record"
    )


@pytest.mark.parametrize("component", ["postgres", "kafka"])
async def test_infrastructure_restart_under_a_running_service_loses_nothing(
    component: str, stack: Any, database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    await kafka.publish(programme_defined())
    sessions = service_factory("sessions")
    await sessions.wait_ready()
    for index in range(100):
        await kafka.publish(pair_formed(index))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) > 0 FROM pairs"), True)

    server = getattr(stack, component)
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(2)
    if component == "postgres":
        for index in range(100, 200):
            await kafka.publish(pair_formed(index))
    await asyncio.to_thread(server.start)
    await asyncio.to_thread(server.wait_ready)
    await kafka.stop()
    await kafka.start()
    if component == "kafka":
        for index in range(100, 200):
            await kafka.publish(pair_formed(index))

    await eventually(
        lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 200, timeout=120
    )
    assert (
        await database.fetchval(
            "sessions",
            PAIRS_PROCESSED,
        )
        == 200
    )
    assert await database.fetchval("sessions", "SELECT count(DISTINCT pair_id) FROM pairs") == 200
    assert sessions.process.poll() is None, "the service rode out the outage"
    await sessions.wait_ready(timeout=60)


async def test_sigterm_finishes_the_batch_in_hand_and_a_restart_takes_over_exactly(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    await kafka.publish(programme_defined())
    sessions = service_factory("sessions")
    await sessions.wait_ready()
    for index in range(300):
        await kafka.publish(pair_formed(index))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) > 0 FROM pairs"), True)
    assert await asyncio.to_thread(sessions.terminate) == 0, sessions.log_tail()
    assert "service stopped cleanly" in sessions.log_path.read_text()

    restarted = service_factory("sessions")
    await restarted.wait_ready()
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 300)
    assert (
        await database.fetchval(
            "sessions",
            PAIRS_PROCESSED,
        )
        == 300
    )
