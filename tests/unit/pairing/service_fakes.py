"""In-memory stand-ins for the pairing service's storage and outbox, and command builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from binome_pairing.adapters.repository import PairRecord, StoredPair
from binome_pairing.domain.lifecycle import ACTIVE_PAIR_STATUSES, PairStatus, ParticipantStatus
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork
from tests.support.erasures import FakeErasures

TENANT = "groupe-exemple"
PROGRAMME = "prog-2027"
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


class FakePairing(FakeErasures):
    """A PairingRepository over dictionaries, keyed as the Postgres tables are: every key
    leads with the tenant, and every method sees only the tenant it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.programmes: dict[tuple[str, str], DefineProgramme] = {}
        self.rounds: dict[tuple[str, str], int] = {}
        self.statuses: dict[tuple[str, str, str], ParticipantStatus] = {}
        self.profiles: dict[tuple[str, str, str], ParticipantProfile | None] = {}
        self.lines: dict[tuple[str, str, str], str] = {}
        self.pairs: dict[tuple[str, str], PairRecord] = {}
        self.writes: list[int] = []
        """How many participants (or pairs, negative) each ``executemany`` wrote."""

    async def programme(self, tenant_id: str, programme_id: str) -> DefineProgramme | None:
        return self.programmes.get((tenant_id, programme_id))

    async def save_programme(
        self, tenant_id: str, programme_id: str, *, definition: DefineProgramme, at: datetime
    ) -> None:
        del at
        self.programmes[tenant_id, programme_id] = definition
        self.rounds.setdefault((tenant_id, programme_id), 0)

    async def rounds_run(self, tenant_id: str, programme_id: str) -> int:
        return self.rounds.get((tenant_id, programme_id), 0)

    async def count_round(self, tenant_id: str, programme_id: str) -> None:
        self.rounds[tenant_id, programme_id] += 1

    async def participant_statuses(
        self, tenant_id: str, programme_id: str, participant_ids: Sequence[str]
    ) -> dict[str, ParticipantStatus]:
        return {
            person: self.statuses[tenant_id, programme_id, person]
            for person in participant_ids
            if (tenant_id, programme_id, person) in self.statuses
        }

    async def save_participants(
        self,
        tenant_id: str,
        programme_id: str,
        profiles: Sequence[ParticipantProfile],
        *,
        at: datetime,
    ) -> None:
        del at
        assert (tenant_id, programme_id) in self.programmes, "the foreign key"
        for profile in profiles:
            key = (tenant_id, programme_id, profile.participant_id)
            self.statuses[key] = ParticipantStatus.ENROLLED
            self.profiles[key] = profile
        self.writes.append(len(profiles))

    async def set_participant_status(
        self,
        tenant_id: str,
        programme_id: str,
        participant_id: str,
        status: ParticipantStatus,
        *,
        at: datetime,
    ) -> None:
        del at
        self.statuses[tenant_id, programme_id, participant_id] = status

    async def erase_participant(
        self, tenant_id: str, programme_id: str, participant_id: str, *, at: datetime
    ) -> None:
        del at
        self.statuses[tenant_id, programme_id, participant_id] = ParticipantStatus.ERASED
        self.profiles[tenant_id, programme_id, participant_id] = None
        self.lines = {
            key: manager
            for key, manager in self.lines.items()
            if key[:2] != (tenant_id, programme_id) or participant_id not in (key[2], manager)
        }

    async def programmes_holding(self, tenant_id: str, participant_id: str) -> list[str]:
        return sorted(
            programme
            for (tenant, programme, person), status in self.statuses.items()
            if (tenant, person) == (tenant_id, participant_id)
            and status is not ParticipantStatus.ERASED
        )

    async def enrolled_profiles_json(self, tenant_id: str, programme_id: str) -> list[str]:
        return [
            profile.model_dump_json()
            for (tenant, programme, person), profile in sorted(self.profiles.items())
            if (tenant, programme) == (tenant_id, programme_id)
            and profile is not None
            and self.statuses[tenant, programme, person] is ParticipantStatus.ENROLLED
            and (tenant, person) not in self.erased
        ]

    async def job_grade(self, tenant_id: str, programme_id: str, participant_id: str) -> int | None:
        profile = self.profiles.get((tenant_id, programme_id, participant_id))
        return None if profile is None else profile.job_grade

    async def save_reporting_lines(
        self, tenant_id: str, programme_id: str, lines: Sequence[ReportingLine]
    ) -> None:
        for line in lines:
            self.lines[tenant_id, programme_id, line.employee_id] = line.manager_id

    async def reporting_lines(self, tenant_id: str, programme_id: str) -> list[ReportingLine]:
        return [
            ReportingLine(employee_id=employee, manager_id=manager)
            for (tenant, programme, employee), manager in self.lines.items()
            if (tenant, programme) == (tenant_id, programme_id)
        ]

    async def pairs_with_status(
        self, tenant_id: str, programme_id: str, statuses: Sequence[PairStatus]
    ) -> list[StoredPair]:
        return [
            _stored(pair)
            for (tenant, _), pair in self.pairs.items()
            if (tenant, pair.programme_id) == (tenant_id, programme_id) and pair.status in statuses
        ]

    async def active_pairs_of(
        self, tenant_id: str, programme_id: str, participant_id: str
    ) -> list[StoredPair]:
        return [
            pair
            for pair in await self.pairs_with_status(tenant_id, programme_id, ACTIVE_PAIR_STATUSES)
            if participant_id in (pair.mentor_id, pair.mentee_id)
        ]

    async def pair(self, tenant_id: str, pair_id: str) -> PairRecord | None:
        return self.pairs.get((tenant_id, pair_id))

    async def add_pairs(self, tenant_id: str, pairs: Sequence[PairRecord]) -> None:
        for pair in pairs:
            key = (tenant_id, pair.pair_id)
            assert key not in self.pairs, "pairs' primary key is (tenant_id, pair_id)"
            self.pairs[key] = pair
        self.writes.append(-len(pairs))

    async def decide_pair(
        self, tenant_id: str, pair_id: str, status: PairStatus, *, at: datetime
    ) -> None:
        key = (tenant_id, pair_id)
        self.pairs[key] = replace(self.pairs[key], status=status, decided_at=at)

    async def supersede_proposals(self, tenant_id: str, programme_id: str, *, at: datetime) -> None:
        for pair in await self.pairs_with_status(tenant_id, programme_id, [PairStatus.PROPOSED]):
            await self.decide_pair(tenant_id, pair.pair_id, PairStatus.SUPERSEDED, at=at)

    def with_status(self, status: PairStatus, tenant_id: str = TENANT) -> list[PairRecord]:
        return [
            pair
            for (tenant, _), pair in self.pairs.items()
            if tenant == tenant_id and pair.status is status
        ]


def _stored(pair: PairRecord) -> StoredPair:
    return StoredPair(
        pair.pair_id, pair.mentor.participant_id, pair.mentee.participant_id, pair.status
    )


class FakeOutbox:
    """Collects what a handler publishes, and how many envelopes each call wrote."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope[Any]] = []
        self.calls: list[int] = []

    async def add(self, conn: Any, envelope: Envelope[Any]) -> None:
        await self.add_many(conn, [envelope])

    async def add_many(self, conn: Any, envelopes: Sequence[Envelope[Any]]) -> None:
        del conn
        self.envelopes.extend(envelopes)
        self.calls.append(len(envelopes))

    def types(self) -> list[str]:
        return [type(envelope.data).__name__ for envelope in self.envelopes]

    def of_type(self, message_type: type[Message]) -> list[Any]:
        return [e.data for e in self.envelopes if isinstance(e.data, message_type)]


def unit_of_work(
    outbox: FakeOutbox, now: datetime = NOW, *, conn: asyncpg.Connection | None = None
) -> UnitOfWork:
    return UnitOfWork(
        conn=cast(asyncpg.Connection, conn),
        outbox=cast(Outbox, outbox),
        now=now,
        source="/binome/pairing",
    )


def envelope(
    data: Message, *, programme_id: str = PROGRAMME, tenant_id: str = TENANT
) -> Envelope[Any]:
    return Envelope.new(
        data, source="/hr/test", time=NOW, tenant_id=tenant_id, programme_id=programme_id
    )
