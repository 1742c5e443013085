"""How every Kafka topic is sized, replicated and kept, decided in one place.

Three classes of topic, three policies:

- **commands** (HR's enrolments, preferences, session feedback) carry personal data and are
  consumed within minutes: kept a bounded time, deleted after (a GDPR storage limitation);
- **events** are the services' facts, read by the others and replayed after an incident:
  kept longer, still bounded;
- **dead letters** hold a copy of a message that could not be processed, personal data
  included, until an operator reads and replays it: bounded as well.

Every topic is replicated (a broker lost loses nothing acknowledged): a write succeeds with
``acks=all`` only once ``min.insync.replicas`` copies have it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import Field, model_validator

from binome_shared.contracts.base import Message, MessageKind
from binome_shared.contracts.topics import TopicSpec
from binome_shared.runtime.environment import BinomeSettings

CleanupPolicy = Literal["delete", "compact", "compact,delete"]
HOUR_MS = 3_600_000


class TopicClass(enum.StrEnum):
    COMMANDS = "commands"
    EVENTS = "events"
    DEAD_LETTERS = "dead-letters"


class TopicPolicySettings(BinomeSettings):
    """``BINOME_TOPIC_*`` and per-class retention: safe for production by default."""

    create_topics: bool = Field(
        default=True,
        description=(
            "Let the services create missing topics (the laptop); `false` where topics are "
            "provisioned as code (Strimzi `KafkaTopic`)."
        ),
    )
    topic_replication_factor: int = Field(
        default=3, ge=1, description="Copies of every partition (1 on a one-broker laptop stack)."
    )
    topic_min_insync_replicas: int = Field(
        default=2,
        ge=1,
        description="Copies that must hold a write before it is acknowledged (`acks=all`).",
    )
    dead_letter_partitions: int = Field(
        default=1, ge=1, description="Partitions of each `.dlq` topic (little traffic)."
    )
    commands_retention_hours: int = Field(
        default=168, ge=1, description="How long commands (personal data) are kept: 7 days."
    )
    events_retention_hours: int = Field(
        default=720, ge=1, description="How long events are kept for replay: 30 days."
    )
    dead_letters_retention_hours: int = Field(
        default=336, ge=1, description="How long dead letters (personal data) wait: 14 days."
    )
    commands_cleanup_policy: CleanupPolicy = Field(
        default="delete", description="Kafka `cleanup.policy` of command topics."
    )
    events_cleanup_policy: CleanupPolicy = Field(
        default="delete", description="Kafka `cleanup.policy` of event topics."
    )
    dead_letters_cleanup_policy: CleanupPolicy = Field(
        default="delete", description="Kafka `cleanup.policy` of dead-letter topics."
    )

    @model_validator(mode="after")
    def _isr_fits_the_replicas(self) -> Self:
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise ValueError(
                "BINOME_TOPIC_MIN_INSYNC_REPLICAS exceeds BINOME_TOPIC_REPLICATION_FACTOR: "
                "no write could ever be acknowledged / aucune écriture ne serait jamais acquittée"
            )
        return self


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    """Retention and cleanup of one class of topic."""

    retention_hours: int
    cleanup_policy: CleanupPolicy


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """One topic as it must exist on the cluster."""

    name: str
    topic_class: TopicClass
    partitions: int
    replication_factor: int
    config: Mapping[str, str]
    """Kafka topic configuration (``min.insync.replicas``, ``retention.ms``, ...)."""


@dataclass(frozen=True, slots=True)
class TopicPolicy:
    """Replication, partitions of dead letters, and retention per class of topic."""

    replication_factor: int
    min_insync_replicas: int
    dead_letter_partitions: int
    classes: Mapping[TopicClass, ClassPolicy]

    @classmethod
    def from_settings(cls, settings: TopicPolicySettings) -> TopicPolicy:
        return cls(
            replication_factor=settings.topic_replication_factor,
            min_insync_replicas=settings.topic_min_insync_replicas,
            dead_letter_partitions=settings.dead_letter_partitions,
            classes={
                TopicClass.COMMANDS: ClassPolicy(
                    settings.commands_retention_hours, settings.commands_cleanup_policy
                ),
                TopicClass.EVENTS: ClassPolicy(
                    settings.events_retention_hours, settings.events_cleanup_policy
                ),
                TopicClass.DEAD_LETTERS: ClassPolicy(
                    settings.dead_letters_retention_hours, settings.dead_letters_cleanup_policy
                ),
            },
        )

    def _config(self, topic_class: TopicClass) -> dict[str, str]:
        own = self.classes[topic_class]
        return {
            "cleanup.policy": own.cleanup_policy,
            "min.insync.replicas": str(self.min_insync_replicas),
            "retention.ms": str(own.retention_hours * HOUR_MS),
        }

    def topics(
        self, topic: TopicSpec, topic_class: TopicClass, prefix: str = ""
    ) -> tuple[TopicConfig, TopicConfig]:
        """A catalogue topic and its dead-letter topic, as they must exist."""
        return (
            TopicConfig(
                name=topic.full_name(prefix),
                topic_class=topic_class,
                partitions=topic.partitions,
                replication_factor=self.replication_factor,
                config=self._config(topic_class),
            ),
            TopicConfig(
                name=topic.dead_letter_name(prefix),
                topic_class=TopicClass.DEAD_LETTERS,
                partitions=self.dead_letter_partitions,
                replication_factor=self.replication_factor,
                config=self._config(TopicClass.DEAD_LETTERS),
            ),
        )


def topic_class(topic: TopicSpec, messages: Iterable[type[Message]]) -> TopicClass:
    """Commands when every message the catalogue puts on ``topic`` is a command."""
    kinds = {message.message_kind for message in messages if message.topic == topic}
    if len(kinds) > 1:
        raise ValueError(f"{topic.name} mixes commands and events / mélange commandes et faits")
    return TopicClass.COMMANDS if kinds == {MessageKind.COMMAND} else TopicClass.EVENTS


SINGLE_BROKER_SETTINGS: Mapping[str, str] = {
    "BINOME_TOPIC_REPLICATION_FACTOR": "1",
    "BINOME_TOPIC_MIN_INSYNC_REPLICAS": "1",
}
"""What a service on a one-broker stack (the laptop, the tests, the demo) must be given:
the production defaults (3 copies, 2 in sync) cannot be met by a single broker."""


def single_broker_policy() -> TopicPolicy:
    """The policy of a one-broker stack: one copy of everything, retention as by default."""
    return TopicPolicy.from_settings(
        TopicPolicySettings.model_validate(
            {"topic_replication_factor": 1, "topic_min_insync_replicas": 1}
        )
    )
