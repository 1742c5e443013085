"""Topics as declared: created with their partitions, checked when they already exist.

Missing topics are created as the :class:`TopicPolicy` wants them (replication factor,
``min.insync.replicas``, retention and cleanup by class of topic), unless topics are
provisioned as code (``BINOME_CREATE_TOPICS=false``): then a missing topic is refused like a
too small one, and the service waits, not ready, until it exists.

A topic with fewer partitions than declared is refused rather than used: keys would land on
other partitions than every other producer expects, and a later increase would move them
again, breaking the per-key order the contracts promise. More partitions than declared only
spreads the load further; that is logged and accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import TopicSpec
from binome_shared.runtime.topic_policy import (
    TopicConfig,
    TopicPolicy,
    TopicPolicySettings,
    topic_class,
)

logger = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36
"""Kafka's error code when another replica created the topic a moment before us."""


@dataclass(frozen=True, slots=True)
class DeclaredTopic:
    """A topic's full name (prefix included) and the partitions the contracts declare."""

    name: str
    partitions: int


@dataclass(frozen=True, slots=True)
class TopicMismatch:
    """An existing topic with fewer partitions than declared."""

    name: str
    partitions: int
    declared: int

    def describe(self) -> str:
        return (
            f"topic {self.name} has {self.partitions} partition(s), "
            f"{self.declared} declared / le topic {self.name} a {self.partitions} "
            f"partition(s), {self.declared} déclarée(s)"
        )


class TopicsNotAsDeclaredError(Exception):
    """The topics on the cluster are not usable as declared: the service must wait."""

    remedy: str


class TopicsMissingError(TopicsNotAsDeclaredError):
    """Topics are provisioned as code (``BINOME_CREATE_TOPICS=false``) and some are missing."""

    remedy = (
        "create them (deploy/: the KafkaTopic manifests) or let the services create them "
        "(BINOME_CREATE_TOPICS=true) / créez-les (manifestes KafkaTopic de deploy/) ou "
        "laissez les services les créer (BINOME_CREATE_TOPICS=true)"
    )

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__(
            f"missing topics / topics absents: {', '.join(self.names)} (BINOME_CREATE_TOPICS=false)"
        )


class TopicsTooSmallError(TopicsNotAsDeclaredError):
    """Existing topics have fewer partitions than declared: the service must not use them."""

    remedy = (
        "add partitions, or delete and recreate the topic / ajoutez des partitions, "
        "ou supprimez et recréez le topic"
    )

    def __init__(self, mismatches: Sequence[TopicMismatch]) -> None:
        self.mismatches = tuple(mismatches)
        super().__init__("; ".join(mismatch.describe() for mismatch in self.mismatches))


class TopicCreationError(Exception):
    """The broker refused to create a topic (other than because it exists already)."""


def declared_topics(
    topics: Sequence[TopicSpec],
    prefix: str = "",
    policy: TopicPolicy | None = None,
    *,
    dead_letters_of: Collection[TopicSpec] | None = None,
) -> list[DeclaredTopic]:
    """Every topic of ``topics`` and its dead-letter topic (see :func:`planned_topics`), with
    their declared partitions (a dead-letter topic's from the policy; one by default)."""
    chosen = policy or TopicPolicy.from_settings(TopicPolicySettings.model_construct())
    return [
        DeclaredTopic(name=config.name, partitions=config.partitions)
        for config in planned_topics(topics, chosen, prefix, dead_letters_of=dead_letters_of)
    ]


def mismatches_of(
    declared: Sequence[DeclaredTopic], partition_counts: Mapping[str, int]
) -> list[TopicMismatch]:
    """The existing topics of ``declared`` that have fewer partitions than declared."""
    return [
        TopicMismatch(name=topic.name, partitions=count, declared=topic.partitions)
        for topic in declared
        if (count := partition_counts.get(topic.name, topic.partitions)) < topic.partitions
    ]


def planned_topics(
    topics: Sequence[TopicSpec],
    policy: TopicPolicy,
    prefix: str = "",
    *,
    dead_letters_of: Collection[TopicSpec] | None = None,
) -> list[TopicConfig]:
    """Every topic of ``topics`` and its dead-letter topic, as ``policy`` wants them.

    ``dead_letters_of`` limits the dead-letter topics to those of the topics named (all by
    default): a service writes dead letters only for what it reads, and its Kafka principal
    may not even see the dead-letter topics of what it publishes.
    """
    messages = list(CATALOGUE)
    unwanted = (
        set()
        if dead_letters_of is None
        else {topic.dead_letter_name(prefix) for topic in topics if topic not in dead_letters_of}
    )
    planned = {
        config.name: config
        for topic in topics
        for config in policy.topics(topic, topic_class(topic, messages), prefix)
        if config.name not in unwanted
    }
    return sorted(planned.values(), key=lambda config: config.name)


async def ensure_topics(
    bootstrap_servers: str,
    topics: Sequence[TopicSpec],
    *,
    policy: TopicPolicy,
    prefix: str = "",
    create: bool = True,
    client_options: Mapping[str, Any] | None = None,
    dead_letters_of: Collection[TopicSpec] | None = None,
) -> list[str]:
    """Create whichever of ``topics`` (and their dead-letter topics) do not exist yet, as
    ``policy`` wants them; returns the names created.

    ``create=False`` creates nothing and raises :class:`TopicsMissingError` if any is
    missing. Raises :class:`TopicsTooSmallError` if an existing topic has fewer partitions
    than declared, and whatever the admin client raises while the broker is unreachable.
    ``client_options`` go to the admin client (security: ``aiokafka_security(settings)``).
    """
    planned = planned_topics(topics, policy, prefix, dead_letters_of=dead_letters_of)
    declared = declared_topics(topics, prefix, policy, dead_letters_of=dead_letters_of)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **(client_options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [config for config in planned if config.name not in existing]
        if missing and not create:
            raise TopicsMissingError([config.name for config in missing])
        if missing:
            await create_planned_topics(admin, missing)
            logger.info("created topics %s", [config.name for config in missing])
        counts = await _partition_counts(admin, [topic.name for topic in declared])
    finally:
        await admin.close()
    for topic in declared:
        if counts.get(topic.name, topic.partitions) > topic.partitions:
            logger.info(
                "topic %s has %d partitions, %d declared: more is fine",
                topic.name,
                counts[topic.name],
                topic.partitions,
            )
    mismatches = mismatches_of(declared, counts)
    if mismatches:
        raise TopicsTooSmallError(mismatches)
    return [config.name for config in missing]


async def create_planned_topics(admin: AIOKafkaAdminClient, missing: Sequence[TopicConfig]) -> None:
    """Create ``missing`` as planned; one that exists already (created meanwhile) is fine."""
    response = await admin.create_topics(
        [
            NewTopic(
                config.name,
                config.partitions,
                config.replication_factor,
                topic_configs=dict(config.config),
            )
            for config in missing
        ]
    )
    for name, code, *details in response.topic_errors:
        if code not in {0, _TOPIC_ALREADY_EXISTS}:
            message = details[0] if details else ""
            raise TopicCreationError(f"{name}: Kafka error {code} {message}")


async def _partition_counts(admin: AIOKafkaAdminClient, names: Sequence[str]) -> dict[str, int]:
    """Partitions of each named topic whose metadata answers (a topic created a moment ago
    may not have a leader yet: it was created as declared, so it is left out)."""
    described = await admin.describe_topics(list(names))
    return {
        topic["topic"]: len(topic["partitions"]) for topic in described if topic["error_code"] == 0
    }
