"""What the sessions service does with each message it consumes."""

from __future__ import annotations

from typing import Any

from binome_sessions.adapters import repository
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.messaging.consumer import UnitOfWork


async def on_pair_formed(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    """Start following a newly formed pair."""
    event: PairFormed = envelope.data
    await repository.add_pair(uow.conn, envelope=envelope, event=event)
    uow.release(f"pair:{event.pair_id}")
