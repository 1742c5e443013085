"""Giving a message up: its row in the inbox, its dead letter in the outbox, its count.

The inbox row is written in the same transaction as the dead letter, so a redelivered
message that was already given up is a duplicate, never a second dead letter. What the row
keeps of an unreadable record's type is bounded and printable (a ``ce_type`` may hold a NUL
byte, which a ``text`` column refuses, or a megabyte).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import asyncpg

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.registry import Registry
from binome_shared.messaging.bounded import INBOX_TEXT_CHARS, LOG_CHARS, printable
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError
from binome_shared.messaging.dead_letters import CODE_CHARS
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import Clock

logger = logging.getLogger(__name__)

RECORD_PROCESSED = """
INSERT INTO processed_messages (event_id, message_type, outcome) VALUES ($1, $2, $3)
ON CONFLICT (event_id) DO NOTHING
RETURNING true
"""

UNSTORABLE_OUTCOME = "unstorable_outcome"
"""Dead-letter code of a message whose outcome could not be stored as it was."""

_UNDECODABLE_NAMESPACE = uuid.UUID("6f1d4c1e-1c44-4b8e-9a57-3c3b1f0a2d11")
_UNKNOWN_TYPE = "(unknown)"


@dataclass(slots=True)
class Tally:
    """What a batch came to, reported once committed: messages by (type, outcome), dead
    letters by code."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)

    def copy(self) -> Tally:
        return Tally(Counter(self.outcomes), Counter(self.dead_letters))

    def restore(self, earlier: Tally) -> None:
        """Forget what an undone savepoint counted."""
        self.outcomes, self.dead_letters = earlier.outcomes, earlier.dead_letters


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a readable message is given up: refused by its handler, or failed every attempt."""

    code: str
    reason: str
    attempts: int
    outcome: Literal["rejected", "failed"]


@dataclass(frozen=True, slots=True)
class DeadLettering:
    """Gives messages up on behalf of one consumer group."""

    outbox: Outbox
    registry: Registry
    clock: Clock
    consumer_group: str

    async def refused(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        envelope: Envelope[Message],
        tally: Tally,
        verdict: Verdict,
    ) -> None:
        """A readable message a handler refused, or failed on every attempt."""
        logger.warning(
            "dead-lettering %s %s: %s",
            envelope.type,
            envelope.id,
            printable(verdict.code, limit=CODE_CHARS),
        )
        await self._give_up(
            conn,
            record,
            tally,
            identity=envelope.id,
            stored_type=envelope.type,
            label=envelope.type,
            outcome=verdict.outcome,
            code=verdict.code,
            reason=verdict.reason,
            attempts=verdict.attempts,
        )

    async def undecodable(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        error: UndecodableRecordError,
        tally: Tally,
    ) -> None:
        """A record that is not a readable message; its position stands for its id."""
        logger.warning("dead-lettering undecodable record from %s: %s", record.topic, error.code)
        await self._give_up(
            conn,
            record,
            tally,
            identity=record_identity(record),
            stored_type=printable(record.header("ce_type") or "(none)", limit=INBOX_TEXT_CHARS),
            label=self._type_label(record),
            outcome="undecodable",
            code=str(error.code),
            reason=error.reason,
            attempts=1,
        )

    async def unstorable(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        message: Envelope[Message] | UndecodableRecordError,
        error: Exception,
        tally: Tally,
    ) -> None:
        """The fallback when a message's outcome could not be stored: an inbox row and a
        dead-letter excerpt made only of what Postgres always takes (a uuid, bounded
        printable text, bytes), so the message is accounted for and the batch goes on."""
        if isinstance(message, Envelope):
            identity, label = message.id, message.type
        else:
            identity, label = record_identity(record), self._type_label(record)
        logger.error(
            "could not store the outcome of %s at %s[%d]@%d (%s: %s); dead-lettering an excerpt",
            label,
            record.topic,
            record.partition,
            record.offset,
            type(error).__name__,
            printable(str(error), limit=LOG_CHARS),
        )
        await self._give_up(
            conn,
            record,
            tally,
            identity=identity,
            stored_type=label,
            label=label,
            outcome="unstorable",
            code=UNSTORABLE_OUTCOME,
            reason=f"its outcome could not be stored: {type(error).__name__}: {error}",
            attempts=1,
            excerpt_only=True,
        )

    async def _give_up(
        self,
        conn: asyncpg.Connection,
        record: ReceivedRecord,
        tally: Tally,
        *,
        identity: uuid.UUID,
        stored_type: str,
        label: str,
        outcome: str,
        code: str,
        reason: str,
        attempts: int,
        excerpt_only: bool = False,
    ) -> None:
        if not await conn.fetchval(RECORD_PROCESSED, identity, stored_type, outcome):
            tally.outcomes[(label, "duplicate")] += 1
            return
        bounded_code = printable(code, limit=CODE_CHARS)
        await self.outbox.add_dead_letter(
            conn,
            record,
            code=bounded_code,
            reason=reason,
            consumer_group=self.consumer_group,
            attempts=attempts,
            failed_at=self.clock.now(),
            excerpt_only=excerpt_only,
        )
        tally.outcomes[(label, outcome)] += 1
        tally.dead_letters[bounded_code] += 1

    def _type_label(self, record: ReceivedRecord) -> str:
        """An unreadable record's type for metrics: a known type, else one fixed label, so a
        stream of made-up types cannot grow the metrics without bound."""
        message_type = record.header("ce_type")
        if message_type is not None and self.registry.knows(message_type):
            return message_type
        return _UNKNOWN_TYPE


def record_identity(record: ReceivedRecord) -> uuid.UUID:
    """A stable id for an unreadable record: where it sits, since its own id can't be trusted."""
    return uuid.uuid5(_UNDECODABLE_NAMESPACE, f"{record.topic}:{record.partition}:{record.offset}")
