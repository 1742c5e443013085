"""Topic creation from the one place topics are defined, so partition counts are as declared."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from binome_shared.contracts.topics import TopicSpec

logger = logging.getLogger(__name__)

DEAD_LETTER_PARTITIONS = 1


async def ensure_topics(
    bootstrap_servers: str,
    topics: Sequence[TopicSpec],
    *,
    prefix: str = "",
    replication_factor: int = 1,
) -> list[str]:
    """Create whichever of ``topics`` (and their dead-letter topics) do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication_factor)
            for topic in topics
            for name, partitions in (
                (topic.full_name(prefix), topic.partitions),
                (topic.dead_letter_name(prefix), DEAD_LETTER_PARTITIONS),
            )
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            logger.info("created topics %s", [topic.name for topic in missing])
            del response
        return [topic.name for topic in missing]
    finally:
        await admin.close()
