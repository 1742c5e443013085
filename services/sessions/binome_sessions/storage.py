"""What the service needs from storage: the rows it reads, as typed records, and the
repository Protocol its handlers and jobs are given (Postgres in production, in
``adapters/repository.py``; an in-memory fake in unit tests)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from binome_sessions.domain import PairTrack
from binome_shared.contracts.session_plan import SessionPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class PairRecord:
    """A stored pair: its identity columns, and its track once the programme's plan is known.

    ``track`` is None only for pairs recorded before plans were stored (migration 0001): their
    track starts when their programme is defined.
    """

    pair_id: str
    tenant_id: str
    programme_id: str
    mentor_id: str
    mentee_id: str
    mentor_business_unit: str
    mentee_business_unit: str
    formed_at: datetime
    version: int
    track: PairTrack | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeRecord:
    """A defined programme: its tenant and its session plan."""

    programme_id: str
    tenant_id: str
    plan: SessionPlan


PairKey = tuple[str, str]
"""A pair's identity: (tenant id, pair id). Pair ids are unique only within a tenant."""


class TrackRepository(Protocol):
    """What handlers and jobs need from storage (Postgres in production, a fake in unit tests).

    Everything a tenant owns is looked up within that tenant: two tenants may use the same
    programme id and the same pair id. Only the scheduled jobs go across tenants, and what
    they return carries its tenant.
    """

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None: ...

    async def save_programme(
        self, programme: ProgrammeRecord, *, defined_at: datetime, event_id: uuid.UUID
    ) -> None: ...

    async def pair_for_update(self, tenant_id: str, pair_id: str) -> PairRecord | None: ...

    async def pair_for_formation(
        self, tenant_id: str, pair_id: str, members: Sequence[str]
    ) -> PairRecord | None: ...

    async def add(
        self, track: PairTrack, *, tenant_id: str, formed_by_event_id: uuid.UUID, now: datetime
    ) -> bool: ...

    async def save(self, record: PairRecord, track: PairTrack, *, now: datetime) -> None: ...

    async def unstarted_pairs(self, tenant_id: str, programme_id: str) -> list[PairRecord]: ...

    async def pairs_of_person(self, tenant_id: str, participant_id: str) -> list[PairRecord]: ...

    async def record_erasure(
        self, tenant_id: str, participant_id: str, *, at: datetime
    ) -> bool: ...

    async def erased_among(self, tenant_id: str, participant_ids: Sequence[str]) -> set[str]: ...

    async def unfollow_pair(self, pair_id: str, *, tenant_id: str, at: datetime) -> None: ...

    async def is_unfollowed(self, tenant_id: str, pair_id: str) -> bool: ...

    async def due_for_follow_up(
        self, now: datetime, *, limit: int, after: PairKey | None = None
    ) -> list[PairRecord]:
        """Up to ``limit`` active pairs, of any tenant, stalled or over by ``now``, in
        (tenant, pair) order, after the ``after`` pair: the follow-up goes through them in
        batches."""
        ...

    async def tracks_of_programme(self, tenant_id: str, programme_id: str) -> list[PairTrack]:
        """The started tracks of one tenant's programme (another tenant may reuse its id)."""
        ...

    async def programmes_to_report(self, closed_since: datetime) -> list[ProgrammeRecord]: ...


RepositoryFactory = Callable[[asyncpg.Connection], TrackRepository]
"""Opens the repository on a unit of work's connection (a fake one in unit tests)."""
