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
- database or network unavailable → the whole batch waits and retries (nothing is lost,
  nothing is dead-lettered because of an outage).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg
from opentelemetry import propagate, trace
from opentelemetry.context import Context

from binome_shared import failpoints
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError, decode
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.outbox import Outbox

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

_RECORD_PROCESSED = """
INSERT INTO processed_messages (event_id, message_type, outcome) VALUES ($1, $2, $3)
ON CONFLICT (event_id) DO NOTHING
RETURNING true
"""
_RECORD_MANY_PROCESSED = """
INSERT INTO processed_messages (event_id, message_type, outcome)
SELECT event_id, message_type, 'done'
FROM unnest($1::uuid[], $2::text[]) AS batch(event_id, message_type)
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
_PARK = """
INSERT INTO parked_messages
    (event_id, waiting_for, reason, topic, partition, "offset", key, value,
     header_names, header_values, parked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (event_id) DO NOTHING
"""
_UNPARK = """
DELETE FROM parked_messages WHERE waiting_for = ANY($1::text[])
RETURNING event_id, topic, partition, "offset", key, value, header_names, header_values, parked_at
"""
_RETRY_PARKED = """
SELECT event_id, topic, partition, "offset", key, value, header_names, header_values
FROM parked_messages
ORDER BY parked_at, "offset"
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_FORGET_PARKED = "DELETE FROM parked_messages WHERE event_id = $1"
_EXPIRE_PARKED = """
DELETE FROM parked_messages
WHERE event_id IN (
    SELECT event_id FROM parked_messages WHERE parked_at < $1 FOR UPDATE SKIP LOCKED
)
RETURNING event_id, waiting_for, reason, topic, partition, "offset", key, value,
          header_names, header_values
"""

_UNDECODABLE_NAMESPACE = uuid.UUID("6f1d4c1e-1c44-4b8e-9a57-3c3b1f0a2d11")


class Clock(Protocol):
    """Where handlers get "now": the system clock in production, a simulated one in demos."""

    def now(self) -> datetime: ...


@dataclass(slots=True)
class UnitOfWork:
    """What a handler gets besides the message: the transaction, the outbox, the time."""

    conn: asyncpg.Connection
    outbox: Outbox
    now: datetime
    source: str
    released: list[str] = field(default_factory=list)

    async def publish(self, envelope: Envelope[Any]) -> None:
        """Send ``envelope`` if, and only if, this message's effect commits."""
        await self.outbox.add(self.conn, envelope)

    async def publish_many(self, envelopes: Sequence[Envelope[Any]]) -> None:
        await self.outbox.add_many(self.conn, envelopes)

    def release(self, waiting_for: str) -> None:
        """Announce that ``waiting_for`` now exists: messages parked for it are replayed."""
        self.released.append(waiting_for)


Handler = Callable[[Envelope[Any], UnitOfWork], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope[Any]], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Batched:
    """A route whose handler takes consecutive messages of its type together, in order.

    The handler must have the effect of handling them one at a time in the order given
    (typically: read what all of them need at once, then write with ``executemany``). When
    it raises, the batch is redone one message at a time, each in its own savepoint and
    given as a one-message list, so every message still gets its own outcome.
    """

    handler: BatchHandler


Route = Handler | Batched
"""What a message type is routed to: a handler of one message, or a batched handler."""


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    """How hard to try before giving a message up to the dead-letter topic."""

    max_attempts: int = 3
    retry_delay: float = 0.05
    park_timeout: timedelta = timedelta(days=7)


class ReliableConsumer:
    """Applies handlers to Kafka records with exactly-once effects in Postgres."""

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
            outcomes: Counter[tuple[str, str]] = Counter()
            try:
                try:
                    async with self._pool.acquire() as conn, conn.transaction():
                        await self._fast_pass(conn, records, decoded, outcomes)
                except _CarefulPassNeededError as needed:
                    # Something in the batch needs its own outcome (a rejection, a parking, a
                    # failure to retry): redo the batch with a savepoint per message.
                    outcomes.clear()
                    async with self._pool.acquire() as conn, conn.transaction():
                        for record, message in zip(records, decoded, strict=True):
                            earlier = (
                                needed.errors.get(message.id)
                                if isinstance(message, Envelope)
                                else None
                            )
                            await self._handle(conn, record, message, outcomes, earlier=earlier)
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
        if self._on_outcomes is not None:
            self._on_outcomes(outcomes)

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
        outcomes: Counter[tuple[str, str]],
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
                await self._handle(conn, record, message, outcomes)  # ignored or dead-lettered
                continue
            if message.id not in first_seen:
                outcomes[(message.type, "duplicate")] += 1
                continue
            first_seen.discard(message.id)  # a second copy in the same batch is a duplicate
            if run and not (isinstance(route, Batched) and route is run_route):
                await self._run_fast(conn, run, outcomes, released)
                run = []
            run.append((record, message))
            run_route = route
        if run:
            await self._run_fast(conn, run, outcomes, released)
        if released:
            await self._replay_parked(conn, released, outcomes)

    def _route_of(self, message: _Read) -> Route | None:
        """Where a decoded message goes; None for what this service does not handle."""
        return self._routes.get(type(message.data)) if isinstance(message, Envelope) else None

    async def _run_fast(
        self,
        conn: asyncpg.Connection,
        run: Sequence[tuple[ReceivedRecord, Envelope[Message]]],
        outcomes: Counter[tuple[str, str]],
        released: list[str],
    ) -> None:
        """One message, or a run of consecutive messages for the same batched route."""
        first = run[0][1]
        route = self._routes[type(first.data)]
        uow = UnitOfWork(conn=conn, outbox=self._outbox, now=self._clock.now(), source=self._source)
        try:
            with _handling_span(run):
                await dispatch(route, [message for _, message in run], uow)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            # Which message of a batched run failed is unknown: all are redone one by one.
            earlier = {first.id: error} if len(run) == 1 else {}
            raise _CarefulPassNeededError(earlier) from error
        for _, message in run:
            outcomes[(message.type, "done")] += 1
        released.extend(uow.released)

    async def _handle(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: _Read,
        outcomes: Counter[tuple[str, str]],
        *,
        earlier: Exception | None = None,
    ) -> None:
        if isinstance(message, UndecodableRecordError):
            await self._dead_letter_undecodable(conn, record, message, outcomes)
            return
        route = self._route_of(message)
        if route is None or isinstance(message, _Ignored):
            outcomes[(message.type, "ignored")] += 1
            return  # a message on a shared topic that is another service's business
        await self._apply(conn, record, message, route, outcomes, earlier=earlier)

    async def _apply(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        route: Route,
        outcomes: Counter[tuple[str, str]],
        *,
        earlier: Exception | None = None,
    ) -> None:
        """Run the handler in a savepoint until it succeeds, refuses, parks or runs out of tries.

        ``earlier`` is what the fast pass already saw this handler raise (its first attempt).
        """
        last_error: Exception | None = None
        for attempt in range(1, self._policy.max_attempts + 1):
            uow = UnitOfWork(
                conn=conn, outbox=self._outbox, now=self._clock.now(), source=self._source
            )
            error: Exception | None = earlier if attempt == 1 else None
            if error is None:
                try:
                    async with conn.transaction():
                        first_time = await conn.fetchval(
                            _RECORD_PROCESSED, envelope.id, envelope.type, "done"
                        )
                        if not first_time:
                            outcomes[(envelope.type, "duplicate")] += 1
                            return
                        with _handling_span([(record, envelope)]):
                            await dispatch(route, [envelope], uow)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as caught:  # judged below: refusal, parking, or a retry
                    error = caught
            if error is None:
                outcomes[(envelope.type, "done")] += 1
                if uow.released:
                    await self._replay_parked(conn, uow.released, outcomes)
                return
            if isinstance(error, RejectedError):
                await self._dead_letter(
                    conn,
                    record,
                    envelope,
                    code=error.code,
                    reason=error.reason,
                    attempts=attempt,
                    outcome="rejected",
                )
                outcomes[(envelope.type, "rejected")] += 1
                return
            if isinstance(error, AwaitingPrerequisiteError):
                await conn.execute(
                    _PARK,
                    envelope.id,
                    error.waiting_for,
                    error.reason,
                    record.topic,
                    record.partition,
                    record.offset,
                    record.key,
                    record.value,
                    [name for name, _ in record.headers],
                    [value for _, value in record.headers],
                    uow.now,
                )
                outcomes[(envelope.type, "parked")] += 1
                return
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
        await self._dead_letter(
            conn,
            record,
            envelope,
            code="handler_failed",
            reason=(
                f"failed {self._policy.max_attempts} times: "
                f"{type(last_error).__name__}: {last_error}"
            ),
            attempts=self._policy.max_attempts,
            outcome="failed",
        )
        outcomes[(envelope.type, "failed")] += 1

    async def _replay_parked(
        self, conn: asyncpg.Connection, released: list[str], outcomes: Counter[tuple[str, str]]
    ) -> None:
        """Replay, in arrival order, what was parked waiting for anything in ``released``."""
        rows = sorted(
            await conn.fetch(_UNPARK, released), key=lambda row: (row["parked_at"], row["offset"])
        )
        for row in rows:
            record = _record_from_row(row)
            outcomes[("(parked)", "replayed")] += 1
            await self._handle(conn, record, _try_decode(record, self._registry), outcomes)

    async def retry_parked(self, *, limit: int = 100) -> int:
        """Try parked messages again; those whose prerequisite now exists are handled.

        Releases cover the usual case; this covers a race between replicas: one parks a
        message while another commits what it waits for, so that release finds nothing.
        Returns how many left the parking (handled, refused or dead-lettered).
        """
        handled = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for row in await conn.fetch(_RETRY_PARKED, limit):
                record = _record_from_row(row)
                message = _try_decode(record, self._registry)
                if isinstance(message, UndecodableRecordError):
                    continue  # cannot happen: only decoded messages are parked
                route = self._routes.get(type(message.data))
                if route is None:
                    continue
                outcomes: Counter[tuple[str, str]] = Counter()
                try:
                    async with conn.transaction():
                        await conn.execute(_FORGET_PARKED, message.id)
                        await self._apply(conn, record, message, route, outcomes)
                        if outcomes[(message.type, "parked")]:
                            raise _StillWaitingError
                except _StillWaitingError:
                    continue  # the savepoint put the row back as it was
                handled += 1
                if self._on_outcomes is not None:
                    self._on_outcomes(outcomes)
        return handled

    async def expire_parked(self) -> int:
        """Dead-letter messages parked longer than the policy allows; returns how many."""
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_EXPIRE_PARKED, now - self._policy.park_timeout)
            for row in rows:
                await self._outbox.add_dead_letter(
                    conn,
                    _record_from_row(row),
                    code="prerequisite_never_arrived",
                    reason=(f"parked ({row['reason']}); {row['waiting_for']} never appeared"),
                    consumer_group=self._group,
                    attempts=1,
                    failed_at=now,
                )
        return len(rows)

    async def _dead_letter(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        *,
        code: str,
        reason: str,
        attempts: int,
        outcome: str,
    ) -> None:
        logger.warning("dead-lettering %s %s: %s", envelope.type, envelope.id, code)
        await conn.execute(_RECORD_PROCESSED, envelope.id, envelope.type, outcome)
        await self._outbox.add_dead_letter(
            conn,
            record,
            code=code,
            reason=reason,
            consumer_group=self._group,
            attempts=attempts,
            failed_at=self._clock.now(),
        )

    async def _dead_letter_undecodable(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        error: UndecodableRecordError,
        outcomes: Counter[tuple[str, str]],
    ) -> None:
        message_type = record.header("ce_type") or "(none)"
        if not await conn.fetchval(
            _RECORD_PROCESSED, _record_identity(record), message_type, "undecodable"
        ):
            outcomes[(message_type, "duplicate")] += 1
            return
        logger.warning("dead-lettering undecodable record from %s: %s", record.topic, error.code)
        await self._outbox.add_dead_letter(
            conn,
            record,
            code=str(error.code),
            reason=error.reason,
            consumer_group=self._group,
            attempts=1,
            failed_at=self._clock.now(),
        )
        outcomes[(message_type, "undecodable")] += 1


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


_TRACER = trace.get_tracer("binome.messaging")
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})


async def dispatch(route: Route, envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
    """Hand ``envelopes`` to ``route``: all at once if it is batched, else one by one."""
    if isinstance(route, Batched):
        await route.handler(envelopes, uow)
        return
    for envelope in envelopes:
        await route(envelope, uow)


def _handling_span(run: Sequence[tuple[ReceivedRecord, Envelope[Message]]]) -> Any:
    """A span per message, child of the producer's trace (its ``traceparent`` header), so the
    events a handler writes to the outbox carry that trace on to the next service.

    A batched run gets one span linked to each message's producer span, as OpenTelemetry's
    messaging conventions do for batches; it continues their trace when they share one.
    """
    record, envelope = run[0]
    if len(run) == 1:
        return _TRACER.start_as_current_span(
            f"handle {envelope.type}",
            context=_producer_context(record),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.message.id": str(envelope.id),
                "messaging.kafka.destination.partition": record.partition,
                "messaging.kafka.message.offset": record.offset,
            },
        )
    contexts = [
        trace.get_current_span(_producer_context(linked)).get_span_context() for linked, _ in run
    ]
    valid = [context for context in contexts if context.is_valid]
    # Runs usually come from one request (an HR import, a matching round): then the batch
    # stays in that request's trace; runs mixing traces start their own.
    parent = (
        trace.set_span_in_context(trace.NonRecordingSpan(valid[0]))
        if valid and len({context.trace_id for context in valid}) == 1
        else None
    )
    return _TRACER.start_as_current_span(
        f"handle {envelope.type}",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(context) for context in valid],
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.batch.message_count": len(run),
        },
    )


def _producer_context(record: ReceivedRecord) -> Context:
    carrier = {
        name: value.decode("latin-1")
        for name in _TRACE_HEADERS
        if (value := record.header_values.get(name)) is not None
    }
    # Most records of a bulk import carry no trace: skip the propagator's work for them.
    return propagate.extract(carrier) if carrier else Context()


def _record_identity(record: ReceivedRecord) -> uuid.UUID:
    """A stable id for an unreadable record: where it sits, since its own id can't be trusted."""
    return uuid.uuid5(_UNDECODABLE_NAMESPACE, f"{record.topic}:{record.partition}:{record.offset}")


def _record_from_row(row: asyncpg.Record) -> ReceivedRecord:
    return ReceivedRecord(
        topic=row["topic"],
        partition=row["partition"],
        offset=row["offset"],
        key=row["key"],
        value=row["value"],
        headers=list(zip(row["header_names"], row["header_values"], strict=True)),
    )
