"""Bounded, sanitised copies of values that came from a record, for columns, headers and logs.

Anything in a record may be hostile: a NUL byte (which a Postgres ``text`` column refuses), a
line break (which forges a log line), a megabyte (which no index row takes and no log should
carry). What the messaging core stores or logs about a record goes through these first.
"""

from __future__ import annotations

import hashlib

INBOX_TEXT_CHARS = 200
"""Bound on what the inbox and the parking table key on (message type, waiting-for)."""
REASON_CHARS = 2_000
"""Bound on a human reason (parking reason, dead-letter reason)."""
LOG_CHARS = 200
"""Bound on a value quoted in a log line."""

_KEY_PREFIX_CHARS = 48


def printable(text: str, *, limit: int) -> str:
    """``text`` with control characters, NUL and lone surrogates escaped (``\\x00``,
    ``\\n``, ``\\udc80``), cut to at most ``limit`` characters; a cut ends with the
    original length, so a reader knows something is missing."""
    if len(text) <= limit and text.isprintable():
        return text  # the usual case, untouched
    head = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text[:limit])
    if len(head) <= limit and len(text) <= limit:
        return head
    suffix = f"…({len(text)} chars)"
    return head[: max(limit - len(suffix), 0)] + suffix


def storable_key(text: str, *, limit: int = INBOX_TEXT_CHARS) -> str:
    """A stable stand-in for ``text`` that a ``text`` column and its index always take.

    Short printable text stays as it is. Anything else becomes a readable prefix and the
    SHA-256 of the whole: the same input always gives the same key (so a release finds what
    was parked under it), and two different inputs practically never share one.
    """
    if len(text) <= limit and text.isprintable():
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{printable(text, limit=_KEY_PREFIX_CHARS)}#sha256:{digest}"


def storable_text(text: str) -> str:
    """``text`` as Postgres ``text`` takes it: NUL and lone surrogates escaped, nothing cut."""
    if "\x00" not in text and text.isascii():
        return text  # header names almost always
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def excerpt(data: bytes | None, *, limit: int) -> bytes:
    """The first ``limit`` bytes of ``data`` (nothing for a null)."""
    return (data or b"")[:limit]
