"""An erasure racing the formation of the person's pair, in sessions, on a real PostgreSQL.

Sessions reads ``EraseParticipant`` on one partition and ``PairFormed`` on another: the
erasure scans the person's pairs, the formation inserts one of them. At once, neither would
see the other's uncommitted write: the pair would be followed unseen by the erasure, and a
command on it committed before the erasure would keep free text no erasure blanks. They now
take turns (an advisory lock per person, exclusive for the erasure, shared by a formation),
shown here on two connections, each step's wait confirmed by Postgres (``pg_stat_activity``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from asyncpg.transaction import Transaction

from binome_sessions.adapters.repository import PostgresTracks
from binome_sessions.handlers import MessageHandlers
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EraseParticipant
from binome_shared.contracts.sessions_messages import SetObjective
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from tests.integration.sessions.test_sessions_service_flow import (
    FORMED_AT,
    define_programme,
    message,
    pair_formed,
)
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration

SOURCE = "/binome/sessions/test"
HER_TEXT = "Oser parler en comité de direction"
STEP_TIMEOUT = 20.0


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    async with database.pool("sessions", connections=4) as created:
        yield created


async def _open(conn: asyncpg.Connection, envelope: Envelope[Any]) -> Transaction:
    """Handle ``envelope`` as a consumer does, in a transaction left open."""
    transaction = conn.transaction()
    await transaction.start()
    routes = MessageHandlers(repository=PostgresTracks).routes()
    uow = UnitOfWork(conn=conn, outbox=Outbox(), now=FORMED_AT, source=SOURCE)
    await dispatch(routes[type(envelope.data)], [envelope], uow)
    return transaction


async def _handled(pool: asyncpg.Pool, envelope: Envelope[Any]) -> None:
    async with pool.acquire() as conn:
        await (await _open(conn, envelope)).commit()


async def _blocked(pool: asyncpg.Pool, conn: asyncpg.Connection, task: asyncio.Task[Any]) -> bool:
    """True once Postgres says ``conn`` waits for a lock; False if ``task`` ended first."""

    pid = conn.get_server_pid()
    for _ in range(int(STEP_TIMEOUT / 0.05)):
        if task.done():
            return False
        query = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"
        if await pool.fetchval(query, pid):
            return True
        await asyncio.sleep(0.05)
    raise AssertionError(f"neither ended nor waiting after {STEP_TIMEOUT} s")


def _erasure() -> Envelope[Any]:
    return message(EraseParticipant(participant_id="E1"))


async def test_an_erasure_in_progress_holds_off_the_formation_of_her_pair(
    pool: asyncpg.Pool,
) -> None:
    await _handled(pool, define_programme())
    async with pool.acquire() as erasing, pool.acquire() as forming:
        erasure = await _open(erasing, _erasure())
        formation = asyncio.create_task(_open(forming, pair_formed(1)))

        formation_waited = await _blocked(pool, forming, formation)
        await erasure.commit()
        await (await asyncio.wait_for(formation, STEP_TIMEOUT)).commit()

    # The formation read the register after the erasure committed: never followed.
    assert await pool.fetchval("SELECT count(*) FROM pairs WHERE pair_id = 'pair-1'") == 0
    assert await pool.fetchval("SELECT count(*) FROM unfollowed_pairs") == 1
    assert formation_waited, "the formation waited for the erasure"


async def test_a_formation_in_progress_holds_off_her_erasure_which_then_blanks_the_pair(
    pool: asyncpg.Pool,
) -> None:
    await _handled(pool, define_programme())
    async with pool.acquire() as forming, pool.acquire() as erasing, pool.acquire() as commanding:
        formation = await _open(forming, pair_formed(1))
        erasure_task = asyncio.create_task(_open(erasing, _erasure()))
        erasure_waited = await _blocked(pool, erasing, erasure_task)
        await formation.commit()
        erasure = await asyncio.wait_for(erasure_task, STEP_TIMEOUT)

        # A command on the new pair, before the erasure commits: it waits for the erasure,
        # which scanned and locked the pair, and then finds her erased.
        objective = message(
            SetObjective(pair_id="pair-1", objective_id="o1", owner="mentee", title=HER_TEXT)
        )
        command = asyncio.create_task(_open(commanding, objective))
        command_waited = await _blocked(pool, commanding, command)
        await erasure.commit()
        await (await asyncio.wait_for(command, STEP_TIMEOUT)).commit()

    holding = await pool.fetchval(
        "SELECT count(*) FROM pairs WHERE state::text LIKE $1", f"%{HER_TEXT}%"
    )
    assert holding == 0, "no free text of her pair outlives her erasure"
    [proof] = [
        json.loads(bytes(row["value"]))
        for row in await pool.fetch(
            "SELECT value FROM outbox "
            "WHERE header_values[array_position(header_names, 'ce_type')] = $1",
            b"binome.privacy.erasure-completed",
        )
    ]
    # The erasure counted the pair whose formation it waited for.
    assert proof["erased"].get("pair_tracks") == 1, proof
    assert (erasure_waited, command_waited) == (True, True)
