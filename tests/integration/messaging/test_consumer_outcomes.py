"""Every outcome of the idempotent consumer, on a real Postgres (records built in-process)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.sessions_messages import SessionCompleted
from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.consumer import Batched, ConsumerPolicy, ReliableConsumer, UnitOfWork
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.outbox import Outbox
from tests.integration.messaging.factories import NOW, pair_formed, received
from tests.support.platform import ProvisionedDatabase

pytestmark = pytest.mark.integration


class FixedClock:
    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> Any:
        return self.current


def record(envelope: Envelope[Any], offset: int) -> ReceivedRecord:
    return received(envelope, topic="t.binome.pairing.events", offset=offset)


def session_completed(pair_id: str) -> Envelope[SessionCompleted]:
    return Envelope.new(
        SessionCompleted(
            pair_id=pair_id,
            session_number=1,
            theme_key="kick-off",
            held_at=NOW,
            duration_minutes=60,
        ),
        source="/binome/sessions",
        time=NOW,
        tenant_id="t",
        programme_id="prog-1",
    )


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(
        database.dsn("sessions"),
        min_size=1,
        max_size=3,
        server_settings={"search_path": "sessions"},
    )
    async with created.acquire() as conn:
        await conn.execute("CREATE TABLE effects (what text NOT NULL)")
    yield created
    await created.close()


def make_consumer(
    pool: asyncpg.Pool,
    routes: dict[type[Any], Any],
    clock: FixedClock | None = None,
    dead_letter_counts: Counter[str] | None = None,
) -> ReliableConsumer:
    return ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes=routes,
        outbox=Outbox(),
        clock=clock or FixedClock(),
        source="/binome/test",
        consumer_group="binome-test",
        policy=ConsumerPolicy(max_attempts=3, retry_delay=0.001, park_timeout=timedelta(days=1)),
        on_dead_letters=None if dead_letter_counts is None else dead_letter_counts.update,
    )


async def effects(pool: asyncpg.Pool) -> list[str]:
    return [row["what"] for row in await pool.fetch("SELECT what FROM effects ORDER BY what")]


async def dead_letters(pool: asyncpg.Pool) -> list[dict[str, bytes]]:
    rows = await pool.fetch(
        "SELECT header_names, header_values FROM outbox WHERE topic LIKE '%.dlq' ORDER BY id"
    )
    return [dict(zip(row["header_names"], row["header_values"], strict=True)) for row in rows]


async def record_pair(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    await uow.conn.execute("INSERT INTO effects VALUES ($1)", f"formed {envelope.data.pair_id}")
    uow.release(f"pair:{envelope.data.pair_id}")


async def record_session(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    pair = f"formed {envelope.data.pair_id}"
    if not await uow.conn.fetchval("SELECT 1 FROM effects WHERE what = $1", pair):
        raise AwaitingPrerequisiteError(f"pair:{envelope.data.pair_id}", "pair not formed yet")
    await uow.conn.execute("INSERT INTO effects VALUES ($1)", f"session {envelope.data.pair_id}")


async def test_a_message_redelivered_in_the_same_or_a_later_batch_has_one_effect(
    pool: asyncpg.Pool,
) -> None:
    consumer = make_consumer(pool, {PairFormed: record_pair})
    event = pair_formed(1)
    await consumer.process([record(event, 0), record(event, 0)], asyncio.Event())
    await consumer.process([record(event, 0)], asyncio.Event())
    assert await effects(pool) == ["formed pair-1"]


async def test_an_early_message_is_parked_then_replayed_when_its_prerequisite_appears(
    pool: asyncpg.Pool,
) -> None:
    consumer = make_consumer(pool, {PairFormed: record_pair, SessionCompleted: record_session})
    early = session_completed("pair-1")
    await consumer.process([record(early, 0)], asyncio.Event())
    assert await effects(pool) == []
    assert await pool.fetchval("SELECT waiting_for FROM parked_messages") == "pair:pair-1"

    await consumer.process([record(early, 0)], asyncio.Event())  # redelivered while parked
    await consumer.process([record(pair_formed(1), 1)], asyncio.Event())
    assert await effects(pool) == ["formed pair-1", "session pair-1"]
    assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
    await consumer.process([record(early, 0)], asyncio.Event())
    assert await effects(pool) == ["formed pair-1", "session pair-1"]


async def test_a_message_parked_too_long_is_dead_lettered_with_its_reason(
    pool: asyncpg.Pool,
) -> None:
    clock = FixedClock()
    consumer = make_consumer(pool, {SessionCompleted: record_session}, clock)
    await consumer.process([record(session_completed("ghost"), 0)], asyncio.Event())
    assert await consumer.expire_parked() == 0
    clock.current = NOW + timedelta(days=400)  # parked_at is the database's time
    assert await consumer.expire_parked() == 1
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"prerequisite_never_arrived"
    assert b"pair:ghost" in dead["binome_dlq_reason"]


async def test_a_flaky_handler_is_retried_and_acts_once(pool: asyncpg.Pool) -> None:
    calls = 0

    async def flaky(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        await uow.conn.execute("INSERT INTO effects VALUES ($1)", f"attempt {calls}")
        if calls < 3:
            raise RuntimeError("not yet")

    await make_consumer(pool, {PairFormed: flaky}).process(
        [record(pair_formed(1), 0)], asyncio.Event()
    )
    assert calls == 3
    assert await effects(pool) == ["attempt 3"], "failed attempts left nothing behind"
    assert await dead_letters(pool) == []


async def test_a_handler_that_keeps_failing_is_dead_lettered_and_the_batch_goes_on(
    pool: asyncpg.Pool,
) -> None:
    async def broken(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        if envelope.data.pair_id == "pair-1":
            raise ValueError("cannot handle pair-1")
        await record_pair(envelope, uow)

    consumer = make_consumer(pool, {PairFormed: broken})
    failing = pair_formed(1)
    await consumer.process([record(failing, 0), record(pair_formed(2), 1)], asyncio.Event())
    assert await effects(pool) == ["formed pair-2"]
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"handler_failed"
    assert dead["binome_dlq_attempts"] == b"3"
    assert b"ValueError: cannot handle pair-1" in dead["binome_dlq_reason"]
    await consumer.process([record(failing, 0)], asyncio.Event())
    assert len(await dead_letters(pool)) == 1, "a redelivered dead letter is not sent twice"


async def test_a_rejected_command_is_dead_lettered_at_once(pool: asyncpg.Pool) -> None:
    calls = 0

    async def refuse(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise RejectedError("pair_dissolved", "this pair was dissolved on 2027-01-10")

    await make_consumer(pool, {PairFormed: refuse}).process(
        [record(pair_formed(1), 0)], asyncio.Event()
    )
    assert calls == 1
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"pair_dissolved"
    assert dead["binome_dlq_reason"] == b"this pair was dissolved on 2027-01-10"
    assert dead["ce_type"] == b"binome.pairing.pair-formed", "the original headers travel along"


async def test_messages_for_other_services_are_ignored_without_trace(pool: asyncpg.Pool) -> None:
    unreadable = record(pair_formed(2), 1)
    unreadable = ReceivedRecord(
        topic=unreadable.topic,
        partition=0,
        offset=1,
        key=unreadable.key,
        value=b"{not json",
        headers=unreadable.headers,
    )
    await make_consumer(pool, {SessionCompleted: record_session}).process(
        [record(pair_formed(1), 0), unreadable], asyncio.Event()
    )
    assert await pool.fetchval("SELECT count(*) FROM processed_messages") == 0
    assert await dead_letters(pool) == [], (
        "a broken PairFormed is for the services that handle PairFormed to dead-letter"
    )


async def test_an_unreadable_message_of_a_handled_type_is_dead_lettered(pool: asyncpg.Pool) -> None:
    readable = record(pair_formed(2), 1)
    unreadable = ReceivedRecord(
        topic=readable.topic,
        partition=0,
        offset=1,
        key=readable.key,
        value=b"{not json",
        headers=readable.headers,
    )
    await make_consumer(pool, {PairFormed: record_pair}).process([unreadable], asyncio.Event())
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"malformed_json"


async def test_a_parked_message_is_retried_when_its_prerequisite_came_without_a_release(
    pool: asyncpg.Pool,
) -> None:
    """Two replicas: one parks a message while the other commits what it waits for, so that
    release finds nothing to replay. The periodic retry closes the gap."""
    consumer = make_consumer(pool, {SessionCompleted: record_session})
    await consumer.process([record(session_completed("pair-9"), 0)], asyncio.Event())
    await consumer.process([record(session_completed("pair-8"), 1)], asyncio.Event())
    parked_at = await pool.fetchval(
        "SELECT parked_at FROM parked_messages WHERE waiting_for = 'pair:pair-8'"
    )
    await pool.execute("INSERT INTO effects VALUES ('formed pair-9')")  # no release

    assert await consumer.retry_parked() == 1
    assert await effects(pool) == ["formed pair-9", "session pair-9"]
    assert await pool.fetchval("SELECT waiting_for FROM parked_messages") == "pair:pair-8"
    assert await pool.fetchval("SELECT parked_at FROM parked_messages") == parked_at, (
        "a message still waiting keeps its parking time, so it still expires"
    )
    assert await consumer.retry_parked() == 0


class BatchRecorder:
    """A batched route that writes its runs with one executemany and remembers each call."""

    def __init__(self, *, refuse: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.refuse = refuse

    async def __call__(self, envelopes: Any, uow: UnitOfWork) -> None:
        pair_ids = [envelope.data.pair_id for envelope in envelopes]
        self.calls.append(pair_ids)
        await uow.conn.executemany(
            "INSERT INTO effects VALUES ($1)", [(f"formed {pair}",) for pair in pair_ids]
        )
        for pair in pair_ids:
            if pair == self.refuse:
                raise RejectedError("pair_refused", f"{pair} is refused")
            uow.release(f"pair:{pair}")


async def test_a_batched_route_gets_consecutive_runs_in_order_without_duplicates(
    pool: asyncpg.Pool,
) -> None:
    recorder = BatchRecorder()
    sessions_seen: list[str] = []

    async def one_session(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        sessions_seen.append(envelope.data.pair_id)
        await record_session(envelope, uow)

    consumer = make_consumer(pool, {PairFormed: Batched(recorder), SessionCompleted: one_session})
    first, second, third = pair_formed(1), pair_formed(2), pair_formed(3)
    await consumer.process(
        [
            record(first, 0),
            record(second, 1),
            record(first, 2),  # a redelivery inside the batch does not break the run
            record(session_completed("pair-2"), 3),
            record(third, 4),
        ],
        asyncio.Event(),
    )
    assert recorder.calls == [["pair-1", "pair-2"], ["pair-3"]]
    assert sessions_seen == ["pair-2"], "the session came after its pair, in order"
    assert await effects(pool) == [
        "formed pair-1",
        "formed pair-2",
        "formed pair-3",
        "session pair-2",
    ]

    await consumer.process([record(second, 1), record(third, 4)], asyncio.Event())
    assert recorder.calls == [["pair-1", "pair-2"], ["pair-3"]], "redeliveries have no effect"


async def test_a_failing_batch_is_redone_message_by_message_each_with_its_outcome(
    pool: asyncpg.Pool,
) -> None:
    recorder = BatchRecorder(refuse="pair-2")
    consumer = make_consumer(
        pool, {PairFormed: Batched(recorder), SessionCompleted: record_session}
    )
    early = session_completed("pair-3")
    await consumer.process([record(early, 0)], asyncio.Event())  # parked: pair-3 unknown yet
    await consumer.process(
        [record(pair_formed(1), 1), record(pair_formed(2), 2), record(pair_formed(3), 3)],
        asyncio.Event(),
    )
    assert recorder.calls == [["pair-1", "pair-2", "pair-3"], ["pair-1"], ["pair-2"], ["pair-3"]]
    assert await effects(pool) == ["formed pair-1", "formed pair-3", "session pair-3"], (
        "the refused message left nothing; the parked session was released by the redo"
    )
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"pair_refused"
    assert dead["ce_type"] == b"binome.pairing.pair-formed"
    outcomes = dict(
        await pool.fetch("SELECT outcome, count(*) FROM processed_messages GROUP BY outcome")
    )
    assert outcomes == {"done": 3, "rejected": 1}


async def test_dead_letters_are_counted_by_code_once_committed(pool: asyncpg.Pool) -> None:
    async def judge(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        if envelope.data.pair_id == "pair-1":
            raise RejectedError("pair_dissolved", "dissolved")
        raise ValueError("broken")

    counts: Counter[str] = Counter()
    clock = FixedClock()
    consumer = make_consumer(
        pool, {PairFormed: judge, SessionCompleted: record_session}, clock, counts
    )
    await consumer.process(
        [record(pair_formed(1), 0), record(pair_formed(2), 1), record(session_completed("x"), 2)],
        asyncio.Event(),
    )
    assert counts == Counter({"pair_dissolved": 1, "handler_failed": 1})
    clock.current = NOW + timedelta(days=400)
    await consumer.expire_parked()
    assert counts == Counter(
        {"pair_dissolved": 1, "handler_failed": 1, "prerequisite_never_arrived": 1}
    )


async def test_an_outcome_postgres_refuses_becomes_a_minimal_dead_letter_and_the_batch_goes_on(
    pool: asyncpg.Pool,
) -> None:
    """Whatever Postgres refuses when the outcome is stored (here a constraint standing for a
    NUL byte or an over-long index row), that message alone falls back to a bounded dead
    letter; the messages around it keep their effects."""
    await pool.execute(
        "ALTER TABLE parked_messages ADD CONSTRAINT refuses_poison CHECK (reason <> 'poison')"
    )

    async def session(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        if envelope.data.pair_id == "poison":
            raise AwaitingPrerequisiteError("pair:poison", "poison")
        await record_session(envelope, uow)

    counts: Counter[str] = Counter()
    consumer = make_consumer(
        pool, {PairFormed: record_pair, SessionCompleted: session}, dead_letter_counts=counts
    )
    poison = session_completed("poison")
    batch = [record(pair_formed(1), 0), record(poison, 1), record(session_completed("pair-1"), 2)]
    await consumer.process(batch, asyncio.Event())

    assert await effects(pool) == ["formed pair-1", "session pair-1"]
    [dead] = await dead_letters(pool)
    assert dead["binome_dlq_code"] == b"unstorable_outcome"
    assert b"CheckViolationError" in dead["binome_dlq_reason"]
    assert dead["binome_dlq_truncated"] == b"false", "a small message's excerpt is all of it"
    assert dead["binome_dlq_original_size"]
    assert counts == Counter({"unstorable_outcome": 1})
    outcome = await pool.fetchval(
        "SELECT outcome FROM processed_messages WHERE event_id = $1", poison.id
    )
    assert outcome == "unstorable"
    await consumer.process([record(poison, 1)], asyncio.Event())
    assert len(await dead_letters(pool)) == 1, "a redelivery is a duplicate"


async def test_a_message_waiting_for_a_megabyte_key_is_released_by_that_key(
    pool: asyncpg.Pool,
) -> None:
    """The contracts now refuse a megabyte id, but a handler may still wait for a key it
    builds itself: the parking stores a bounded form of it that a release finds again."""
    huge = "k" * 1_000_000

    async def form(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        await record_pair(envelope, uow)
        uow.release(f"{envelope.data.pair_id}:{huge}")

    async def hold(envelope: Envelope[Any], uow: UnitOfWork) -> None:
        pair = f"formed {envelope.data.pair_id}"
        if not await uow.conn.fetchval("SELECT 1 FROM effects WHERE what = $1", pair):
            raise AwaitingPrerequisiteError(f"{envelope.data.pair_id}:{huge}", "not formed yet")
        await uow.conn.execute("INSERT INTO effects VALUES ($1)", "session held")

    consumer = make_consumer(pool, {PairFormed: form, SessionCompleted: hold})
    await consumer.process([record(session_completed("pair-7"), 0)], asyncio.Event())
    waiting_for = await pool.fetchval("SELECT waiting_for FROM parked_messages")
    assert len(waiting_for) < 300
    await consumer.process([record(pair_formed(7, pair_id="pair-7"), 1)], asyncio.Event())
    assert await pool.fetchval("SELECT count(*) FROM parked_messages") == 0
    assert await effects(pool) == ["formed pair-7", "session held"]
