"""An in-memory register of erased people, as the services' repository fakes keep it (the
same answers as :mod:`binome_shared.db.erasures` over a service's ``erased_participants``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import asyncpg

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.privacy_events import ErasureCompleted


class FakeErasures:
    """``record_erasure`` and ``erased_among`` over a dictionary; fakes inherit them."""

    def __init__(self) -> None:
        self.erased: dict[tuple[str, str], datetime] = {}

    async def record_erasure(self, tenant_id: str, participant_id: str, *, at: datetime) -> bool:
        if (tenant_id, participant_id) in self.erased:
            return False
        self.erased[tenant_id, participant_id] = at
        return True

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]:
        return {person for person in participant_ids if (tenant_id, person) in self.erased}

    async def hold_off_erasures(self, tenant_ids: Sequence[str]) -> None:
        """One fake transaction at a time: nothing to hold off (Postgres's lock is tested on
        the real database)."""

    def register_connection(self) -> asyncpg.Connection:
        """A stand-in for the unit of work's connection that answers only what the proof of
        an erasure reads from the register (the first erasure's time, on a repeat)."""
        return cast(asyncpg.Connection, _RegisterConnection(self))


class _RegisterConnection:
    def __init__(self, register: FakeErasures) -> None:
        self._register = register

    async def fetchval(self, query: str, tenant_id: str, participant_id: str) -> datetime | None:
        assert "FROM erased_participants" in query, f"not a read of the register: {query}"
        return self._register.erased.get((tenant_id, participant_id))

    async def execute(self, query: str, tenant_id: bytes, named: list[bytes]) -> str:
        # The outbox's copies live in the messaging core's table, which fakes do not keep:
        # the integration tests count what is forgotten there.
        assert "DELETE FROM outbox" in query, f"not the outbox's copies: {query}"
        assert tenant_id, query
        assert named, query
        assert all(name.startswith(b'"') for name in named), named
        return "DELETE 0"

    async def fetch(
        self, query: str, tenant_id: bytes, named: list[bytes], waiting_for: list[str]
    ) -> list[Any]:
        # The parked messages live in the messaging core's table too: nothing parked here.
        assert "DELETE FROM parked_messages" in query, f"not the parked messages: {query}"
        assert tenant_id, query
        assert all(name.startswith(b'"') for name in named), named
        assert all(name.startswith("pair:") for name in waiting_for), waiting_for
        return []


def proofs(envelopes: Iterable[Envelope[Any]]) -> list[ErasureCompleted]:
    """The proofs of erasure among published envelopes."""
    return [e.data for e in envelopes if isinstance(e.data, ErasureCompleted)]
