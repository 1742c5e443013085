"""The plan of one topic, from what is declared and what the cluster has (no broker)."""

from __future__ import annotations

import pytest

from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.runtime.topic_plan import (
    Difference,
    ExistingTopic,
    Plan,
    TopicPlan,
    plan_topic,
)
from binome_shared.runtime.topic_policy import TopicClass, TopicConfig, single_broker_policy
from binome_shared.topics_cli import EXIT_ERROR, main, plan_json, render_plan

pytestmark = pytest.mark.unit

WANTED: TopicConfig = single_broker_policy().topics(PAIRING_EVENTS, TopicClass.EVENTS)[0]


def existing(
    partitions: int = WANTED.partitions, replicas: int = 1, **config: str
) -> ExistingTopic:
    values = dict(WANTED.config) | {key.replace("_", "."): value for key, value in config.items()}
    return ExistingTopic(
        name=WANTED.name,
        partitions=partitions,
        replication_factor=replicas,
        config=values,
        overrides=values,
    )


def test_a_missing_topic_is_to_create() -> None:
    plan = plan_topic(WANTED, None)
    assert plan.create
    assert plan.applicable
    assert not plan.up_to_date


def test_a_topic_as_declared_is_up_to_date() -> None:
    plan = plan_topic(WANTED, existing())
    assert plan.up_to_date
    assert "up to date / à jour" in render_plan(Plan([plan]))


def test_fewer_partitions_and_another_retention_are_both_planned() -> None:
    plan = plan_topic(WANTED, existing(partitions=2, retention_ms="60000"))
    assert plan.partitions == Difference(current=2, declared=WANTED.partitions)
    assert plan.configs == {
        "retention.ms": Difference(current="60000", declared=WANTED.config["retention.ms"])
    }
    assert plan.applicable
    text = render_plan(Plan([plan]))
    assert f"partitions 2 -> {WANTED.partitions}" in text
    assert "retention.ms '60000'" in text


def test_more_partitions_is_noted_not_planned() -> None:
    plan = plan_topic(WANTED, existing(partitions=WANTED.partitions + 4))
    assert plan.up_to_date
    assert plan.extra_partitions == Difference(
        current=WANTED.partitions + 4, declared=WANTED.partitions
    )
    assert "never lowered" in render_plan(Plan([plan]))


def test_a_replication_factor_is_left_to_a_person() -> None:
    plan = plan_topic(WANTED, existing(replicas=3))
    assert not plan.applicable
    assert not plan.up_to_date
    document = plan_json(Plan([plan]))
    assert document["up_to_date"] is False
    (topic,) = document["topics"]
    assert topic["action"] == "manual"
    assert topic["differences"]["replication_factor"] == {"current": 3, "declared": 1}
    assert "kafka-reassign-partitions" in topic["manual"]


def test_the_json_names_each_action() -> None:
    plans = [
        plan_topic(WANTED, None),
        plan_topic(WANTED, existing(cleanup_policy="compact")),
        TopicPlan(wanted=WANTED),
    ]
    actions = [topic["action"] for topic in plan_json(Plan(plans))["topics"]]
    assert actions == ["create", "update", "none"]


def test_refused_settings_exit_1_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_TOPIC_REPLICATION_FACTOR", "1")
    monkeypatch.setenv("BINOME_TOPIC_MIN_INSYNC_REPLICAS", "2")
    assert main(["plan"]) == EXIT_ERROR
