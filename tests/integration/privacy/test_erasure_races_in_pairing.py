"""An erasure and what pairing does at the same time in another programme, interleaved on
real Postgres.

Pairing reads ``EraseParticipant`` on the partition of the programme it names, while a round
or an enrolment of another programme runs on another partition: two transactions at once.

- A round of ``prog-race-b`` reads its cohort (the person in it), then is held while it
  "solves"; the erasure, sent under ``prog-race-a``, starts on a second connection; the round
  writes its pairs and commits. The erasure must leave no active pair with the person, and its
  proof must count the pair it ended, the raced one included.
- An enrolment of the person in ``prog-race-late`` is written but not committed when the
  erasure starts, or the erasure is written but not committed when the enrolment starts:
  either way no profile of hers may be left.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.handlers import MessageHandlers
from binome_pairing.rounds import RoundProblem, SolvedRound, solve_in_process
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import (
    EnrolParticipant,
    EraseParticipant,
    RequestMatching,
)
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.messaging.errors import RejectedError
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from tests.support.platform import ProvisionedDatabase
from tests.support.programmes import NOW, hr_command, programme_definition
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

ERASING, ROUND, LATE = "prog-race-a", "prog-race-b", "prog-race-late"
SOURCE = "/binome/pairing/test"


@dataclass
class HeldSolver:
    """Solves in process, but first says the cohort was read and waits to be let go: the
    round's read and its write are then two moments the test chooses between."""

    read: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, problem: RoundProblem) -> SolvedRound:
        self.read.set()
        await self.go.wait()
        return await solve_in_process(problem)


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    """Three at once: the round's, the erasure's, and one to see whether the erasure waits."""
    async with database.pool("pairing", connections=3) as created:
        yield created


async def handle(
    pool: asyncpg.Pool, handlers: MessageHandlers, envelopes: list[Envelope[Any]]
) -> None:
    """Handle ``envelopes`` in one transaction, as the consumer does."""
    routes = handlers.routes()
    async with pool.acquire() as conn, conn.transaction():
        uow = UnitOfWork(conn=conn, outbox=Outbox(), now=NOW, source=SOURCE)
        for envelope in envelopes:
            await dispatch(routes[type(envelope.data)], [envelope], uow)


async def waiting_on_a_lock(pool: asyncpg.Pool, pid: int) -> bool:
    async with pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            )
        )


async def done_or_blocked(task: asyncio.Task[None], pool: asyncpg.Pool, pid: int) -> bool:
    """Whether the task is done, or its connection waits for a lock (Postgres says so)."""
    return task.done() or await waiting_on_a_lock(pool, pid)


async def test_a_round_that_read_the_person_before_her_erasure_leaves_her_in_no_pair(
    pool: asyncpg.Pool,
) -> None:
    cohort = generate_cohort(mentees=3, mentors=3, seed=11)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    person = cohort.mentees[0]
    solver = HeldSolver()
    handlers = MessageHandlers(solver=solver)
    await handle(
        pool,
        handlers,
        [
            *(hr_command(programme_definition(rules), programme_id=p) for p in (ERASING, ROUND)),
            hr_command(EnrolParticipant(participant=person), programme_id=ERASING),
            *(
                hr_command(EnrolParticipant(participant=p), programme_id=ROUND)
                for p in cohort.participants
            ),
        ],
    )

    round_task = asyncio.create_task(
        handle(pool, handlers, [hr_command(RequestMatching(round_id="r1"), programme_id=ROUND)])
    )
    await solver.read.wait()  # the round has read its cohort, her included
    async with pool.acquire() as erasing:
        pid = erasing.get_server_pid()
        erase = hr_command(
            EraseParticipant(participant_id=person.participant_id), programme_id=ERASING
        )

        erasure_task = asyncio.create_task(in_transaction(erasing, handlers, erase))
        # The erasure either commits now (the round then writes after it) or waits for the
        # round: both interleavings a real deployment can give, and the test takes whichever
        # the code allows.
        await eventually(lambda: done_or_blocked(erasure_task, pool, pid), True)
        solver.go.set()
        await asyncio.gather(round_task, erasure_task)

    async with pool.acquire() as conn:
        active = await conn.fetch(
            "SELECT pair_id, status FROM pairs WHERE (mentor_id = $1 OR mentee_id = $1) "
            "AND status IN ('proposed', 'formed', 'awaiting_consent')",
            person.participant_id,
        )
        ended = await conn.fetchval(
            "SELECT count(*) FROM pairs WHERE (mentor_id = $1 OR mentee_id = $1) "
            "AND status IN ('dissolved', 'superseded')",
            person.participant_id,
        )
        proofs = [
            json.loads(bytes(row["value"]))
            for row in await conn.fetch(
                "SELECT value FROM outbox "
                "WHERE header_values[array_position(header_names, 'ce_type')] = $1",
                b"binome.privacy.erasure-completed",
            )
        ]
    assert [dict(row) for row in active] == []
    # The round did pair her (it read her before the erasure): the erasure ended that pair.
    assert ended == 1
    [proof] = proofs
    assert proof["erased"].get("pairs_ended") == ended, proof


async def in_transaction(
    conn: asyncpg.Connection, handlers: MessageHandlers, envelope: Envelope[Any]
) -> None:
    async with conn.transaction():
        await handled_on(conn, handlers, envelope)


async def handled_on(
    conn: asyncpg.Connection, handlers: MessageHandlers, envelope: Envelope[Any]
) -> None:
    uow = UnitOfWork(conn=conn, outbox=Outbox(), now=NOW, source=SOURCE)
    await dispatch(handlers.routes()[type(envelope.data)], [envelope], uow)


async def enrolled_in_two_programmes(pool: asyncpg.Pool, handlers: MessageHandlers) -> Any:
    """The person, enrolled in the programme her erasure names; a later programme defined."""
    cohort = generate_cohort(mentees=1, mentors=1, seed=5)
    person = cohort.mentees[0]
    await handle(
        pool,
        handlers,
        [
            *(
                hr_command(programme_definition(cohort.rules), programme_id=p)
                for p in (ERASING, LATE)
            ),
            hr_command(EnrolParticipant(participant=person), programme_id=ERASING),
        ],
    )
    return person


async def profiles_left(pool: asyncpg.Pool, participant_id: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT programme_id FROM participants "
            "WHERE participant_id = $1 AND profile IS NOT NULL ORDER BY programme_id",
            participant_id,
        )
    return [row["programme_id"] for row in rows]


async def second_after_first(
    pool: asyncpg.Pool,
    handlers: MessageHandlers,
    first: Envelope[Any],
    second: Envelope[Any],
) -> asyncio.Task[None]:
    """Handle ``first`` (written, not committed), start ``second`` on another connection,
    wait until it is done or blocked, then commit ``first``; the finished task of ``second``."""
    async with pool.acquire() as first_conn, pool.acquire() as second_conn:
        transaction = first_conn.transaction()
        await transaction.start()
        await handled_on(first_conn, handlers, first)
        task = asyncio.create_task(in_transaction(second_conn, handlers, second))
        pid = second_conn.get_server_pid()
        await eventually(lambda: done_or_blocked(task, pool, pid), True)
        await transaction.commit()
        await asyncio.wait([task])
    return task


@dataclass(frozen=True)
class LateEnrolmentRace:
    """Her enrolment in the later programme and her erasure: the two commands raced, by
    the same service."""

    handlers: MessageHandlers
    person_id: str
    enrol: Envelope[Any]
    erase: Envelope[Any]


async def late_enrolment_race(pool: asyncpg.Pool) -> LateEnrolmentRace:
    handlers = MessageHandlers()
    person = await enrolled_in_two_programmes(pool, handlers)
    return LateEnrolmentRace(
        handlers=handlers,
        person_id=person.participant_id,
        enrol=hr_command(EnrolParticipant(participant=person), programme_id=LATE),
        erase=hr_command(
            EraseParticipant(participant_id=person.participant_id), programme_id=ERASING
        ),
    )


async def test_an_enrolment_not_committed_when_her_erasure_starts_is_erased_too(
    pool: asyncpg.Pool,
) -> None:
    race = await late_enrolment_race(pool)
    erasure = await second_after_first(pool, race.handlers, race.enrol, race.erase)
    erasure.result()
    assert await profiles_left(pool, race.person_id) == []


async def test_an_enrolment_started_while_her_erasure_is_not_committed_is_refused(
    pool: asyncpg.Pool,
) -> None:
    race = await late_enrolment_race(pool)
    enrolment = await second_after_first(pool, race.handlers, race.erase, race.enrol)
    with pytest.raises(RejectedError) as refused:
        enrolment.result()
    assert refused.value.code == "participant_erased"
    assert await profiles_left(pool, race.person_id) == []
