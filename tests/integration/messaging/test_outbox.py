"""The outbox on a real PostgreSQL: what a batch writes, and what the relay prunes."""

from __future__ import annotations

from typing import Any

import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.sessions_messages import ObjectiveProgressed
from binome_shared.messaging import outbox, relay
from binome_shared.messaging.cloudevents import encode
from tests.integration.messaging.factories import NOW, pair_formed
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration


async def test_pruning_deletes_only_rows_sent_before_the_retention(
    database: ProvisionedDatabase,
) -> None:
    conn = await database.connect("sessions")
    try:
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, value, header_names, header_values, sent_at)"
            " VALUES (gen_random_uuid(), 't', 'k', 'old', '{}', '{}', now() - interval '8 days'),"
            "        (gen_random_uuid(), 't', 'k', 'recent', '{}', '{}', now() - interval '1 day'),"
            "        (gen_random_uuid(), 't', 'k', 'unsent', '{}', '{}', NULL)"
        )
        await conn.execute(relay._PRUNE_SENT, "7 days")  # the relay's own statement
        left = await conn.fetch("SELECT convert_from(value, 'UTF8') AS v FROM outbox ORDER BY v")
    finally:
        await conn.close()
    assert [row["v"] for row in left] == ["recent", "unsent"]


async def test_a_batch_is_written_in_order_each_row_with_exactly_its_own_headers(
    database: ProvisionedDatabase,
) -> None:
    first = pair_formed(1)
    caused = first.caused(
        ObjectiveProgressed(pair_id="pair-1", objective_id="o-1", progress_percent=40),
        source="/binome/sessions",
        time=NOW,
        subject="pair-1",
    )
    envelopes: list[Envelope[Any]] = [first, caused, pair_formed(2)]
    conn = await database.connect("sessions")
    try:
        async with conn.transaction():
            await outbox.Outbox(topic_prefix="t.").add_many(conn, envelopes)
        rows = await conn.fetch(
            "SELECT event_id, topic, key, value, header_names, header_values "
            "FROM outbox ORDER BY id"
        )
    finally:
        await conn.close()
    assert [row["event_id"] for row in rows] == [envelope.id for envelope in envelopes]
    for row, envelope in zip(rows, envelopes, strict=True):
        expected = encode(envelope, topic=envelope.data.topic.full_name("t."))
        assert (row["topic"], row["key"], row["value"]) == (
            expected.topic,
            expected.key,
            expected.value,
        )
        headers = list(zip(row["header_names"], row["header_values"], strict=True))
        assert headers[:-1] == expected.headers
        assert headers[-1][0] == "traceparent", "each row carries its own creation context"
    assert len({row["header_values"][-1] for row in rows}) == len(rows)
    assert len(rows[1]["header_names"]) == len(rows[0]["header_names"]) + 2, (
        "causation and subject headers belong to the second row only"
    )
