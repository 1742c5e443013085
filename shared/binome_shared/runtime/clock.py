"""Where "now" comes from: the system clock, or a simulated one the demo and tests move.

A simulated clock lets the demo play six months of a programme in minutes, through the very
code paths production uses (the durable schedule, stall detection, reminders).
"""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time, timezone-aware."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until moved forward (never backward)."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Move to ``moment`` if it is later; returns the clock's time afterwards."""
        if moment.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware time")
        self._now = max(self._now, moment.astimezone(UTC))
        return self._now
