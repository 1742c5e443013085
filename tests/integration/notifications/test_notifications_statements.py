"""How many statements one event costs the consumer's transaction, on a real PostgreSQL:
what a pair's event needs is read at once, and its deliveries are written at once; and the
delivery counts the service reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import pytest

from binome_notifications.adapters.deliveries import DeliveryCount, PostgresDeliveries
from binome_notifications.domain.model import NotificationKind
from binome_notifications.domain.sending import DeliveryStatus
from binome_notifications.handlers import MessageHandlers
from binome_shared.contracts.base import Envelope
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from tests.integration.notifications.test_notifications_service_ledger import (
    NOW,
    RENDERER,
    SOURCE,
    consume,
    rows,
)
from tests.support.platform import ProvisionedDatabase
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.integration


class CountingConnection:
    """Passes every call on to the real connection and counts the statements sent."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.statements: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._conn, name)
        if name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            self.statements[name] += 1
        return attribute


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    async with database.pool("notifications", connections=2) as created:
        yield created


async def statements_of(pool: asyncpg.Pool, envelope: Envelope[Any]) -> Counter[str]:
    routes = MessageHandlers(renderer=RENDERER).routes()
    async with pool.acquire() as conn, conn.transaction():
        counting = CountingConnection(conn)
        uow = UnitOfWork(
            conn=cast(asyncpg.Connection, counting), outbox=Outbox(), now=NOW, source=SOURCE
        )
        await dispatch(routes[type(envelope.data)], [envelope], uow)
    return counting.statements


async def test_a_pair_formed_costs_one_read_one_pair_and_one_write_of_deliveries(
    pool: asyncpg.Pool,
) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair())
    statements = await statements_of(pool, make.pair_formed())
    # Programme, mentor, mentee and both opt-outs (fetchrow); the pair (execute); both
    # introductions and their jobs (fetchval). It was eight: three reads, the pair, and an
    # opt-out read and a write per introduction.
    assert statements == Counter({"fetchrow": 1, "execute": 1, "fetchval": 1})
    planned = await rows(pool, "SELECT kind, recipient_id FROM deliveries ORDER BY recipient_id")
    assert [(row["kind"], row["recipient_id"]) for row in planned] == [
        ("introduction", make.MENTEE),
        ("introduction", make.MENTOR),
    ]
    jobs = await rows(pool, "SELECT job_id FROM scheduled_jobs WHERE job_type = 'deliver'")
    assert len(jobs) == 2


async def test_a_session_event_reads_its_pair_once_whatever_it_sends(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    statements = await statements_of(pool, make.session_completed())
    # The pair with its programme, members and opt-outs; two feedback requests at once.
    assert statements == Counter({"fetchrow": 1, "fetchval": 1})


async def test_the_delivery_counts_are_typed_rows_by_kind_and_status(pool: asyncpg.Pool) -> None:
    await consume(pool, make.define_programme(), *make.enrol_pair(), make.pair_formed())
    async with pool.acquire() as conn:
        counts = await PostgresDeliveries(conn).counts(make.TENANT)
        other_tenant = await PostgresDeliveries(conn).counts("another-tenant")
    assert other_tenant == []
    assert counts == [
        DeliveryCount(
            kind=NotificationKind.INTRODUCTION,
            status=DeliveryStatus.PENDING,
            deliveries=2,
            attempts=0,
            in_doubt_resends=0,
        )
    ]
