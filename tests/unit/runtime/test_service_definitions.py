"""Each service's composition root is consistent: it subscribes to every topic it handles,
declares every topic it writes, and its migrations load."""

from __future__ import annotations

import pytest

from binome_notifications.bootstrap import definition as notifications
from binome_pairing.bootstrap import definition as pairing
from binome_sessions.bootstrap import definition as sessions
from binome_shared.contracts.base import MessageKind
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.runtime.service import ServiceDefinition

pytestmark = pytest.mark.unit

DEFINITIONS = [pairing(), sessions(), notifications()]


@pytest.mark.parametrize("service", DEFINITIONS, ids=lambda d: d.name)
def test_every_handled_message_arrives_on_a_subscribed_topic(service: ServiceDefinition) -> None:
    subscribed = {topic.name for topic in service.subscriptions}
    for message in service.routes:
        assert message.topic.name in subscribed, f"{service.name} handles {message.__name__}"


@pytest.mark.parametrize("service", DEFINITIONS, ids=lambda d: d.name)
def test_a_service_publishes_only_events_on_its_own_topics(service: ServiceDefinition) -> None:
    for message in service.publishes:
        assert message.message_kind is MessageKind.EVENT
        assert service.name in message.topic.written_by


@pytest.mark.parametrize("service", DEFINITIONS, ids=lambda d: d.name)
def test_every_routed_message_is_in_the_catalogue(service: ServiceDefinition) -> None:
    known = set(CATALOGUE)
    assert set(service.routes) <= known
    assert set(service.publishes) <= known


@pytest.mark.parametrize("service", DEFINITIONS, ids=lambda d: d.name)
def test_migrations_start_with_the_messaging_core(service: ServiceDefinition) -> None:
    versions = [migration.version for migration in service.migrations]
    assert versions[0] == "core_0001_messaging"
    assert len(versions) == len(set(versions))


def test_every_event_type_is_published_by_exactly_its_topics_writers() -> None:
    publishers: dict[str, list[str]] = {}
    for service in DEFINITIONS:
        for message in service.publishes:
            publishers.setdefault(message.message_type, []).append(service.name)
    events = [m for m in CATALOGUE if m.message_kind is MessageKind.EVENT]
    for event in events:
        expected = list(event.topic.written_by)
        assert sorted(publishers.get(event.message_type, [])) == sorted(expected), (
            event.message_type
        )


def test_every_inbound_command_has_a_handler() -> None:
    handled = {message for service in DEFINITIONS for message in service.routes}
    commands = [m for m in CATALOGUE if m.message_kind is MessageKind.COMMAND]
    missing = [command.__name__ for command in commands if command not in handled]
    assert missing == []
