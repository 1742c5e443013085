"""What the notifications service does with each message it consumes."""

from __future__ import annotations

import hashlib
from typing import Any

from binome_notifications.adapters import deliveries
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.messaging.consumer import UnitOfWork


def delivery_key(kind: str, subject_id: str, recipient_id: str) -> str:
    """Stable identity of "this reason, for this person": the at-most-once key."""
    return hashlib.sha256(f"{kind}|{subject_id}|{recipient_id}".encode()).hexdigest()


async def on_pair_formed(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    """Plan an introduction for each member of the new pair."""
    event: PairFormed = envelope.data
    for person in (event.mentor, event.mentee):
        await deliveries.plan(
            uow.conn,
            delivery_key=delivery_key("introduction", event.pair_id, person.participant_id),
            kind="introduction",
            recipient_id=person.participant_id,
            programme_id=envelope.programme_id,
            subject_id=event.pair_id,
            caused_by=envelope.id,
        )
