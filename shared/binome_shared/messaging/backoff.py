"""Waiting out infrastructure outages: capped exponential backoff that a shutdown can cut short."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


class Backoff:
    """Capped exponential delays: first, 2×first, 4×first, … up to cap."""

    def __init__(self, *, first: float = 0.2, cap: float = 10.0) -> None:
        self._first = first
        self._cap = cap
        self._attempt = 0

    def next(self) -> float:
        delay = min(self._cap, self._first * 2.0**self._attempt)
        self._attempt += 1
        return delay

    def reset(self) -> None:
        self._attempt = 0


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def keep_trying(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    stop: asyncio.Event,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> T | None:
    """Call ``attempt`` until it succeeds (its result) or ``stop`` is set (None), waiting
    between tries: a service starts before its database or broker and waits for them."""
    backoff = Backoff(first=0.5, cap=5.0)
    while not stop.is_set():
        try:
            return await attempt()
        except retry_on as error:
            delay = backoff.next()
            logger.warning(
                "%s unavailable (%s); retrying in %.1f s", what, type(error).__name__, delay
            )
            await sleep_unless(stop, delay)
    return None
