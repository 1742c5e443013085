"""Waiting out infrastructure outages: capped exponential backoff that a shutdown can cut short."""

from __future__ import annotations

import asyncio
import contextlib


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
