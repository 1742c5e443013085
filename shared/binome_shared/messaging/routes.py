"""What a handler gets and how a service routes message types to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Self, TypeVar

import asyncpg

from binome_shared.contracts.base import Envelope, Message
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

Routes = Mapping[type[Message], Route]
"""A service's routing table: which route takes each message type it consumes."""

M = TypeVar("M", bound=Message)


class RouteTable:
    """Builds a service's routes, each handler typed by the message it takes.

    ``table.on(PairFormed, self.on_pair_formed)`` lets the type checker prove that the
    handler takes ``Envelope[PairFormed]`` (or a union that includes it), so handlers read
    ``envelope.data`` as the right type instead of casting from ``Envelope[Any]``. A type
    routed twice is a wiring mistake and is refused at start-up.
    """

    def __init__(self) -> None:
        self._routes: dict[type[Message], Route] = {}

    def on(
        self, message_type: type[M], handler: Callable[[Envelope[M], UnitOfWork], Awaitable[None]]
    ) -> Self:
        """Route each ``message_type`` message to ``handler``, one message at a time."""
        return self._add(message_type, handler)

    def on_batches(
        self,
        message_type: type[M],
        handler: Callable[[Sequence[Envelope[M]], UnitOfWork], Awaitable[None]],
    ) -> Self:
        """Route runs of consecutive ``message_type`` messages to ``handler`` (see Batched)."""
        return self._add(message_type, Batched(handler))

    def build(self) -> Routes:
        """The finished table, as the consumer takes it."""
        return dict(self._routes)

    def _add(self, message_type: type[Message], route: Any) -> Self:
        if message_type in self._routes:
            raise ValueError(f"{message_type.__name__} is routed twice")
        self._routes[message_type] = route
        return self


async def dispatch(route: Route, envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
    """Hand ``envelopes`` to ``route``: all at once if it is batched, else one by one."""
    if isinstance(route, Batched):
        await route.handler(envelopes, uow)
        return
    for envelope in envelopes:
        await route(envelope, uow)
