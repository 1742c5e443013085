"""What PostgreSQL's command status says (the string asyncpg's ``execute`` returns)."""

from __future__ import annotations


def rows_affected(status: str) -> int:
    """How many rows a ``DELETE``, ``UPDATE`` or ``INSERT`` touched: the status's last word
    (``DELETE 3``, ``INSERT 0 3``)."""
    return int(status.rsplit(" ", 1)[1])
