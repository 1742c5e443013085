"""Parked messages taken up again outside any batch: retried, or expired to a dead letter.

A release (``uow.release``) replays what waited for it in the same transaction; this module
covers what releases cannot: a race between replicas (one parks a message while another
commits what it waits for, so the release found nothing) is caught by :meth:`retry`, and a
prerequisite that never arrives by :meth:`expire`. The runtime calls both periodically.
"""

from __future__ import annotations

import asyncpg

from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging import parking
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError
from binome_shared.messaging.dead_lettering import Tally
from binome_shared.messaging.decoding import try_decode
from binome_shared.messaging.routes import Route
from binome_shared.messaging.settling import Settler


class ParkedMessages:
    """The parking of one consumer group, seen from outside its batches."""

    def __init__(self, *, pool: asyncpg.Pool, settler: Settler) -> None:
        self._pool = pool
        self._settler = settler

    async def retry(self, *, limit: int) -> tuple[int, Tally]:
        """Try up to ``limit`` parked messages again; how many left the parking (handled,
        refused or dead-lettered), and what they came to."""
        handled = 0
        tally = Tally()
        async with self._pool.acquire() as conn, conn.transaction():
            for row in await conn.fetch(parking.RETRY_PARKED, limit):
                record = parking.record_from_row(row)
                message = try_decode(record, self._settler.registry)
                if isinstance(message, UndecodableRecordError):
                    continue  # cannot happen: only decoded messages are parked
                route = self._settler.route_of(message)
                if route is None:
                    continue
                if await self._retry_one(conn, record, message, route, tally):
                    handled += 1
        return handled, tally

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
                if await self._settler.apply(conn, record, message, route, tally) == "parked":
                    raise _StillWaitingError
        except _StillWaitingError:
            tally.restore(before)
            return False
        return True

    async def expire(self) -> tuple[int, Tally]:
        """Dead-letter messages parked longer than the policy allows; how many, and the
        dead letters' count."""
        settler = self._settler
        now = settler.clock.now()
        tally = Tally()
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(parking.EXPIRE_PARKED, now - settler.policy.park_timeout)
            for row in rows:
                await settler.outbox.add_dead_letter(
                    conn,
                    parking.record_from_row(row),
                    code="prerequisite_never_arrived",
                    reason=(f"parked ({row['reason']}); {row['waiting_for']} never appeared"),
                    consumer_group=settler.consumer_group,
                    attempts=1,
                    failed_at=now,
                )
                tally.dead_letters["prerequisite_never_arrived"] += 1
        return len(rows), tally


class _StillWaitingError(Exception):
    """A retried parked message is still waiting: undo the retry."""
