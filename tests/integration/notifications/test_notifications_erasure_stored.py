"""Erasure in the notifications service's handlers, on a real PostgreSQL: remembered per
tenant, idempotent, and final (the person is not stored again, and nothing is planned about
a pair with an erased member, for anyone)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.integration.notifications.test_notifications_service_ledger import consume, pool
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration

__all__ = ["pool"]  # the fixture, shared with the ledger's tests

OTHER = "prog-notif-2"


def in_other_programme(envelope: Any) -> Any:
    return envelope.model_copy(update={"programme_id": OTHER})


async def test_an_erased_person_is_never_stored_nor_notified_again(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    erasures = [make.erase(make.MENTEE), make.erase(make.MENTEE), make.erase("Z9")]
    await consume(pool, *erasures)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM erased_participants") == 2
        before = await conn.fetch("SELECT delivery_key, recipient_id FROM deliveries")
    assert [row["recipient_id"] for row in before] == [make.MENTOR]

    await consume(
        pool,
        in_other_programme(make.define_programme()),
        *(in_other_programme(enrolment) for enrolment in make.enrol_pair()),
        in_other_programme(make.pair_formed("pair-2")),
    )
    async with pool.acquire() as conn:
        people = await conn.fetch("SELECT participant_id FROM people ORDER BY programme_id")
        after = await conn.fetch("SELECT delivery_key, recipient_id FROM deliveries")
    assert [row["participant_id"] for row in people] == [make.MENTOR, make.MENTOR]
    assert after == before, "nothing about a pair with an erased member, for anyone"
