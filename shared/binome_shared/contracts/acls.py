"""Kafka ACLs derived from what each service declares it reads and writes.

Each service is its own Kafka principal allowed exactly what its ``ServiceDefinition`` says:
read the topics it subscribes to with its own consumer group, write the topics of the events
it publishes, and write the dead-letter topic of each topic it reads (a consumer parks what
it cannot process in ``<topic it reads>.dlq``). HR's commands come in through one more
principal allowed to write the topics whose owner is ``hr``. Nothing is typed twice: the
Strimzi ``KafkaUser`` resources are generated from these lists. A read-only client (the
report server) is a principal of its own allowed to read and describe its topics, nothing
else: no consumer group, no write, not even to a dead-letter topic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from binome_shared.contracts.base import Message
from binome_shared.contracts.topics import TopicSpec

INBOUND_OWNER = "hr"
INBOUND_PRINCIPAL = "binome-hr-kafka"
"""Writes HR's commands: the HR import (``binome-hr-import``) and HR platform connectors."""


class Operation(enum.StrEnum):
    READ = "Read"
    WRITE = "Write"
    DESCRIBE = "Describe"


class ResourceType(enum.StrEnum):
    TOPIC = "topic"
    GROUP = "group"


class ServiceTraffic(Protocol):
    """What a service reads and writes (a ``ServiceDefinition`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def subscriptions(self) -> Sequence[TopicSpec]: ...

    @property
    def publishes(self) -> Sequence[type[Message]]: ...

    def consumer_group(self, prefix: str = "") -> str: ...


@dataclass(frozen=True, slots=True)
class ReadOnlyClient:
    """A client that replays topics without a consumer group and writes nothing (the report
    server: it assigns itself every partition and commits no offset)."""

    name: str
    topics: tuple[TopicSpec, ...]


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """Operations allowed on one resource, named literally (no prefix patterns)."""

    resource_type: ResourceType
    name: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class PrincipalAcls:
    """One Kafka principal (a SCRAM user) and everything it may do."""

    principal: str
    acls: tuple[Acl, ...]

    def allowed(self, resource_type: ResourceType, name: str) -> frozenset[Operation]:
        return frozenset(
            operation
            for acl in self.acls
            if (acl.resource_type, acl.name) == (resource_type, name)
            for operation in acl.operations
        )


def principal_name(service: str) -> str:
    """The Kafka user of a service.

    Not ``binome-<service>``: Strimzi stores a user's password in a Secret named after it,
    and ``binome-<service>`` is already the service's own Secret.
    """
    return f"binome-{service}-kafka"


def _merge(grants: Iterable[tuple[ResourceType, str, Operation]]) -> tuple[Acl, ...]:
    """One ACL per resource, operations deduplicated, in a stable order."""
    merged: dict[tuple[ResourceType, str], set[Operation]] = {}
    for resource_type, name, operation in grants:
        merged.setdefault((resource_type, name), set()).add(operation)
    return tuple(
        Acl(resource_type, name, tuple(sorted(operations)))
        for (resource_type, name), operations in sorted(merged.items())
    )


def _writes(topic_names: Iterable[str]) -> Iterator[tuple[ResourceType, str, Operation]]:
    for name in topic_names:
        yield ResourceType.TOPIC, name, Operation.WRITE
        yield ResourceType.TOPIC, name, Operation.DESCRIBE


def service_acls(service: ServiceTraffic, prefix: str = "") -> PrincipalAcls:
    """The ACLs of one service's principal, from its subscriptions and publications."""
    grants: list[tuple[ResourceType, str, Operation]] = []
    for topic in service.subscriptions:
        grants += [
            (ResourceType.TOPIC, topic.full_name(prefix), Operation.READ),
            (ResourceType.TOPIC, topic.full_name(prefix), Operation.DESCRIBE),
        ]
    if service.subscriptions:
        grants.append((ResourceType.GROUP, service.consumer_group(prefix), Operation.READ))
    grants += _writes(topic.dead_letter_name(prefix) for topic in service.subscriptions)
    grants += _writes(message.topic.full_name(prefix) for message in service.publishes)
    return PrincipalAcls(principal=principal_name(service.name), acls=_merge(grants))


def reader_acls(reader: ReadOnlyClient, prefix: str = "") -> PrincipalAcls:
    """Read and Describe on each of the reader's topics: fetching, listing the topics and
    their offsets; no group (it commits nothing), no Write anywhere."""
    grants = [
        (ResourceType.TOPIC, topic.full_name(prefix), operation)
        for topic in reader.topics
        for operation in (Operation.READ, Operation.DESCRIBE)
    ]
    return PrincipalAcls(principal=principal_name(reader.name), acls=_merge(grants))


def inbound_acls(topics: Iterable[TopicSpec], prefix: str = "") -> PrincipalAcls:
    """The ACLs of the principal that writes HR's commands (topics owned by ``hr``)."""
    owned = (topic.full_name(prefix) for topic in topics if topic.owner == INBOUND_OWNER)
    return PrincipalAcls(principal=INBOUND_PRINCIPAL, acls=_merge(_writes(owned)))


def platform_acls(
    services: Iterable[ServiceTraffic],
    topics: Iterable[TopicSpec],
    prefix: str = "",
    readers: Iterable[ReadOnlyClient] = (),
) -> tuple[PrincipalAcls, ...]:
    """Every principal of the platform: one per service, one per read-only client, then
    HR's inbound one."""
    return (
        *(service_acls(service, prefix) for service in services),
        *(reader_acls(reader, prefix) for reader in readers),
        inbound_acls(topics, prefix),
    )
