"""Kafka ACLs: each principal may do exactly what its service declares, nothing more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from binome_devstack.service_definitions import read_only_clients, service_definitions
from binome_shared.contracts.acls import (
    INBOUND_PRINCIPAL,
    Acl,
    Operation,
    ReadOnlyClient,
    ResourceType,
    inbound_acls,
    platform_acls,
    principal_name,
    reader_acls,
    service_acls,
)
from binome_shared.contracts.base import Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import (
    ALL_TOPICS,
    HR_COMMANDS,
    PAIRING_EVENTS,
    SESSION_COMMANDS,
    SESSIONS_EVENTS,
    TopicSpec,
)

pytestmark = pytest.mark.unit

READ = (Operation.DESCRIBE, Operation.READ)
WRITE = (Operation.DESCRIBE, Operation.WRITE)


@dataclass
class _Service:
    name: str
    subscriptions: Sequence[TopicSpec]
    publishes: Sequence[type[Message]] = field(default_factory=tuple)

    def consumer_group(self, prefix: str = "") -> str:
        return f"{prefix}binome-{self.name}"


def events_on(topic: TopicSpec) -> tuple[type[Message], ...]:
    return tuple(message for message in CATALOGUE if message.topic == topic)


def test_a_service_reads_its_topics_with_its_group_and_writes_its_events_and_dead_letters() -> None:
    service = _Service(
        name="sessions",
        subscriptions=(PAIRING_EVENTS, SESSION_COMMANDS),
        publishes=events_on(SESSIONS_EVENTS),
    )
    acls = service_acls(service, prefix="staging.")
    assert acls.principal == "binome-sessions-kafka"
    assert acls.acls == (
        Acl(ResourceType.GROUP, "staging.binome-sessions", (Operation.READ,)),
        Acl(ResourceType.TOPIC, "staging.binome.pairing.events", READ),
        Acl(ResourceType.TOPIC, "staging.binome.pairing.events.dlq", WRITE),
        Acl(ResourceType.TOPIC, "staging.binome.sessions.commands", READ),
        Acl(ResourceType.TOPIC, "staging.binome.sessions.commands.dlq", WRITE),
        Acl(ResourceType.TOPIC, "staging.binome.sessions.events", WRITE),
    )


def test_a_service_that_reads_nothing_has_no_group() -> None:
    acls = service_acls(
        _Service(name="quiet", subscriptions=(), publishes=events_on(PAIRING_EVENTS))
    )
    assert acls.acls == (Acl(ResourceType.TOPIC, "binome.pairing.events", WRITE),)


def test_hr_commands_are_written_by_the_inbound_principal_only() -> None:
    inbound = inbound_acls(ALL_TOPICS)
    assert inbound.principal == INBOUND_PRINCIPAL == principal_name("hr")
    assert inbound.acls == (
        Acl(ResourceType.TOPIC, HR_COMMANDS.name, WRITE),
        Acl(ResourceType.TOPIC, SESSION_COMMANDS.name, WRITE),
    )


def test_a_read_only_client_may_read_and_describe_its_topics_and_nothing_else() -> None:
    reader = ReadOnlyClient(name="report", topics=(SESSIONS_EVENTS, HR_COMMANDS))
    acls = reader_acls(reader, prefix="t.")
    assert acls.principal == "binome-report-kafka"
    assert acls.acls == (
        Acl(ResourceType.TOPIC, f"t.{HR_COMMANDS.name}", READ),
        Acl(ResourceType.TOPIC, f"t.{SESSIONS_EVENTS.name}", READ),
    )


def test_read_only_clients_come_between_the_services_and_hr() -> None:
    definitions = service_definitions()
    readers = read_only_clients()
    names = [acls.principal for acls in platform_acls(definitions, ALL_TOPICS, readers=readers)]
    assert names == [
        *(principal_name(d.name) for d in definitions),
        *(principal_name(r.name) for r in readers),
        INBOUND_PRINCIPAL,
    ]
    assert [reader.name for reader in readers] == ["report"]


def test_the_platform_grants_follow_the_service_definitions() -> None:
    definitions = service_definitions()
    principals = {acls.principal: acls for acls in platform_acls(definitions, ALL_TOPICS)}
    assert set(principals) == {principal_name(d.name) for d in definitions} | {INBOUND_PRINCIPAL}
    for definition in definitions:
        own = principals[principal_name(definition.name)]
        readable = {
            acl.name
            for acl in own.acls
            if acl.resource_type == ResourceType.TOPIC and Operation.READ in acl.operations
        }
        writable = {
            acl.name
            for acl in own.acls
            if acl.resource_type == ResourceType.TOPIC and Operation.WRITE in acl.operations
        }
        assert readable == {topic.name for topic in definition.subscriptions}
        assert writable == {topic.dead_letter_name() for topic in definition.subscriptions} | {
            message.topic.name for message in definition.publishes
        }
        assert own.allowed(ResourceType.GROUP, definition.consumer_group()) == {Operation.READ}


def test_every_topic_is_written_exactly_by_its_declared_writers() -> None:
    """Its owner, or the services of a shared topic (binome.privacy.events)."""
    principals = platform_acls(service_definitions(), ALL_TOPICS)
    for topic in ALL_TOPICS:
        writers = {
            acls.principal
            for acls in principals
            if Operation.WRITE in acls.allowed(ResourceType.TOPIC, topic.name)
        }
        assert writers == {principal_name(writer) for writer in topic.written_by}, topic.name
