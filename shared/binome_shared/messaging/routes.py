"""What a handler gets and how a service routes message types to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.messaging.outbox import Outbox


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


async def dispatch(route: Route, envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
    """Hand ``envelopes`` to ``route``: all at once if it is batched, else one by one."""
    if isinstance(route, Batched):
        await route.handler(envelopes, uow)
        return
    for envelope in envelopes:
        await route(envelope, uow)
