"""The outbox relay: publishes a schema's outbox to Kafka, in order, marking rows sent only
once the broker acknowledged them.

What a round sends, and how the broker's answers are read, is :mod:`.relay_delivery`; the
producer is :mod:`.relay_producer`. The rows are written by :class:`.outbox.Outbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence

import asyncpg
from opentelemetry.trace import SpanContext

from binome_shared import failpoints
from binome_shared.db.claims import WALK_THE_INDEX
from binome_shared.messaging.backoff import Backoff, sleep_unless
from binome_shared.messaging.relay_delivery import (
    DeliveriesFailedError,
    RoundOutcome,
    RoundPublisher,
    authorization_refusals,
)
from binome_shared.messaging.relay_producer import (
    DEFAULT_MAX_REQUEST_SIZE,
    Producer,
    RelayProducer,
)
from binome_shared.messaging.tracing import parse_traceparent, sending_span

logger = logging.getLogger(__name__)

_CLAIM = """
SELECT id, topic, key, value, header_names, header_values
FROM outbox
WHERE sent_at IS NULL AND set_aside_at IS NULL
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
_MARK_SENT = "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
_SET_ASIDE = """
UPDATE outbox SET set_aside_at = clock_timestamp(), set_aside_reason = refused.reason
FROM unnest($1::bigint[], $2::text[]) AS refused(id, reason)
WHERE outbox.id = refused.id
"""
_PRUNE_SENT = """
DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < clock_timestamp() - $1::text::interval
"""
_PENDING = "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL"
_SET_ASIDE_COUNT = "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL"
_LEADER_LOCK = "SELECT pg_try_advisory_lock(hashtext(current_schema() || '.outbox_relay'))"


class OutboxRelay:
    """Publishes a schema's outbox to Kafka, in order, marking rows only after the broker ack.

    One relay per service is active at a time (a Postgres advisory lock elects it), which
    keeps per-key order across replicas; the others stand by and take over when its
    connection drops. It wakes on NOTIFY and also polls, since notifications are not stored.

    A record Kafka can never take is set aside with its reason instead of holding back the
    rows behind it (see :mod:`binome_shared.messaging.relay_delivery`). For the operator:
    ``set_aside_total`` and ``errors_total`` (by error class) count what this process met,
    ``connected`` says whether it can reach the broker now (false too while the broker refuses
    the service's principal, which ``authorization_refused`` tells apart), and :meth:`pending` and
    :meth:`set_aside_count` read the table.
    """

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        producer: Producer,
        schema: str,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retention: str = "7 days",
        stalled_after: float = 10.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._stalled_after = stalled_after
        self._wake = asyncio.Event()
        self._backoff = Backoff()
        self._send_alone: set[int] = set()
        self.published = 0
        self.published_by_topic: Counter[str] = Counter()
        """Records the broker acknowledged, by topic, since this process started."""
        self.is_leader = False
        self.set_aside_total = 0
        self.errors_total: Counter[str] = Counter()
        self.connected = False
        self.authorization_refused = False
        """The broker refused this service's principal in the last failed round."""

    @property
    def _max_request_size(self) -> int:
        if isinstance(self._producer, RelayProducer):
            return self._producer.max_request_size
        return DEFAULT_MAX_REQUEST_SIZE

    async def relay_once(self) -> int:
        """Publish up to one batch of unsent rows; returns how many rows it claimed.

        Raises :class:`DeliveriesFailedError` after marking what was acknowledged, when some
        rows must wait for the broker.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(WALK_THE_INDEX)  # outbox_unsent, in id order
            rows = await conn.fetch(_CLAIM, self._batch_size)
            if not rows:
                self._send_alone.clear()
                return 0
            topics = {row["topic"] for row in rows}
            with sending_span(topics, _creation_contexts(rows), count=len(rows)):
                outcome = await RoundPublisher(
                    self._producer,
                    max_request_size=self._max_request_size,
                    send_alone=self._send_alone,
                    stalled_after=self._stalled_after,
                    on_stalled=self._on_stalled,
                ).publish(rows)
            failpoints.crash_if_armed("relay.after_broker_ack")
            if outcome.sent:
                await conn.execute(_MARK_SENT, outcome.sent)
            if outcome.set_aside:
                ids, reasons = zip(*outcome.set_aside, strict=True)
                await conn.execute(_SET_ASIDE, list(ids), list(reasons))
        await self._take_stock(outcome, claimed={row["id"] for row in rows})
        return len(rows)

    async def _take_stock(self, outcome: RoundOutcome, *, claimed: set[int]) -> None:
        """Count and log a settled round, renew the producer if needed, and raise if rows
        must wait for the broker."""
        self.published += len(outcome.sent)
        self.published_by_topic.update(outcome.sent_topics)
        self.set_aside_total += len(outcome.set_aside)
        self.errors_total.update(outcome.errors)
        for row_id, reason in outcome.set_aside:
            logger.error("outbox row %d set aside, never to be retried: %s", row_id, reason)
        if outcome.send_alone:
            logger.warning(
                "the broker refused a batch of %d records whole; each goes alone next",
                len(outcome.send_alone),
            )
        # Only rows still waiting stay marked (another replica may have sent the others).
        settled = {*outcome.sent, *(row_id for row_id, _ in outcome.set_aside)}
        self._send_alone = (self._send_alone & claimed) - settled | set(outcome.send_alone)
        if outcome.failures:
            self.connected = False
        elif outcome.broker_answered:
            self.connected = True
            self.authorization_refused = False
            self._backoff.reset()
        if outcome.producer_out_of_step:
            await self._renew_producer()
        if outcome.failures:
            self._report_authorization_refusals(outcome.failures, waiting=len(claimed - settled))
            raise DeliveriesFailedError(outcome.failures)

    def _report_authorization_refusals(
        self, failures: Sequence[BaseException], *, waiting: int
    ) -> None:
        """Say loudly when the broker refuses this service's principal: no retry will fix a
        missing ACL or a wrong user, an operator must, and meanwhile the rows wait unsent."""
        refusals = authorization_refusals(failures)
        self.authorization_refused = bool(refusals)
        if refusals:
            logger.error(
                "Kafka refuses this service's principal (%s): a deployment error (ACLs or "
                "credentials), not a bad record; %d outbox rows stay unsent and the service "
                "is not ready until the permission is granted",
                "; ".join(refusals),
                waiting,
            )

    async def _renew_producer(self) -> None:
        if not isinstance(self._producer, RelayProducer):
            logger.warning(
                "a batch failed after it went out; its partition refuses this producer's "
                "later batches until the process restarts (give the relay a RelayProducer)"
            )
            return
        try:
            await self._producer.renew()
        except Exception:
            self.connected = False
            raise

    async def _start_producer(self) -> None:
        """Connect the relay's own producer if it is not (another is its owner's to start)."""
        if not isinstance(self._producer, RelayProducer) or self._producer.started:
            return
        try:
            await self._producer.start()
        except Exception:
            self.connected = False
            raise
        self.connected = True

    def _on_stalled(self, pending: int) -> None:
        self.connected = False
        logger.warning(
            "%d deliveries unacknowledged after %.0f s; still waiting (is the broker up?)",
            pending,
            self._stalled_after,
        )

    async def pending(self) -> int:
        """Rows waiting to be sent (set-aside rows excluded: they wait for an operator)."""
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(_PENDING))

    async def set_aside_count(self) -> int:
        """Rows set aside, never to be retried until an operator re-queues them."""
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval(_SET_ASIDE_COUNT))

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; survives database and broker outages by retrying."""
        if not isinstance(self._producer, RelayProducer) or self._producer.started:
            self.connected = True  # its owner started it before handing it over
        while not stop.is_set():
            try:
                await self._start_producer()
                await self._lead_while_possible(stop)
                self._backoff.reset()
            except Exception as error:  # Postgres, network or the broker client's own errors
                self.is_leader = False
                if not isinstance(error, DeliveriesFailedError):  # counted per delivery
                    self.errors_total[type(error).__name__] += 1
                delay = self._backoff.next()
                logger.warning(
                    "outbox relay interrupted (%s: %s); retrying in %.1f s",
                    type(error).__name__,
                    error,
                    delay,
                )
                await sleep_unless(stop, delay)

    async def _lead_while_possible(self, stop: asyncio.Event) -> None:
        leader_conn: asyncpg.Connection = await self._pool.acquire()
        channel = f"binome_outbox_{self._schema}"
        try:
            if not await leader_conn.fetchval(_LEADER_LOCK):
                self.is_leader = False
                await sleep_unless(stop, self._poll_interval * 2)
                return
            self.is_leader = True
            await leader_conn.add_listener(channel, self._on_notify)
            logger.info("outbox relay for schema %s is active", self._schema)
            last_prune = 0.0
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                self._wake.clear()
                while await self._more_at_once() and not stop.is_set():
                    pass
                if loop.time() - last_prune > 3600:
                    await leader_conn.execute(_PRUNE_SENT, self._retention)
                    last_prune = loop.time()
                if leader_conn.is_closed():
                    raise ConnectionError("leader connection lost")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_for_wake(stop), self._poll_interval)
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await leader_conn.remove_listener(channel, self._on_notify)
            # Releasing the connection to the pool resets it, which drops the advisory lock.
            await self._pool.release(leader_conn)

    async def _more_at_once(self) -> bool:
        """Relay one round; whether another should follow at once (a full claim, or rows
        to send alone after a refused batch)."""
        return await self.relay_once() == self._batch_size or bool(self._send_alone)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _wait_for_wake(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def _creation_contexts(rows: Sequence[asyncpg.Record]) -> list[SpanContext]:
    """Each row's creation context (its ``traceparent``), for the send span's links."""
    contexts = []
    for row in rows:
        names = row["header_names"]
        if "traceparent" in names:
            context = parse_traceparent(row["header_values"][names.index("traceparent")])
            if context is not None:
                contexts.append(context)
    return contexts
