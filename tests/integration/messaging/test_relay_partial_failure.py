"""When one partition's batch fails in the middle of a claim, the relay marks sent what the
broker acknowledged and sends again only the rest — on a real broker and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.integration.messaging.relay_support import (
    create_topic,
    expected_by_key,
    outbox_state,
    queue,
    relay_on,
    row,
    values_by_key,
)
from tests.support.platform import Kafka, ProvisionedDatabase

pytestmark = pytest.mark.integration


async def test_a_batch_refused_whole_goes_again_alone_and_nothing_acknowledged_goes_twice(
    database: ProvisionedDatabase, kafka: Kafka, topic_prefix: str
) -> None:
    plain = await create_topic(kafka.bootstrap, f"{topic_prefix}relay.plain", partitions=3)
    # Each record fits under this limit; four of them in one batch do not.
    small = await create_topic(
        kafka.bootstrap, f"{topic_prefix}relay.small", partitions=1, max_message_bytes=2000
    )
    plain_rows = [row(plain, f"k{key}", rank) for rank in range(4) for key in range(6)]
    small_rows = [row(small, f"s{key}", rank, size=600) for rank in range(2) for key in range(2)]
    rows = [*plain_rows[:12], *small_rows, *plain_rows[12:]]
    ids = await queue(database, rows)
    plain_ids = {row_id for row_id, item in zip(ids, rows, strict=True) if item.topic == plain}

    async with relay_on(database, kafka.bootstrap) as relay:
        assert await relay.relay_once() == len(rows)
        state = await outbox_state(database)
        assert {row_id for row_id, (sent, _) in state.items() if sent} == plain_ids
        assert all(reason is None for _, reason in state.values()), "none is at fault alone"
        assert relay.errors_total == {"MessageSizeTooLargeError": 1}

        assert await relay.relay_once() == len(small_rows), "only what was not acknowledged"
        assert await relay.pending() == 0
        assert relay.published == len(rows)
        assert await relay.set_aside_count() == 0

    for topic, sent in ((plain, plain_rows), (small, small_rows)):
        expected = expected_by_key(sent)
        held = await values_by_key(kafka, topic, expect=len(sent))
        assert held == expected, f"{topic}: each record once, in per-key order"
