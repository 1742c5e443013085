"""The differences between the declared topics and a running cluster, and their repair.

Where topics are provisioned as code (``BINOME_CREATE_TOPICS=false``) the deploy pipeline
runs ``binome-topics plan`` then ``apply``. A plan compares, for each declared topic and
dead-letter topic, what the :class:`TopicPolicy` wants with what the cluster has. ``apply``
only ever adds: it creates missing topics, adds partitions and sets configurations. It never
deletes a topic nor lowers a partition count (Kafka cannot, and the per-key order the
contracts promise would break), and it cannot change a replication factor: that needs a
partition reassignment, which it reports for a person to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from binome_shared.runtime.topic_policy import TopicConfig
from binome_shared.runtime.topics import create_planned_topics

DYNAMIC_TOPIC_CONFIG = 1
"""``config_source`` of a value set on the topic itself (not a broker or Kafka default)."""

REPLICATION_REMEDY = (
    "reassign the partitions (kafka-reassign-partitions.sh with a plan listing the wanted "
    "replicas; with Strimzi, set spec.replicas of the KafkaTopic and let the Topic Operator "
    "and Cruise Control do it) / réassignez les partitions (kafka-reassign-partitions.sh avec "
    "un plan listant les répliques voulues ; avec Strimzi, changez spec.replicas du KafkaTopic)"
)


class TopicConfigError(Exception):
    """The broker refused to describe or change a topic's configuration."""


@dataclass(frozen=True, slots=True)
class ExistingTopic:
    """A topic as the cluster has it."""

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]
    """Every configuration value the broker reports (defaults included)."""
    overrides: Mapping[str, str]
    """The values set on the topic itself: Kafka's ``AlterConfigs`` replaces all of them."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One value of a topic: what the cluster has, what is declared."""

    current: str | int
    declared: str | int


@dataclass(frozen=True, slots=True)
class TopicPlan:
    """What must happen to one topic for the cluster to match the declaration."""

    wanted: TopicConfig
    create: bool = False
    partitions: Difference | None = None
    """Fewer partitions than declared: partitions to add."""
    extra_partitions: Difference | None = None
    """More partitions than declared: fine (the load only spreads further), reported."""
    configs: Mapping[str, Difference] = field(default_factory=dict)
    replication: Difference | None = None
    """A different replication factor: not fixable here, see :data:`REPLICATION_REMEDY`."""

    @property
    def applicable(self) -> bool:
        """Something ``apply`` can do."""
        return self.create or self.partitions is not None or bool(self.configs)

    @property
    def up_to_date(self) -> bool:
        return not self.applicable and self.replication is None


@dataclass(frozen=True, slots=True)
class Plan:
    topics: Sequence[TopicPlan]

    @property
    def up_to_date(self) -> bool:
        return all(topic.up_to_date for topic in self.topics)


def plan_topic(wanted: TopicConfig, existing: ExistingTopic | None) -> TopicPlan:
    """Compare one declared topic with what the cluster has (``None``: it is missing)."""
    if existing is None:
        return TopicPlan(wanted=wanted, create=True)
    configs = {
        key: Difference(current=existing.config.get(key, ""), declared=value)
        for key, value in wanted.config.items()
        if existing.config.get(key) != value
    }
    count = Difference(current=existing.partitions, declared=wanted.partitions)
    replication = Difference(
        current=existing.replication_factor, declared=wanted.replication_factor
    )
    return TopicPlan(
        wanted=wanted,
        partitions=count if existing.partitions < wanted.partitions else None,
        extra_partitions=count if existing.partitions > wanted.partitions else None,
        configs=configs,
        replication=replication if replication.current != replication.declared else None,
    )


async def make_plan(admin: AIOKafkaAdminClient, planned: Sequence[TopicConfig]) -> Plan:
    """The plan of every ``planned`` topic against the cluster ``admin`` talks to."""
    existing = await read_topics(admin, [config.name for config in planned])
    return Plan(topics=[plan_topic(config, existing.get(config.name)) for config in planned])


async def read_topics(admin: AIOKafkaAdminClient, names: Sequence[str]) -> dict[str, ExistingTopic]:
    """The named topics that exist, with their partitions, replicas and configuration."""
    present = set(await admin.list_topics()) & set(names)
    if not present:
        return {}
    described = await admin.describe_topics(sorted(present))
    layout = {
        topic["topic"]: (
            len(topic["partitions"]),
            max((len(partition["replicas"]) for partition in topic["partitions"]), default=0),
        )
        for topic in described
        if topic["error_code"] == 0
    }
    configs = await _describe_configs(admin, sorted(layout))
    return {
        name: ExistingTopic(
            name=name,
            partitions=partitions,
            replication_factor=replicas,
            config={key: value for key, (value, _) in configs[name].items()},
            overrides={
                key: value
                for key, (value, source) in configs[name].items()
                if source == DYNAMIC_TOPIC_CONFIG
            },
        )
        for name, (partitions, replicas) in layout.items()
    }


async def _describe_configs(
    admin: AIOKafkaAdminClient, names: Sequence[str]
) -> dict[str, dict[str, tuple[str, int]]]:
    """Each topic's configuration: name -> (value, source)."""
    if not names:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    configs: dict[str, dict[str, tuple[str, int]]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            _refuse_error(resource)
            configs[resource["resource_name"]] = {
                # aiokafka spells the protocol field ``config_names``.
                entry["config_names"]: (entry["config_value"], entry["config_source"])
                for entry in resource["config_entries"]
                if entry["config_value"] is not None
            }
    return configs


async def settled_plan(
    admin: AIOKafkaAdminClient,
    planned: Sequence[TopicConfig],
    *,
    timeout_seconds: float = 30.0,
    poll_seconds: float = 0.5,
) -> Plan:
    """The plan once the changes just applied are visible, or as it stands at the timeout.

    Kafka acknowledges a creation or a change once its controller has recorded it; each
    broker learns of it a moment later, so a plan made at once could still show it pending.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    while True:
        plan = await make_plan(admin, planned)
        if not any(topic.applicable for topic in plan.topics) or loop.time() >= deadline:
            return plan
        await asyncio.sleep(poll_seconds)


def _refuse_error(resource: Mapping[str, Any]) -> None:
    if resource["error_code"]:
        raise TopicConfigError(
            f"{resource['resource_name']}: Kafka error {resource['error_code']} "
            f"{resource['error_message'] or ''}"
        )


async def apply_plan(admin: AIOKafkaAdminClient, plan: Plan) -> list[TopicPlan]:
    """Do what ``plan`` asks that can be done; returns the topic plans acted upon."""
    to_create = [topic for topic in plan.topics if topic.create]
    if to_create:
        await create_planned_topics(admin, [topic.wanted for topic in to_create])
    to_grow = {
        topic.wanted.name: NewPartitions(topic.wanted.partitions)
        for topic in plan.topics
        if topic.partitions is not None
    }
    if to_grow:
        await admin.create_partitions(to_grow)
    to_configure = [topic for topic in plan.topics if topic.configs]
    if to_configure:
        await _alter_configs(admin, to_configure)
    return [topic for topic in plan.topics if topic.applicable]


async def _alter_configs(admin: AIOKafkaAdminClient, topics: Sequence[TopicPlan]) -> None:
    # The legacy AlterConfigs (the one aiokafka speaks) resets every value it is not given:
    # the topic's other overrides are sent again so that only the declared keys change.
    current = await read_topics(admin, [topic.wanted.name for topic in topics])
    resources = [
        ConfigResource(
            ConfigResourceType.TOPIC,
            topic.wanted.name,
            {**current[topic.wanted.name].overrides, **topic.wanted.config},
        )
        for topic in topics
    ]
    for response in await admin.alter_configs(resources):
        for resource in response.to_object()["resources"]:
            _refuse_error(resource)
