"""What a running service tells its operator: /ready names its checks and turns green only
once the consumer has joined its group; topics keep their declared shape; /metrics carries
the figures alerts are built on (consumer lag, outbox backlog and its age)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from binome_shared.runtime.topics import declared_topics
from tests.integration.messaging.factories import pair_formed, programme_defined
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.waiting import eventually, metric

pytestmark = pytest.mark.integration

SESSIONS_CHECKS = {"postgres", "migrations", "kafka", "topics", "consumer", "relay"}
RELAY_LOCK = "SELECT pg_advisory_lock(hashtext(current_schema() || '.outbox_relay'))"


async def ready_answer(service: ServiceProcess) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{service.url}/ready", timeout=5)
    return response.status_code, response.json()


async def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def test_ready_turns_green_only_after_the_consumer_joined_its_group(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    first = service_factory("sessions")
    await first.wait_ready()
    # A killed member stays in the group until its session times out: the next one waits
    # for that rebalance before it gets any partition.
    first.kill()
    second = service_factory("sessions")

    while True:
        assert second.process is not None
        assert second.process.poll() is None, second.log_tail()
        try:
            status, body = await ready_answer(second)
        except httpx.HTTPError:
            await asyncio.sleep(0.1)
            continue
        assert set(body["checks"]) == SESSIONS_CHECKS
        if status == 200:
            break
        assert body["ready"] is False
        await asyncio.sleep(0.1)

    assert "consumer group joined" in second.log_path.read_text()
    assert body == {"ready": True, "checks": dict.fromkeys(SESSIONS_CHECKS, True)}
    await kafka.publish(programme_defined())
    await kafka.publish(pair_formed(1))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 1)


async def test_a_topic_with_fewer_partitions_than_declared_keeps_the_service_out(
    kafka_bootstrap: str, service_factory: Any
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    too_small = PAIRING_EVENTS.full_name(prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(too_small, 2, 1)])
    finally:
        await admin.close()

    sessions = service_factory("sessions", BINOME_TOPIC_PREFIX=prefix)
    await eventually(
        lambda: _logged(sessions, f"topic {too_small} has 2 partition(s), 6 declared"), True
    )
    status, body = await ready_answer(sessions)
    assert status == 503
    assert body["checks"]["topics"] is False
    assert body["checks"]["consumer"] is False

    declared = {
        topic.name: topic.partitions
        for topic in declared_topics(
            [SESSIONS_EVENTS, PAIRING_EVENTS], prefix, dead_letters_of=[PAIRING_EVENTS]
        )
    }
    created = await partition_counts(kafka_bootstrap, sorted(declared))
    assert created == {**declared, too_small: 2}, "the missing ones are created as declared"
    assert created[PAIRING_EVENTS.dead_letter_name(prefix)] == 1
    # Its own events' dead letters belong to their readers, whose principals may write them.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert SESSIONS_EVENTS.dead_letter_name(prefix) not in await admin.list_topics()
    finally:
        await admin.close()

    assert sessions.process is not None
    sessions.process.send_signal(signal.SIGTERM)
    assert await sessions.wait_exit(timeout=15) == 0


async def _logged(service: ServiceProcess, text: str) -> bool:
    return text in service.log_path.read_text(errors="replace")


async def test_metrics_report_the_outbox_backlog_and_its_age_until_the_relay_sends_it(
    database: ProvisionedDatabase, service_factory: Any
) -> None:
    # The test holds the relay's leader lock, so the service's relay stands by meanwhile.
    holder = await database.connect("sessions")
    try:
        await holder.execute(RELAY_LOCK)
        await holder.executemany(
            "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values,"
            " created_at) VALUES ($1, 'unsent.topic', 'k', 'v', '{}', '{}',"
            " clock_timestamp() - make_interval(secs => $2))",
            [(uuid.uuid4(), 3600.0), (uuid.uuid4(), 60.0), (uuid.uuid4(), 1.0)],
        )
        sessions = service_factory("sessions")
        await sessions.wait_ready()

        assert await metric(sessions.url, "binome_outbox_pending") == 3.0
        age = await metric(sessions.url, "binome_outbox_oldest_unsent_age_seconds")
        assert 3600.0 <= age < 3600.0 + 120
        await holder.execute("UPDATE outbox SET sent_at = clock_timestamp()")
    finally:
        await holder.close()

    await eventually(lambda: metric(sessions.url, "binome_outbox_pending"), 0.0)
    assert await metric(sessions.url, "binome_outbox_oldest_unsent_age_seconds") == 0.0


async def test_metrics_report_the_lag_of_every_assigned_partition(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    sessions = service_factory("sessions")
    await sessions.wait_ready()
    await kafka.publish(programme_defined())
    for index in range(30):
        await kafka.publish(pair_formed(index))
    await eventually(lambda: database.fetchval("sessions", "SELECT count(*) FROM pairs"), 30)

    deadline = time.monotonic() + 30
    while await metric(sessions.url, "binome_consumer_lag") != 0.0:
        assert time.monotonic() < deadline, "the committed offsets never caught up"
        await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{sessions.url}/metrics")).text
    series = [line for line in text.splitlines() if line.startswith("binome_consumer_lag{")]
    topics = {"binome.hr.commands", "binome.pairing.events", "binome.sessions.commands"}
    assert len(series) == 6 * len(topics), "one series per partition the replica holds"
    assert {line.split('topic="')[1].split('"')[0] for line in series} == {
        f"{kafka.prefix}{topic}" for topic in topics
    }
