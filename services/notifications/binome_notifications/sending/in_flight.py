"""Several sends in flight at once, their records committed together (a group commit).

The job only claims; a background task sends and queues the outcome; one recorder task
commits what is queued, a group at a time. A send keeps its sending slot until its record is
committed, so at most ``concurrency`` deliveries are ever sent but not recorded. A group that
fails to commit is recorded again one delivery per transaction, so one bad row cannot hold
the others back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from binome_notifications.sending.recording import FinishedAttempt, OutcomeRecorder

logger = logging.getLogger(__name__)

Send = Callable[[], Awaitable[FinishedAttempt]]
"""Makes one attempt and says what it led to."""


@dataclass(slots=True, kw_only=True)
class _Waiting:
    """A send that returned, waiting for its record to be committed."""

    finished: FinishedAttempt
    recorded: asyncio.Future[None]


class SendsInFlight:
    """Background sends of one process, at most ``concurrency`` at a time."""

    def __init__(
        self,
        *,
        concurrency: int,
        recorder: OutcomeRecorder,
        connections: Callable[[], Awaitable[asyncpg.Pool]],
    ) -> None:
        if concurrency < 1:
            raise ValueError("delivery concurrency must be at least 1")
        self._concurrency = concurrency
        self._recorder = recorder
        self._connections = connections
        self._slots: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._to_record: list[_Waiting] = []
        self._recording: asyncio.Task[None] | None = None

    def __contains__(self, delivery_key: str) -> bool:
        """Whether this process is still sending ``delivery_key`` (so it is not in doubt)."""
        return delivery_key in self._tasks

    async def take_slot(self) -> None:
        """Wait for a free sending slot; give it back with :meth:`give_back_slot` unless a
        send is started with it."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        await self._slots.acquire()

    def give_back_slot(self) -> None:
        """Free a slot taken for a send that did not start."""
        if self._slots is not None:
            self._slots.release()

    def start(self, delivery_key: str, send: Send) -> None:
        """Send in the background with the slot already taken, then record."""
        self._tasks[delivery_key] = asyncio.create_task(
            self._finish(delivery_key, send), name=f"deliver:{delivery_key}"
        )

    async def _finish(self, delivery_key: str, send: Send) -> None:
        try:
            waiting = _Waiting(
                finished=await send(), recorded=asyncio.get_running_loop().create_future()
            )
            self._to_record.append(waiting)
            if self._recording is None or self._recording.done():
                self._recording = asyncio.create_task(self._record_queued(), name="record")
            await waiting.recorded
        except Exception:  # the recovery turn sends it again (in doubt): nothing is lost
            logger.exception("background delivery failed key=%s", delivery_key)
        finally:
            self._tasks.pop(delivery_key, None)
            self.give_back_slot()

    async def _record_queued(self) -> None:
        """Commit the waiting records, a group at a time, until none is left."""
        while self._to_record:
            group, self._to_record = self._to_record, []
            try:
                await self._record(group)
            except Exception:
                logger.warning("group record failed, recording one by one size=%d", len(group))
                for waiting in group:
                    try:
                        await self._record([waiting])
                    except Exception as error:
                        _resolve(waiting, error)
                    else:
                        _resolve(waiting, None)
            else:
                for waiting in group:
                    _resolve(waiting, None)

    async def _record(self, group: list[_Waiting]) -> None:
        pool = await self._connections()
        async with pool.acquire() as conn, conn.transaction():
            await self._recorder.record_group(conn, [waiting.finished for waiting in group])

    async def drain(self) -> None:
        """Wait until the sends in flight have finished and been recorded."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _resolve(waiting: _Waiting, error: Exception | None) -> None:
    if waiting.recorded.done():
        return
    if error is None:
        waiting.recorded.set_result(None)
    else:
        waiting.recorded.set_exception(error)
