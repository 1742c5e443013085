"""Idempotent, failure-aware consumption: every message has exactly one effect or a reason.

A batch of records is handled in one Postgres transaction; each message runs in its own
savepoint with a row in ``processed_messages`` written beside its effect, so a redelivered
message finds that row and is skipped. The caller acknowledges the Kafka offsets only after
:meth:`ReliableConsumer.process` returned, i.e. after the commit.

A route is a handler taking one message, or a :class:`Batched` handler taking a run of
consecutive messages of its type at once (one ``executemany`` instead of a round trip per
message: what a 100,000-person HR import needs).

Outcomes:
- undecodable (malformed JSON, invalid schema, unknown type or version) → dead-lettered at once;
- :class:`RejectedError` from a handler → dead-lettered at once with its reason;
- :class:`AwaitingPrerequisiteError` → parked, replayed when the prerequisite appears;
- any other handler exception → retried ``max_attempts`` times, then dead-lettered;
- storing the outcome itself fails (a value Postgres refuses) → a minimal, bounded dead
  letter stands for the message (``unstorable_outcome``); its neighbours are not touched;
- database or network unavailable → the whole batch waits and retries (nothing is lost,
  nothing is dead-lettered because of an outage).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import asyncpg

from binome_shared import failpoints
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging import parking
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.bounded import LOG_CHARS, printable
from binome_shared.messaging.cloudevents import (
    ReceivedRecord,
    RejectionCode,
    UndecodableRecordError,
    decode,
)
from binome_shared.messaging.dead_lettering import RECORD_PROCESSED, DeadLettering, Tally
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import (
    Batched,
    BatchHandler,
    Clock,
    Handler,
    Route,
    UnitOfWork,
    dispatch,
)
from binome_shared.messaging.tracing import handling_span

__all__ = [
    "TRANSIENT_ERRORS",
    "BatchHandler",
    "Batched",
    "Clock",
    "ConsumerPolicy",
    "Handler",
    "ReliableConsumer",
    "Route",
    "ShutdownDuringOutageError",
    "UnitOfWork",
    "dispatch",
]

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.TransactionRollbackError,
)
"""Failures of the infrastructure, not of the message: wait and retry, never dead-letter."""

_RECORD_MANY_PROCESSED = """
INSERT INTO processed_messages (event_id, message_type, outcome)
SELECT event_id, message_type, 'done'
FROM unnest($1::uuid[], $2::text[]) AS batch(event_id, message_type)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

Outcome = Literal["done", "duplicate", "rejected", "parked", "failed", "unstorable"]


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    """How hard to try before giving a message up to the dead-letter topic."""

    max_attempts: int = 3
    retry_delay: float = 0.05
    park_timeout: timedelta = timedelta(days=7)


class ReliableConsumer:
    """Applies handlers to Kafka records with exactly-once effects in Postgres.

    ``on_outcomes`` gets, after each commit, the count of messages by (type, outcome);
    ``on_dead_letters`` the count of dead letters by code (a handler's refusal code,
    ``handler_failed``, ``malformed_json``, ``prerequisite_never_arrived``…).
    """

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        registry: Registry,
        routes: Mapping[type[Message], Route],
        outbox: Outbox,
        clock: Clock,
        source: str,
        consumer_group: str,
        policy: ConsumerPolicy | None = None,
        on_outcomes: Callable[[Counter[tuple[str, str]]], None] | None = None,
        on_dead_letters: Callable[[Counter[str]], None] | None = None,
    ) -> None:
        self._pool = pool
        self._registry = registry
        self._routes = dict(routes)
        self._routed_types = frozenset(message.message_type for message in routes)
        self._outbox = outbox
        self._clock = clock
        self._source = source
        self._group = consumer_group
        self._policy = policy or ConsumerPolicy()
        self._on_outcomes = on_outcomes
        self._on_dead_letters = on_dead_letters
        self._dead_lettering = DeadLettering(
            outbox=outbox, registry=registry, clock=clock, consumer_group=consumer_group
        )

    @property
    def handled_types(self) -> list[type[Message]]:
        return list(self._routes)

    async def process(self, records: Sequence[ReceivedRecord], stop: asyncio.Event) -> None:
        """Handle a batch and commit; returns only once every effect is durable.

        Raises :class:`asyncio.CancelledError`-free :class:`ShutdownDuringOutageError` if the
        service is stopping while the database is unreachable: the caller must not ack.
        """
        decoded = [self._read(record) for record in records]
        backoff = Backoff(first=0.1, cap=5.0)
        while True:
            try:
                tally = await self._process_once(records, decoded)
                break
            except TRANSIENT_ERRORS as error:
                if stop.is_set():
                    raise ShutdownDuringOutageError from error
                delay = backoff.next()
                logger.warning(
                    "batch of %d waits for the infrastructure (%s); retrying in %.1f s",
                    len(records),
                    type(error).__name__,
                    delay,
                )
                await sleep_unless(stop, delay)
        failpoints.crash_if_armed("consumer.after_db_commit")
        self._report(tally)

    async def _process_once(
        self, records: Sequence[ReceivedRecord], decoded: Sequence[_Read]
    ) -> Tally:
        """One try at the batch: the fast pass, else the careful pass; the tally committed."""
        tally = Tally()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await self._fast_pass(conn, records, decoded, tally)
            return tally
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            # Something in the batch needs its own outcome (a rejection, a parking, a failure
            # to retry, a value Postgres refused): redo it with a savepoint per message.
            earlier = error.errors if isinstance(error, _CarefulPassNeededError) else {}
            if not isinstance(error, _CarefulPassNeededError):
                logger.warning(
                    "fast pass over %d records failed (%s); redoing them one by one",
                    len(records),
                    type(error).__name__,
                )
        tally = Tally()
        async with self._pool.acquire() as conn, conn.transaction():
            for record, message in zip(records, decoded, strict=True):
                first_error = earlier.get(message.id) if isinstance(message, Envelope) else None
                await self._settle(conn, record, message, tally, earlier=first_error)
        return tally

    def _report(self, tally: Tally) -> None:
        if self._on_outcomes is not None:
            self._on_outcomes(tally.outcomes)
        if self._on_dead_letters is not None:
            self._on_dead_letters(tally.dead_letters)

    def _read(self, record: ReceivedRecord) -> _Read:
        """Decode what this service handles; a known type it does not handle is not even
        parsed (topics are shared: another service's message is not ours to judge)."""
        message_type = record.header("ce_type")
        if (
            message_type is not None
            and message_type not in self._routed_types
            and self._registry.knows(message_type)
        ):
            return _Ignored(message_type)
        return _try_decode(record, self._registry)

    async def _fast_pass(
        self,
        conn: asyncpg.Connection,
        records: Sequence[ReceivedRecord],
        decoded: Sequence[_Read],
        tally: Tally,
    ) -> None:
        """The common case, in few round trips: record the batch's ids at once, then run the
        handlers without savepoints, consecutive messages of a batched route together. Any
        handler exception aborts this pass."""
        routed = [
            message
            for message in decoded
            if isinstance(message, Envelope) and self._route_of(message) is not None
        ]
        rows = await conn.fetch(
            _RECORD_MANY_PROCESSED,
            [message.id for message in routed],
            [message.type for message in routed],
        )
        first_seen = {row["event_id"] for row in rows}
        released: list[str] = []
        run: list[tuple[ReceivedRecord, Envelope[Message]]] = []
        run_route: Route | None = None
        for record, message in zip(records, decoded, strict=True):
            route = self._route_of(message)
            if route is None or not isinstance(message, Envelope):
                await self._settle(conn, record, message, tally)  # ignored or dead-lettered
                continue
            if message.id not in first_seen:
                tally.outcomes[(message.type, "duplicate")] += 1
                continue
            first_seen.discard(message.id)  # a second copy in the same batch is a duplicate
            if run and not (isinstance(route, Batched) and route is run_route):
                await self._run_fast(conn, run, tally, released)
                run = []
            run.append((record, message))
            run_route = route
        if run:
            await self._run_fast(conn, run, tally, released)
        if released:
            await self._replay_parked(conn, released, tally)

    def _route_of(self, message: _Read) -> Route | None:
        """Where a decoded message goes; None for what this service does not handle."""
        return self._routes.get(type(message.data)) if isinstance(message, Envelope) else None

    async def _run_fast(
        self,
        conn: asyncpg.Connection,
        run: Sequence[tuple[ReceivedRecord, Envelope[Message]]],
        tally: Tally,
        released: list[str],
    ) -> None:
        """One message, or a run of consecutive messages for the same batched route."""
        first = run[0][1]
        route = self._routes[type(first.data)]
        uow = self._unit_of_work(conn)
        try:
            with handling_span(run, consumer_group=self._group):
                await dispatch(route, [message for _, message in run], uow)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            # Which message of a batched run failed is unknown: all are redone one by one.
            earlier = {first.id: error} if len(run) == 1 else {}
            raise _CarefulPassNeededError(earlier) from error
        for _, message in run:
            tally.outcomes[(message.type, "done")] += 1
        released.extend(uow.released)

    def _unit_of_work(self, conn: asyncpg.Connection) -> UnitOfWork:
        return UnitOfWork(
            conn=conn, outbox=self._outbox, now=self._clock.now(), source=self._source
        )

    async def _settle(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: _Read,
        tally: Tally,
        *,
        earlier: Exception | None = None,
    ) -> None:
        """Give one message its outcome; whatever it holds, its neighbours keep theirs."""
        if isinstance(message, UndecodableRecordError):
            dead_letter = functools.partial(
                self._dead_lettering.undecodable, conn, record, message, tally
            )
            await self._guarded(conn, record, message, tally, dead_letter)
            return
        route = self._route_of(message)
        if route is None or not isinstance(message, Envelope):
            tally.outcomes[(message.type, "ignored")] += 1
            return  # a message on a shared topic that is another service's business
        await self._apply(conn, record, message, route, tally, earlier=earlier)

    async def _guarded(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: Envelope[Message] | UndecodableRecordError,
        tally: Tally,
        store: Callable[[], Awaitable[None]],
    ) -> bool:
        """Store a message's outcome (a dead letter, a parking) in a savepoint. If Postgres
        refuses it (a value, a constraint, a limit), the savepoint is undone and a minimal
        dead letter stands for the message: the batch goes on. Whether it was stored."""
        before = tally.copy()
        try:
            async with conn.transaction():
                await store()
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            tally.restore(before)
            await self._dead_lettering.unstorable(conn, record, message, error, tally)
            return False
        return True

    async def _apply(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        route: Route,
        tally: Tally,
        *,
        earlier: Exception | None = None,
    ) -> Outcome:
        """Run the handler in a savepoint until it succeeds, refuses, parks or runs out of tries.

        ``earlier`` is what the fast pass already saw this handler raise (its first attempt).
        """
        last_error: Exception | None = None
        for attempt in range(1, self._policy.max_attempts + 1):
            uow = self._unit_of_work(conn)
            error: Exception | None = earlier if attempt == 1 else None
            if error is None:
                try:
                    async with conn.transaction():
                        first_time = await conn.fetchval(
                            RECORD_PROCESSED, envelope.id, envelope.type, "done"
                        )
                        if not first_time:
                            tally.outcomes[(envelope.type, "duplicate")] += 1
                            return "duplicate"
                        with handling_span([(record, envelope)], consumer_group=self._group):
                            await dispatch(route, [envelope], uow)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as caught:  # judged below: refusal, parking, or a retry
                    error = caught
            if error is None:
                tally.outcomes[(envelope.type, "done")] += 1
                if uow.released:
                    await self._replay_parked(conn, uow.released, tally)
                return "done"
            if isinstance(error, RejectedError):
                refuse = functools.partial(
                    self._dead_lettering.refused,
                    conn,
                    record,
                    envelope,
                    tally,
                    code=error.code,
                    reason=error.reason,
                    attempts=attempt,
                    outcome="rejected",
                )
                stored = await self._guarded(conn, record, envelope, tally, refuse)
                return "rejected" if stored else "unstorable"
            if isinstance(error, AwaitingPrerequisiteError):
                park = functools.partial(self._park, conn, record, envelope, error, tally)
                stored = await self._guarded(conn, record, envelope, tally, park)
                return "parked" if stored else "unstorable"
            last_error = error
            logger.warning(
                "handler for %s failed (attempt %d/%d): %s",
                envelope.type,
                attempt,
                self._policy.max_attempts,
                type(error).__name__,
            )
            if attempt < self._policy.max_attempts:
                await asyncio.sleep(self._policy.retry_delay * 2 ** (attempt - 1))
        assert last_error is not None
        reason = (
            f"failed {self._policy.max_attempts} times: {type(last_error).__name__}: {last_error}"
        )
        give_up = functools.partial(
            self._dead_lettering.refused,
            conn,
            record,
            envelope,
            tally,
            code="handler_failed",
            reason=reason,
            attempts=self._policy.max_attempts,
            outcome="failed",
        )
        stored = await self._guarded(conn, record, envelope, tally, give_up)
        return "failed" if stored else "unstorable"

    async def _park(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        waiting: AwaitingPrerequisiteError,
        tally: Tally,
    ) -> None:
        await parking.park(
            conn,
            record,
            event_id=envelope.id,
            waiting_for=waiting.waiting_for,
            reason=waiting.reason,
            now=self._clock.now(),
        )
        tally.outcomes[(envelope.type, "parked")] += 1

    async def _replay_parked(
        self, conn: asyncpg.Connection, released: list[str], tally: Tally
    ) -> None:
        """Replay, in arrival order, what was parked waiting for anything in ``released``;
        each replayed message gets its own outcome, as if it had just arrived."""
        for record in await parking.unpark(conn, released):
            tally.outcomes[("(parked)", "replayed")] += 1
            await self._settle(conn, record, _try_decode(record, self._registry), tally)

    async def retry_parked(self, *, limit: int = 100) -> int:
        """Try parked messages again; those whose prerequisite now exists are handled.

        Releases cover the usual case; this covers a race between replicas: one parks a
        message while another commits what it waits for, so that release finds nothing.
        Returns how many left the parking (handled, refused or dead-lettered).
        """
        handled = 0
        tally = Tally()
        async with self._pool.acquire() as conn, conn.transaction():
            for row in await conn.fetch(parking.RETRY_PARKED, limit):
                record = parking.record_from_row(row)
                message = _try_decode(record, self._registry)
                if isinstance(message, UndecodableRecordError):
                    continue  # cannot happen: only decoded messages are parked
                route = self._routes.get(type(message.data))
                if route is None:
                    continue
                if await self._retry_one(conn, record, message, route, tally):
                    handled += 1
        self._report(tally)
        return handled

    async def _retry_one(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: Envelope[Message],
        route: Route,
        tally: Tally,
    ) -> bool:
        """Whether a parked message left the parking (a savepoint undoes a retry that parks
        it again, so it keeps its parking time and still expires)."""
        before = tally.copy()
        try:
            async with conn.transaction():
                await conn.execute(parking.FORGET_PARKED, message.id)
                if await self._apply(conn, record, message, route, tally) == "parked":
                    raise _StillWaitingError
        except _StillWaitingError:
            tally.restore(before)
            return False
        return True

    async def expire_parked(self) -> int:
        """Dead-letter messages parked longer than the policy allows; returns how many."""
        now = self._clock.now()
        tally = Tally()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(parking.EXPIRE_PARKED, now - self._policy.park_timeout)
            for row in rows:
                await self._outbox.add_dead_letter(
                    conn,
                    parking.record_from_row(row),
                    code="prerequisite_never_arrived",
                    reason=(f"parked ({row['reason']}); {row['waiting_for']} never appeared"),
                    consumer_group=self._group,
                    attempts=1,
                    failed_at=now,
                )
                tally.dead_letters["prerequisite_never_arrived"] += 1
        self._report(tally)
        return len(rows)


@dataclass(frozen=True, slots=True)
class _Ignored:
    """A message of a known type that this service does not handle."""

    type: str


_Read = Envelope[Message] | UndecodableRecordError | _Ignored


class _StillWaitingError(Exception):
    """A retried parked message is still waiting: undo the retry."""


class _CarefulPassNeededError(Exception):
    """A handler raised during the fast pass; the batch is redone message by message."""

    def __init__(self, errors: dict[uuid.UUID, Exception]) -> None:
        super().__init__(f"{len(errors)} message(s) need their own outcome")
        self.errors = errors


class ShutdownDuringOutageError(Exception):
    """The service is stopping while the database is unreachable: leave the batch unacked."""


def _try_decode(
    record: ReceivedRecord, registry: Registry
) -> Envelope[Message] | UndecodableRecordError:
    try:
        return decode(record, registry)
    except UndecodableRecordError as error:
        return error
    except Exception as error:  # a reader's own bug must not jam the partition: dead-letter
        return UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"unreadable record ({type(error).__name__}: {printable(str(error), limit=LOG_CHARS)})",
        )
