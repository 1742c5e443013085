"""Topic policy: replicated everywhere, personal data kept a bounded time."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import (
    ALL_TOPICS,
    HR_COMMANDS,
    PAIRING_EVENTS,
    SESSION_COMMANDS,
    TopicSpec,
)
from binome_shared.runtime.topic_policy import (
    HOUR_MS,
    TopicClass,
    TopicPolicy,
    TopicPolicySettings,
    topic_class,
)

pytestmark = pytest.mark.unit


def policy(**values: Any) -> TopicPolicy:
    return TopicPolicy.from_settings(TopicPolicySettings.model_validate(values))


def test_production_defaults_replicate_three_times_and_bound_personal_data() -> None:
    defaults = TopicPolicySettings.model_validate({})
    assert defaults.topic_replication_factor == 3
    assert defaults.topic_min_insync_replicas == 2
    assert defaults.commands_retention_hours == 7 * 24
    assert defaults.dead_letters_retention_hours == 14 * 24
    assert defaults.events_retention_hours == 30 * 24
    assert defaults.create_topics is True


def test_a_command_topic_and_its_dead_letters_get_their_class_policy() -> None:
    topic, dead_letters = policy(dead_letter_partitions=2).topics(
        HR_COMMANDS, TopicClass.COMMANDS, prefix="staging."
    )
    assert topic.name == "staging.binome.hr.commands"
    assert topic.partitions == HR_COMMANDS.partitions
    assert topic.replication_factor == 3
    assert topic.config == {
        "cleanup.policy": "delete",
        "min.insync.replicas": "2",
        "retention.ms": str(168 * HOUR_MS),
    }
    assert dead_letters.name == "staging.binome.hr.commands.dlq"
    assert dead_letters.topic_class is TopicClass.DEAD_LETTERS
    assert dead_letters.partitions == 2
    assert dead_letters.config["retention.ms"] == str(336 * HOUR_MS)


def test_every_setting_reaches_the_topic_configuration() -> None:
    (events, _) = policy(
        topic_replication_factor=5,
        topic_min_insync_replicas=3,
        events_retention_hours=48,
        events_cleanup_policy="compact,delete",
    ).topics(PAIRING_EVENTS, TopicClass.EVENTS)
    assert events.replication_factor == 5
    assert events.config == {
        "cleanup.policy": "compact,delete",
        "min.insync.replicas": "3",
        "retention.ms": str(48 * HOUR_MS),
    }


def test_min_insync_replicas_above_the_replicas_is_refused() -> None:
    with pytest.raises(ValidationError, match="no write could ever be acknowledged"):
        TopicPolicySettings.model_validate(
            {"topic_replication_factor": 1, "topic_min_insync_replicas": 2}
        )


def test_the_catalogue_says_which_topics_carry_commands() -> None:
    messages = list(CATALOGUE)
    classes = {topic.name: topic_class(topic, messages) for topic in ALL_TOPICS}
    assert classes == {
        HR_COMMANDS.name: TopicClass.COMMANDS,
        SESSION_COMMANDS.name: TopicClass.COMMANDS,
        "binome.pairing.events": TopicClass.EVENTS,
        "binome.sessions.events": TopicClass.EVENTS,
        "binome.notifications.events": TopicClass.EVENTS,
        "binome.privacy.events": TopicClass.EVENTS,
    }


def test_a_topic_mixing_commands_and_events_is_refused() -> None:
    command = next(m for m in CATALOGUE if m.topic == HR_COMMANDS)
    event = next(m for m in CATALOGUE if m.topic == PAIRING_EVENTS)
    mixed = TopicSpec(name="mixed", partitions=1, key="k", description="", owner="x")

    class _Command(command):  # type: ignore[valid-type,misc]
        topic = mixed

    class _Event(event):  # type: ignore[valid-type,misc]
        topic = mixed

    with pytest.raises(ValueError, match="mixes commands and events"):
        topic_class(mixed, [_Command, _Event])
