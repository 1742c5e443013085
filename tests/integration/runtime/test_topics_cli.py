"""``binome-topics plan|apply`` against the real broker, on a prefix of this test's own.

No topic is created beforehand: each test starts from an empty prefix and makes only what
it needs with the admin client, then deletes every topic of its prefix.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_shared.contracts.topics import ALL_TOPICS, PAIRING_EVENTS
from binome_shared.runtime.topic_plan import read_topics
from binome_shared.runtime.topic_policy import SINGLE_BROKER_SETTINGS, single_broker_policy
from binome_shared.runtime.topics import planned_topics
from binome_shared.topics_cli import EXIT_CHANGES_PENDING, EXIT_UP_TO_DATE, main

pytestmark = pytest.mark.integration

EVERY_NAME_COUNT = 2 * len(ALL_TOPICS)
"""Every catalogue topic and its dead-letter topic."""


@pytest.fixture
def empty_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
async def admin(kafka_bootstrap: str, empty_prefix: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    yield client
    ours = [name for name in await client.list_topics() if name.startswith(empty_prefix)]
    if ours:
        await client.delete_topics(ours)
    await client.close()


@pytest.fixture(autouse=True)
def settings_env(monkeypatch: pytest.MonkeyPatch, kafka_bootstrap: str, empty_prefix: str) -> None:
    """What the deploy pipeline would set, for the one-broker test stack."""
    monkeypatch.setenv("BINOME_KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("BINOME_TOPIC_PREFIX", empty_prefix)
    for variable, value in SINGLE_BROKER_SETTINGS.items():
        monkeypatch.setenv(variable, value)


async def create_visible(admin: AIOKafkaAdminClient, topic: NewTopic) -> None:
    """Create ``topic`` and wait until the broker describes it (metadata spreads a moment
    after the controller acknowledges), so that the test starts from a known cluster."""
    await admin.create_topics([topic])
    for _ in range(120):
        if topic.name in await read_topics(admin, [topic.name]):
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{topic.name} never became visible")


async def run(*argv: str) -> tuple[int, str]:
    """The command as the pipeline runs it (its own event loop, hence a thread)."""
    out = io.StringIO()
    code = await asyncio.to_thread(main, list(argv), out)
    return code, out.getvalue()


async def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, text = await run(*argv, "--json")
    return code, json.loads(text)


async def test_plan_apply_plan_from_an_empty_prefix(
    admin: AIOKafkaAdminClient, empty_prefix: str
) -> None:
    expected = {config.name for config in planned_topics(ALL_TOPICS, single_broker_policy())}
    code, plan = await run_json("plan")
    assert code == EXIT_CHANGES_PENDING
    assert {topic["name"].removeprefix(empty_prefix) for topic in plan["topics"]} == expected
    assert {topic["action"] for topic in plan["topics"]} == {"create"}
    assert len(plan["topics"]) == EVERY_NAME_COUNT

    code, text = await run("apply")
    assert code == EXIT_UP_TO_DATE
    assert text.count("create / créer") == EVERY_NAME_COUNT

    wanted = planned_topics(ALL_TOPICS, single_broker_policy(), empty_prefix)
    existing = await read_topics(admin, [config.name for config in wanted])
    for config in wanted:
        assert existing[config.name].partitions == config.partitions
        assert existing[config.name].replication_factor == 1
        for key, value in config.config.items():
            assert existing[config.name].config[key] == value

    code, text = await run("plan")
    assert code == EXIT_UP_TO_DATE, text
    assert text.count("up to date / à jour") == EVERY_NAME_COUNT
    assert "everything is up to date" in text


async def test_too_few_partitions_and_wrong_retention_are_fixed(
    admin: AIOKafkaAdminClient, empty_prefix: str
) -> None:
    events = PAIRING_EVENTS.full_name(empty_prefix)
    assert PAIRING_EVENTS.partitions > 2
    await create_visible(
        admin,
        NewTopic(events, 2, 1, topic_configs={"retention.ms": "60000", "segment.ms": "3600000"}),
    )
    declared = planned_topics([PAIRING_EVENTS], single_broker_policy(), empty_prefix)[0]
    assert declared.name == events

    code, plan = await run_json("plan")
    assert code == EXIT_CHANGES_PENDING
    (ours,) = [topic for topic in plan["topics"] if topic["name"] == events]
    assert ours["action"] == "update"
    assert ours["differences"]["partitions"] == {"current": 2, "declared": declared.partitions}
    assert ours["differences"]["configs"]["retention.ms"] == {
        "current": "60000",
        "declared": declared.config["retention.ms"],
    }

    code, text = await run("apply")
    assert code == EXIT_UP_TO_DATE, text
    assert f"partitions 2 -> {declared.partitions}" in text

    fixed = (await read_topics(admin, [events]))[events]
    assert fixed.partitions == declared.partitions
    assert fixed.config["retention.ms"] == declared.config["retention.ms"]
    assert fixed.overrides["segment.ms"] == "3600000", "another override was reset"

    code, text = await run("plan")
    assert code == EXIT_UP_TO_DATE, text


async def test_more_partitions_is_reported_never_lowered(
    admin: AIOKafkaAdminClient, empty_prefix: str
) -> None:
    events = PAIRING_EVENTS.full_name(empty_prefix)
    await create_visible(admin, NewTopic(events, PAIRING_EVENTS.partitions + 2, 1))
    assert (await run("apply"))[0] == EXIT_UP_TO_DATE

    code, text = await run("plan")
    assert code == EXIT_UP_TO_DATE, text
    assert f"{events}: {PAIRING_EVENTS.partitions + 2} partitions" in text
    grown = (await read_topics(admin, [events]))[events]
    assert grown.partitions == PAIRING_EVENTS.partitions + 2


async def test_a_replication_factor_is_reported_for_a_person(
    monkeypatch: pytest.MonkeyPatch, admin: AIOKafkaAdminClient
) -> None:
    assert (await run("apply"))[0] == EXIT_UP_TO_DATE
    # The declaration now asks for three copies; the one broker can never hold them.
    monkeypatch.setenv("BINOME_TOPIC_REPLICATION_FACTOR", "3")

    code, plan = await run_json("plan")
    assert code == EXIT_CHANGES_PENDING
    assert {topic["action"] for topic in plan["topics"]} == {"manual"}
    assert all("kafka-reassign-partitions" in topic["manual"] for topic in plan["topics"])

    code, text = await run("apply")
    assert code == EXIT_CHANGES_PENDING
    assert "replication factor / facteur de réplication 1 -> 3" in text
