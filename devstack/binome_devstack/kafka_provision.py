"""Provision the local cluster as an operator would: topics made by the admin, then ACLs.

On a secured stack no service principal may create topics (the catalogue's ACLs grant none),
so, as in production, the topics exist before the services start: each with its declared
partitions, as many replicas as the stack has nodes, and two in sync on a three-node one.
"""

from __future__ import annotations

from typing import Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_devstack.kafka_acls import apply_acls, client_security, platform_principals
from binome_devstack.rendering import CLUSTER_REPLICATION_FACTOR
from binome_devstack.settings import StackSettings
from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.runtime.topics import declared_topics

CLUSTER_MIN_IN_SYNC: Final = CLUSTER_REPLICATION_FACTOR - 1


async def create_platform_topics(settings: StackSettings, prefix: str = "") -> list[str]:
    """Create the platform's missing topics and dead-letter topics; return those created."""
    replicas = min(settings.kafka_brokers, CLUSTER_REPLICATION_FACTOR)
    configs = {"min.insync.replicas": str(CLUSTER_MIN_IN_SYNC)} if replicas > 1 else {}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in declared_topics(ALL_TOPICS, prefix) if t.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(t.name, t.partitions, replicas, topic_configs=configs) for t in missing]
            )
    finally:
        await admin.close()
    return [topic.name for topic in missing]


async def provision(settings: StackSettings, prefix: str = "") -> tuple[list[str], int]:
    """Topics, then (secured stack) ACLs for ``prefix``: (topics created, ACL bindings)."""
    created = await create_platform_topics(settings, prefix)
    bindings = (
        await apply_acls(settings, platform_principals(prefix)) if settings.kafka_secure else 0
    )
    return created, bindings
