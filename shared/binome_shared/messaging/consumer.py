"""Idempotent, failure-aware consumption: every message has exactly one effect or a reason.

A batch of records is handled in one Postgres transaction; each message runs in its own
savepoint with a row in ``processed_messages`` written beside its effect, so a redelivered
message finds that row and is skipped. The caller acknowledges the Kafka offsets only after
:meth:`ReliableConsumer.process` returned, i.e. after the commit.

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
_PARK = """
INSERT INTO parked_messages
    (event_id, waiting_for, reason, topic, partition, "offset", key, value,
     header_names, header_values, parked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (event_id) DO NOTHING
"""
_UNPARK = """
DELETE FROM parked_messages WHERE waiting_for = $1
RETURNING event_id, topic, partition, "offset", key, value, header_names, header_values, parked_at
"""
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
        routes: Mapping[type[Message], Handler],
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
        decoded = [_try_decode(record, self._registry) for record in records]
        backoff = Backoff(first=0.1, cap=5.0)
        while True:
            outcomes: Counter[tuple[str, str]] = Counter()
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    for record, message in zip(records, decoded, strict=True):
                        await self._handle(conn, record, message, outcomes)
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

    async def _handle(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: Envelope[Message] | UndecodableRecordError,
        outcomes: Counter[tuple[str, str]],
    ) -> None:
        if isinstance(message, UndecodableRecordError):
            await self._dead_letter_undecodable(conn, record, message, outcomes)
            return
        handler = self._routes.get(type(message.data))
        if handler is None:
            outcomes[(message.type, "ignored")] += 1
            return  # a message on a shared topic that is another service's business
        await self._apply(conn, record, message, handler, outcomes)

    async def _apply(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        handler: Handler,
        outcomes: Counter[tuple[str, str]],
    ) -> None:
        last_error: Exception | None = None
        for attempt in range(1, self._policy.max_attempts + 1):
            uow = UnitOfWork(
                conn=conn, outbox=self._outbox, now=self._clock.now(), source=self._source
            )
            try:
                async with conn.transaction():
                    first_time = await conn.fetchval(
                        _RECORD_PROCESSED, envelope.id, envelope.type, "done"
                    )
                    if not first_time:
                        outcomes[(envelope.type, "duplicate")] += 1
                        return
                    await handler(envelope, uow)
            except RejectedError as rejection:
                await self._dead_letter(
                    conn,
                    record,
                    envelope,
                    code=rejection.code,
                    reason=rejection.reason,
                    attempts=attempt,
                    outcome="rejected",
                )
                outcomes[(envelope.type, "rejected")] += 1
                return
            except AwaitingPrerequisiteError as waiting:
                await conn.execute(
                    _PARK,
                    envelope.id,
                    waiting.waiting_for,
                    waiting.reason,
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
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:  # a handler bug or an unexpected input: retry, then give up
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
                continue
            outcomes[(envelope.type, "done")] += 1
            for waiting_for in uow.released:
                await self._replay_parked(conn, waiting_for, outcomes)
            return
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
        self, conn: asyncpg.Connection, waiting_for: str, outcomes: Counter[tuple[str, str]]
    ) -> None:
        rows = sorted(
            await conn.fetch(_UNPARK, waiting_for),
            key=lambda row: (row["parked_at"], row["offset"]),
        )
        for row in rows:
            record = _record_from_row(row)
            outcomes[("(parked)", "replayed")] += 1
            await self._handle(conn, record, _try_decode(record, self._registry), outcomes)

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


class ShutdownDuringOutageError(Exception):
    """The service is stopping while the database is unreachable: leave the batch unacked."""


def _try_decode(
    record: ReceivedRecord, registry: Registry
) -> Envelope[Message] | UndecodableRecordError:
    try:
        return decode(record, registry)
    except UndecodableRecordError as error:
        return error


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
