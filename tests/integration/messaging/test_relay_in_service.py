"""The defect as first seen on the real stack: one oversized record in a running service's
outbox jammed it for good. Now the service's own relay sets it aside and goes on."""

from __future__ import annotations

from typing import Any

import pytest

from binome_shared.contracts.topics import PAIRING_EVENTS
from tests.integration.messaging.relay_support import (
    expected_by_key,
    queue,
    row,
    values_by_key,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

_SENT = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"


async def test_a_running_service_sets_an_oversized_record_aside_and_relays_the_rest(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    topic = PAIRING_EVENTS.full_name(kafka.prefix)
    oversized = row(topic, "pair-1", 99, size=1_200_000)  # a dead letter's copy, say
    before = [row(topic, f"pair-{key}", 0) for key in range(4)]
    after = [row(topic, f"pair-{key}", rank) for rank in (1, 2) for key in range(4)]
    ids = await queue(database, [*before, oversized], schema="pairing")
    await eventually(lambda: database.fetchval("pairing", _SENT), len(before))
    ids += await queue(database, after, schema="pairing")
    await eventually(lambda: database.fetchval("pairing", _SENT), len(before) + len(after))

    reason = await database.fetchval(
        "pairing", "SELECT set_aside_reason FROM outbox WHERE id = $1", ids[len(before)]
    )
    assert reason.startswith("MessageSizeTooLargeError: the record takes 1,200,")
    held = await values_by_key(kafka, topic, expect=len(before) + len(after))
    assert held == expected_by_key([*before, *after])
    assert "set aside" in pairing.log_tail(200)
