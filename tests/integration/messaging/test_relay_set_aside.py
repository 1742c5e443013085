"""A record Kafka can never take is set aside with its reason; the relay goes on, and every
other record arrives once, in per-key order — on a real broker and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from binome_shared import db_cli as cli
from binome_shared.messaging import relay
from tests.integration.messaging.relay_support import (
    SCHEMA,
    create_topic,
    expected_by_key,
    outbox_state,
    queue,
    relay_on,
    row,
    run_until_drained,
    values_by_key,
)
from tests.support.platform import Kafka, ProvisionedDatabase

pytestmark = pytest.mark.integration

SMALL_LIMIT = 4096
"""The small topic's ``max.message.bytes``: under the producer's batch size (16 KiB)."""


async def test_records_kafka_can_never_take_are_set_aside_and_the_rest_arrive_once_in_order(
    database: ProvisionedDatabase, kafka: Kafka, topic_prefix: str
) -> None:
    plain = await create_topic(kafka.bootstrap, f"{topic_prefix}relay.plain", partitions=3)
    small = await create_topic(
        kafka.bootstrap, f"{topic_prefix}relay.small", partitions=1, max_message_bytes=SMALL_LIMIT
    )
    before = [row(plain, f"k{key}", rank) for rank in range(3) for key in range(6)]
    before += [row(small, "s0", 0, size=200), row(small, "s1", 0, size=200)]
    over_the_request_size = row(plain, "k1", 99, size=1_100_000)
    invalid_topic = row("not a topic!", "k2", 99)
    over_the_topic_limit = row(small, "s0", 99, size=SMALL_LIMIT + 2000)
    after = [row(small, "s0", rank, size=200) for rank in (1, 2)] + [row(small, "s1", 1)]
    after += [row(plain, f"k{key}", rank) for rank in range(3, 6) for key in range(6)]
    ids = await queue(
        database, [*before, over_the_request_size, invalid_topic, over_the_topic_limit, *after]
    )
    refused_ids = ids[len(before) : len(before) + 3]

    async with relay_on(database, kafka.bootstrap) as relay:
        await run_until_drained(relay)
        assert await relay.set_aside_count() == 3
        assert relay.set_aside_total == 3
        assert relay.errors_total["InvalidTopicError"] == 1
        # Once before sending (over max_request_size), twice from the broker: the batch
        # holding the record, refused whole, then the record sent alone.
        assert relay.errors_total["MessageSizeTooLargeError"] == 3
        assert relay.connected

    state = await outbox_state(database)
    reasons = [state[row_id][1] or "" for row_id in refused_ids]
    assert reasons[0].startswith("MessageSizeTooLargeError: the record takes 1,100,")
    assert "over the producer's max_request_size of 1,048,576" in reasons[0]
    assert reasons[1] == "InvalidTopicError: 'not a topic!' is not a valid Kafka topic name"
    assert reasons[2].startswith(
        f"MessageSizeTooLargeError: refused by the broker for {small} partition 0"
    )
    assert not any(state[row_id][0] for row_id in refused_ids)
    assert all(state[row_id] == (True, None) for row_id in ids if row_id not in refused_ids)

    sendable = [*before, *after]
    for topic in (plain, small):
        expected = expected_by_key([item for item in sendable if item.topic == topic])
        held = await values_by_key(kafka, topic, expect=sum(map(len, expected.values())))
        assert held == expected, f"{topic}: each record once, in per-key order"


async def test_set_aside_rows_are_neither_pending_nor_claimed_nor_pruned(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect(SCHEMA)
    try:
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values,"
            " sent_at, set_aside_at, set_aside_reason)"
            " VALUES (gen_random_uuid(), 't', 'k', 'set aside', '{}', '{}', NULL,"
            "         now() - interval '30 days', 'InvalidTopicError: …'),"
            "        (gen_random_uuid(), 't', 'k', 'unsent', '{}', '{}', NULL, NULL, NULL),"
            "        (gen_random_uuid(), 't', 'k', 'old', '{}', '{}',"
            "         now() - interval '8 days', NULL, NULL)"
        )
        async with conn.transaction():
            claimed = await conn.fetch(relay._CLAIM, 10)
        await conn.execute(relay._PRUNE_SENT, "7 days")
        pending = await conn.fetchval(relay._PENDING)
        set_aside = await conn.fetchval(relay._SET_ASIDE_COUNT)
        left = await conn.fetch("SELECT convert_from(value, 'UTF8') AS v FROM outbox ORDER BY id")
    finally:
        await conn.close()
    assert [bytes(item["value"]) for item in claimed] == [b"unsent"]
    assert (pending, set_aside) == (1, 1)
    assert [item["v"] for item in left] == ["set aside", "unsent"]


async def test_an_operator_requeues_a_set_aside_row_once_its_cause_is_fixed(
    database: ProvisionedDatabase,
    kafka: Kafka,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    small = await create_topic(
        kafka.bootstrap, f"{topic_prefix}relay.small", partitions=1, max_message_bytes=SMALL_LIMIT
    )
    large = row(small, "s0", 0, size=SMALL_LIMIT + 2000)
    [large_id] = await queue(database, [large])
    async with relay_on(database, kafka.bootstrap) as relay:
        await run_until_drained(relay)
        assert await relay.set_aside_count() == 1

        monkeypatch.setenv("BINOME_PG_ADMIN_DSN", database.admin())
        assert await asyncio.to_thread(cli.main, ["outbox-set-aside", SCHEMA]) == 0
        listing = capsys.readouterr().out
        assert f"{large_id}\t" in listing
        assert "MessageSizeTooLargeError: refused by the broker" in listing
        await _raise_topic_limit(kafka.bootstrap, small, SMALL_LIMIT * 4)
        assert await asyncio.to_thread(cli.main, ["outbox-requeue", SCHEMA, str(large_id)]) == 0
        assert await relay.pending() == 1

        await run_until_drained(relay)
        assert await relay.set_aside_count() == 0
    assert (await outbox_state(database))[large_id] == (True, None)
    assert await values_by_key(kafka, small, expect=1) == {b"s0": [large.value]}


async def _raise_topic_limit(bootstrap: str, topic: str, limit: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": str(limit)})]
        )
    finally:
        await admin.close()
