"""The careful pass: each message settled on its own, in its own savepoint.

The consumer's fast pass handles a clean batch in few round trips; as soon as one message
needs an outcome of its own (a refusal, a parking, a failure to retry, a value Postgres
refuses), the batch is redone here, message by message, so whatever one message holds, its
neighbours keep their outcomes. Parked messages released by a handler are replayed here too,
in the same transaction, each as if it had just arrived.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import asyncpg

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging import parking
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError
from binome_shared.messaging.dead_lettering import (
    RECORD_PROCESSED,
    DeadLettering,
    Tally,
    Verdict,
)
from binome_shared.messaging.decoding import Read, try_decode
from binome_shared.messaging.errors import (
    TRANSIENT_ERRORS,
    AwaitingPrerequisiteError,
    RejectedError,
)
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import Clock, Route, UnitOfWork, dispatch
from binome_shared.messaging.tracing import handling_span

logger = logging.getLogger(__name__)

Outcome = Literal["done", "duplicate", "rejected", "parked", "failed", "unstorable"]


@dataclass(frozen=True, slots=True)
class ConsumerPolicy:
    """How hard to try before giving a message up to the dead-letter topic."""

    max_attempts: int = 3
    retry_delay: float = 0.05
    park_timeout: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Settler:
    """Gives messages their outcomes for one consumer group: its routes, its policy."""

    routes: Mapping[type[Message], Route]
    registry: Registry
    outbox: Outbox
    clock: Clock
    source: str
    consumer_group: str
    policy: ConsumerPolicy
    dead_lettering: DeadLettering

    def route_of(self, message: Read) -> Route | None:
        """Where a decoded message goes; None for what this service does not handle."""
        return self.routes.get(type(message.data)) if isinstance(message, Envelope) else None

    def unit_of_work(self, conn: asyncpg.Connection) -> UnitOfWork:
        return UnitOfWork(conn=conn, outbox=self.outbox, now=self.clock.now(), source=self.source)

    async def settle(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: Read,
        tally: Tally,
        *,
        earlier: Exception | None = None,
    ) -> None:
        """Give one message its outcome; whatever it holds, its neighbours keep theirs."""
        if isinstance(message, UndecodableRecordError):
            dead_letter = functools.partial(
                self.dead_lettering.undecodable, conn, record, message, tally
            )
            await self._guarded(conn, record, message, tally, dead_letter)
            return
        route = self.route_of(message)
        if route is None or not isinstance(message, Envelope):
            tally.outcomes[(message.type, "ignored")] += 1
            return  # a message on a shared topic that is another service's business
        await self.apply(conn, record, message, route, tally, earlier=earlier)

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
            await self.dead_lettering.unstorable(conn, record, message, error, tally)
            return False
        return True

    async def apply(
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
        for attempt in range(1, self.policy.max_attempts + 1):
            uow = self.unit_of_work(conn)
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
                        with handling_span(
                            [(record, envelope)], consumer_group=self.consumer_group
                        ):
                            await dispatch(route, [envelope], uow)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as caught:  # judged below: refusal, parking, or a retry
                    error = caught
            if error is None:
                tally.outcomes[(envelope.type, "done")] += 1
                if uow.released:
                    await self.replay_parked(conn, uow.released, tally)
                return "done"
            if isinstance(error, RejectedError):
                verdict = Verdict(
                    code=error.code, reason=error.reason, attempts=attempt, outcome="rejected"
                )
                break
            if isinstance(error, AwaitingPrerequisiteError):
                park = functools.partial(self._park, conn, record, envelope, error, tally)
                stored = await self._guarded(conn, record, envelope, tally, park)
                return "parked" if stored else "unstorable"
            last_error = error
            logger.warning(
                "handler for %s failed (attempt %d/%d): %s",
                envelope.type,
                attempt,
                self.policy.max_attempts,
                type(error).__name__,
            )
            if attempt < self.policy.max_attempts:
                await asyncio.sleep(self.policy.retry_delay * 2 ** (attempt - 1))
        else:  # every attempt failed
            assert last_error is not None
            reason = (
                f"failed {self.policy.max_attempts} times: "
                f"{type(last_error).__name__}: {last_error}"
            )
            verdict = Verdict(
                code="handler_failed",
                reason=reason,
                attempts=self.policy.max_attempts,
                outcome="failed",
            )
        refuse = functools.partial(
            self.dead_lettering.refused, conn, record, envelope, tally, verdict
        )
        stored = await self._guarded(conn, record, envelope, tally, refuse)
        return verdict.outcome if stored else "unstorable"

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
            now=self.clock.now(),
        )
        tally.outcomes[(envelope.type, "parked")] += 1

    async def replay_parked(
        self, conn: asyncpg.Connection, released: list[str], tally: Tally
    ) -> None:
        """Replay, in arrival order, what was parked waiting for anything in ``released``;
        each replayed message gets its own outcome, as if it had just arrived."""
        for record in await parking.unpark(conn, released):
            tally.outcomes[("(parked)", "replayed")] += 1
            await self.settle(conn, record, try_decode(record, self.registry), tally)
