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
    """A PairingRepository over dictionaries, keyed as the Postgres tables are."""

    def __init__(self) -> None:
        super().__init__()
        self.programmes: dict[str, DefineProgramme] = {}
        self.tenants: dict[str, str] = {}
        self.rounds: dict[str, int] = {}
        self.statuses: dict[tuple[str, str], ParticipantStatus] = {}
        self.profiles: dict[tuple[str, str], ParticipantProfile | None] = {}
        self.lines: dict[tuple[str, str], str] = {}
        self.pairs: dict[str, PairRecord] = {}
        self.writes: list[int] = []
        """How many participants (or pairs, negative) each ``executemany`` wrote."""

    async def programme(self, programme_id: str) -> DefineProgramme | None:
        return self.programmes.get(programme_id)

    async def save_programme(
        self, programme_id: str, *, tenant_id: str, definition: DefineProgramme, at: datetime
    ) -> None:
        del at
        self.programmes[programme_id] = definition
        self.tenants[programme_id] = tenant_id
        self.rounds.setdefault(programme_id, 0)

    async def rounds_run(self, programme_id: str) -> int:
        return self.rounds.get(programme_id, 0)

    async def count_round(self, programme_id: str) -> None:
        self.rounds[programme_id] += 1

    async def participant_statuses(
        self, programme_id: str, participant_ids: Sequence[str]
    ) -> dict[str, ParticipantStatus]:
        return {
            person: self.statuses[programme_id, person]
            for person in participant_ids
            if (programme_id, person) in self.statuses
        }

    async def save_participants(
        self, programme_id: str, profiles: Sequence[ParticipantProfile], *, at: datetime
    ) -> None:
        del at
        for profile in profiles:
            self.statuses[programme_id, profile.participant_id] = ParticipantStatus.ENROLLED
            self.profiles[programme_id, profile.participant_id] = profile
        self.writes.append(len(profiles))

    async def set_participant_status(
        self, programme_id: str, participant_id: str, status: ParticipantStatus, *, at: datetime
    ) -> None:
        del at
        self.statuses[programme_id, participant_id] = status

    async def erase_participant(
        self, programme_id: str, participant_id: str, *, at: datetime
    ) -> None:
        del at
        self.statuses[programme_id, participant_id] = ParticipantStatus.ERASED
        self.profiles[programme_id, participant_id] = None
        self.lines = {
            key: manager
            for key, manager in self.lines.items()
            if key[0] != programme_id or participant_id not in (key[1], manager)
        }

    async def programmes_holding(self, tenant_id: str, participant_id: str) -> list[str]:
        return sorted(
            programme
            for (programme, person), status in self.statuses.items()
            if person == participant_id
            and self.tenants[programme] == tenant_id
            and status is not ParticipantStatus.ERASED
        )

    async def enrolled_profiles_json(self, programme_id: str) -> list[str]:
        return [
            profile.model_dump_json()
            for (programme, person), profile in sorted(self.profiles.items())
            if programme == programme_id
            and profile is not None
            and self.statuses[programme, person] is ParticipantStatus.ENROLLED
            and (self.tenants[programme], person) not in self.erased
        ]

    async def save_reporting_lines(self, programme_id: str, lines: Sequence[ReportingLine]) -> None:
        for line in lines:
            self.lines[programme_id, line.employee_id] = line.manager_id

    async def reporting_lines(self, programme_id: str) -> list[ReportingLine]:
        return [
            ReportingLine(employee_id=employee, manager_id=manager)
            for (programme, employee), manager in self.lines.items()
            if programme == programme_id
        ]

    async def pairs_with_status(
        self, programme_id: str, statuses: Sequence[PairStatus]
    ) -> list[StoredPair]:
        return [
            _stored(pair)
            for pair in self.pairs.values()
            if pair.programme_id == programme_id and pair.status in statuses
        ]

    async def active_pairs_of(self, programme_id: str, participant_id: str) -> list[StoredPair]:
        return [
            pair
            for pair in await self.pairs_with_status(programme_id, ACTIVE_PAIR_STATUSES)
            if participant_id in (pair.mentor_id, pair.mentee_id)
        ]

    async def pair(self, pair_id: str) -> PairRecord | None:
        return self.pairs.get(pair_id)

    async def add_pairs(self, pairs: Sequence[PairRecord]) -> None:
        for pair in pairs:
            assert pair.pair_id not in self.pairs, "pairs.pair_id is the primary key"
            self.pairs[pair.pair_id] = pair
        self.writes.append(-len(pairs))

    async def decide_pair(self, pair_id: str, status: PairStatus, *, at: datetime) -> None:
        self.pairs[pair_id] = replace(self.pairs[pair_id], status=status, decided_at=at)

    async def supersede_proposals(self, programme_id: str, *, at: datetime) -> None:
        for pair in list(self.pairs.values()):
            if pair.programme_id == programme_id and pair.status is PairStatus.PROPOSED:
                await self.decide_pair(pair.pair_id, PairStatus.SUPERSEDED, at=at)

    def with_status(self, status: PairStatus) -> list[PairRecord]:
        return [pair for pair in self.pairs.values() if pair.status is status]


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


def envelope(data: Message, *, programme_id: str = PROGRAMME) -> Envelope[Any]:
    return Envelope.new(
        data, source="/hr/test", time=NOW, tenant_id=TENANT, programme_id=programme_id
    )
