"""Reading a batch's records into what the consumer acts on, before any transaction.

A record becomes an :class:`~binome_shared.contracts.base.Envelope` of a routed type, an
:class:`UndecodableRecordError` (dead-lettered with its reason), or :class:`Ignored`: topics
are shared, and another service's message is not ours to parse or to judge.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging.bounded import LOG_CHARS, printable
from binome_shared.messaging.cloudevents import (
    ReceivedRecord,
    RejectionCode,
    UndecodableRecordError,
    decode,
)

__all__ = ["Ignored", "Read", "read", "try_decode"]


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message of a known type that this service does not handle."""

    type: str


Read = Envelope[Message] | UndecodableRecordError | Ignored
"""What a record is to this consumer."""


def read(record: ReceivedRecord, registry: Registry, routed_types: Set[str]) -> Read:
    """Decode what this service handles; a known type it does not handle is not even parsed
    (its ``ce_type`` header says enough)."""
    message_type = record.header("ce_type")
    if (
        message_type is not None
        and message_type not in routed_types
        and registry.knows(message_type)
    ):
        return Ignored(message_type)
    return try_decode(record, registry)


def try_decode(
    record: ReceivedRecord, registry: Registry
) -> Envelope[Message] | UndecodableRecordError:
    """The envelope, or why the record cannot be one (never an exception: one bad record
    must not stop its batch)."""
    try:
        return decode(record, registry)
    except UndecodableRecordError as error:
        return error
    except Exception as error:  # a reader's own bug must not jam the partition: dead-letter
        return UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"unreadable record ({type(error).__name__}: {printable(str(error), limit=LOG_CHARS)})",
        )
