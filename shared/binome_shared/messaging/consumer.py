"""Idempotent, failure-aware consumption: every message has exactly one effect or a reason.

A batch of records is handled in one Postgres transaction; each message has a row in
``processed_messages`` written beside its effect, so a redelivered message finds that row
and is skipped. The caller acknowledges the Kafka offsets only after
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

This module is the batch: its fast pass, and the retry while the infrastructure is away.
The rest lives by concern: :mod:`.decoding` (records to envelopes), :mod:`.settling` (the
careful pass, a savepoint per message), :mod:`.parked_messages` (retrying and expiring
parked messages), :mod:`.routes` (handlers and their unit of work). Handlers import their
names from here or from :mod:`.routes`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import asyncpg

from binome_shared import failpoints
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.dead_lettering import RECORD_PROCESSED, DeadLettering, Tally
from binome_shared.messaging.decoding import Read, read
from binome_shared.messaging.errors import TRANSIENT_ERRORS
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.parked_messages import ParkedMessages
from binome_shared.messaging.routes import (
    Batched,
    BatchHandler,
    Clock,
    Handler,
    Route,
    UnitOfWork,
    dispatch,
)
from binome_shared.messaging.settling import ConsumerPolicy, Settler
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

_RECORD_MANY_PROCESSED = """
INSERT INTO processed_messages (event_id, message_type, outcome)
SELECT event_id, message_type, 'done'
FROM unnest($1::uuid[], $2::text[]) AS batch(event_id, message_type)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


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
        self._group = consumer_group
        self._on_outcomes = on_outcomes
        self._on_dead_letters = on_dead_letters
        self._settler = Settler(
            routes=self._routes,
            registry=registry,
            outbox=outbox,
            clock=clock,
            source=source,
            consumer_group=consumer_group,
            policy=policy or ConsumerPolicy(),
            dead_lettering=DeadLettering(
                outbox=outbox, registry=registry, clock=clock, consumer_group=consumer_group
            ),
        )
        self._parked = ParkedMessages(pool=pool, settler=self._settler)

    @property
    def handled_types(self) -> list[type[Message]]:
        return list(self._routes)

    async def process(self, records: Sequence[ReceivedRecord], stop: asyncio.Event) -> None:
        """Handle a batch and commit; returns only once every effect is durable.

        Raises :class:`asyncio.CancelledError`-free :class:`ShutdownDuringOutageError` if the
        service is stopping while the database is unreachable: the caller must not ack.
        """
        decoded = [read(record, self._registry, self._routed_types) for record in records]
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

    async def perform(self, conn: asyncpg.Connection, envelope: Envelope[Message]) -> bool:
        """Apply one message that did not come from Kafka (a person's click on an action
        link) with the same handler, unit of work and outbox, inside the caller's transaction.

        Returns False when the message was already processed (its id is recorded as any
        consumed message's is). A :class:`RejectedError` or :class:`AwaitingPrerequisiteError`
        reaches the caller, who rolls back and tells the person: nothing is dead-lettered or
        parked for a click, since the person is there to be answered.
        """
        route = self._settler.route_of(envelope)
        if route is None:
            raise TypeError(f"{envelope.type} is not handled by this service")
        first_time = await conn.fetchval(RECORD_PROCESSED, envelope.id, envelope.type, "done")
        if not first_time:
            return False
        uow = self._settler.unit_of_work(conn)
        await dispatch(route, [envelope], uow)
        tally = Tally()
        tally.outcomes[(envelope.type, "done")] += 1
        if uow.released:
            await self._settler.replay_parked(conn, uow.released, tally)
        self._report(tally)
        return True

    async def retry_parked(self, *, limit: int = 100) -> int:
        """Try parked messages again; those whose prerequisite now exists are handled.

        Releases cover the usual case; this covers a race between replicas: one parks a
        message while another commits what it waits for, so that release finds nothing.
        Returns how many left the parking (handled, refused or dead-lettered).
        """
        handled, tally = await self._parked.retry(limit=limit)
        self._report(tally)
        return handled

    async def expire_parked(self) -> int:
        """Dead-letter messages parked longer than the policy allows; returns how many."""
        expired, tally = await self._parked.expire()
        self._report(tally)
        return expired

    async def _process_once(
        self, records: Sequence[ReceivedRecord], decoded: Sequence[Read]
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
                await self._settler.settle(conn, record, message, tally, earlier=first_error)
        return tally

    def _report(self, tally: Tally) -> None:
        if self._on_outcomes is not None:
            self._on_outcomes(tally.outcomes)
        if self._on_dead_letters is not None:
            self._on_dead_letters(tally.dead_letters)

    async def _fast_pass(
        self,
        conn: asyncpg.Connection,
        records: Sequence[ReceivedRecord],
        decoded: Sequence[Read],
        tally: Tally,
    ) -> None:
        """The common case, in few round trips: record the batch's ids at once, then run the
        handlers without savepoints, consecutive messages of a batched route together. Any
        handler exception aborts this pass."""
        route_of = self._settler.route_of
        routed = [
            message
            for message in decoded
            if isinstance(message, Envelope) and route_of(message) is not None
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
            route = route_of(message)
            if route is None or not isinstance(message, Envelope):
                await self._settler.settle(conn, record, message, tally)  # ignored or dead-lettered
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
            await self._settler.replay_parked(conn, released, tally)

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
        uow = self._settler.unit_of_work(conn)
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


class _CarefulPassNeededError(Exception):
    """A handler raised during the fast pass; the batch is redone message by message."""

    def __init__(self, errors: dict[uuid.UUID, Exception]) -> None:
        super().__init__(f"{len(errors)} message(s) need their own outcome")
        self.errors = errors


class ShutdownDuringOutageError(Exception):
    """The service is stopping while the database is unreachable: leave the batch unacked."""
