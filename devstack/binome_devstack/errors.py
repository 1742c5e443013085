"""What can go wrong while running the local stack, as exceptions the CLI maps to exit codes."""

from __future__ import annotations

from collections.abc import Sequence


class StackError(Exception):
    """A failure a developer can act on; the message says what to do."""

    exit_code: int = 1


class MissingToolError(StackError):
    """A program the stack needs (java, mvn, PostgreSQL 15...) is not installed."""

    exit_code = 2

    def __init__(self, message: str, *, tools: Sequence[str]) -> None:
        super().__init__(message)
        self.tools = tuple(tools)


class PortInUseError(StackError):
    """A port the stack wants is held by a process the stack did not start."""

    def __init__(self, message: str, *, port: int, variable: str) -> None:
        super().__init__(message)
        self.port = port
        self.variable = variable


class NotReadyError(StackError):
    """A server was started but did not answer a real request in time."""
