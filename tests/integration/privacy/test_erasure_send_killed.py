"""An erasure committed while notifications lies killed between planning and sending, on the
real broker, PostgreSQL and SMTP sink: notifications plans two pairs' introductions and
SIGKILLs itself as its sending job claims the first one (the ``notifications.after_claim``
failpoint); the erasure of pair-1's mentee is then committed as a blind racing erasure leaves
it (the tombstone, the planned deliveries untouched). After the restart the sending job
withdraws pair-1's two introductions (to her, and to her mentor naming her) and sends
pair-2's (her mentor's other pair) exactly once each."""

from __future__ import annotations

import email
from collections import Counter
from email.policy import default as default_policy
from typing import Any

import pytest

from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_notifications.adapters.deliveries import WITHDRAWN
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.db.erasures import record_erasure
from tests.integration.notifications.test_notifications_erasure_scan import pair_of
from tests.integration.notifications.test_notifications_service_delivery import (
    publish,
    start_notifications,
    stored_count,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.waiting import eventually
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

SCHEMA = "notifications"
NEIGHBOURS = {"Y1": "ines.martin@example.com", "X2": "marc.petit@example.com"}
"""Pair-2: the erased mentee's own mentor, with another mentee."""
DELIVERIES = "SELECT recipient_id, pair_id, status, last_outcome FROM deliveries"


def recipients(sink: SmtpSink) -> Counter[str]:
    """Who the sink received mail for, one count per message."""
    received: Counter[str] = Counter()
    for path in sink.stored:
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        received[str(message["To"].addresses[0].addr_spec)] += 1
    return received


async def deliveries(database: ProvisionedDatabase) -> list[Any]:
    conn = await database.connect(SCHEMA)
    try:
        return list(await conn.fetch(DELIVERIES))
    finally:
        await conn.close()


async def test_erasure_committed_while_killed_before_sending_withdraws_at_send_time(
    database: ProvisionedDatabase, kafka: Kafka, service_factory: Any, mail_sink: SmtpSink
) -> None:
    env = {
        "BINOME_SMTP_HOST": "127.0.0.1",
        "BINOME_SMTP_PORT": str(mail_sink.port),
        "BINOME_SMTP_FROM": "binome@binome.example.com",
        "BINOME_PUBLIC_BASE_URL": "https://rh.example.com",
    }
    service = start_notifications(service_factory, mail_sink)
    await service.wait_ready()
    await publish(
        kafka,
        make.define_programme(),
        *make.enrol_pair(),
        make.enrol("X2", name="Marc Petit", email=NEIGHBOURS["X2"], role=ParticipantRole.MENTEE),
    )
    await eventually(lambda: database.fetchval(SCHEMA, "SELECT count(*) FROM people"), 3)
    service.kill()
    service.start(**env, BINOME_FAILPOINTS="notifications.after_claim")
    await service.wait_ready()
    await publish(kafka, pair_of("pair-1", make.MENTEE), pair_of("pair-2", "X2"))
    assert await service.wait_exit() == -9, "killed by its failpoint at the first claim"
    planned = await deliveries(database)
    assert {row["pair_id"] for row in planned} >= {"pair-1"}, planned
    assert not mail_sink.stored

    conn = await database.connect(SCHEMA)
    try:
        assert await record_erasure(conn, make.TENANT, make.MENTEE, at=make.NOW)
    finally:
        await conn.close()
    service.start(**env)
    await service.wait_ready()

    async def settled() -> list[tuple[str, str, str, bool]]:
        return sorted(
            (row["recipient_id"], row["pair_id"], row["status"], row["last_outcome"] == WITHDRAWN)
            for row in await deliveries(database)
        )

    expected = [
        ("X1", "pair-1", "cancelled", True),
        ("X2", "pair-2", "sent", False),
        ("Y1", "pair-1", "cancelled", True),
        ("Y1", "pair-2", "sent", False),
    ]
    await eventually(settled, expected)
    await eventually(lambda: stored_count(mail_sink), 2)
    assert recipients(mail_sink) == Counter(dict.fromkeys(NEIGHBOURS.values(), 1))
