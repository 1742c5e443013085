"""What a handler raises to tell the messaging core how a message turned out, and the
failures that are the infrastructure's, not the message's."""

from __future__ import annotations

import asyncpg


class RejectedError(Exception):
    """The message is well formed but cannot be acted on (a business rule says no).

    It is dead-lettered at once with ``code`` and ``reason``; retrying would not help.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class AwaitingPrerequisiteError(Exception):
    """The message is about something this service has not seen yet.

    It is parked until a handler announces ``waiting_for`` (``uow.release(...)``), then
    replayed; if that never happens within the parking time-out it is dead-lettered.
    """

    def __init__(self, waiting_for: str, reason: str) -> None:
        super().__init__(f"waiting for {waiting_for}: {reason}")
        self.waiting_for = waiting_for
        self.reason = reason


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
