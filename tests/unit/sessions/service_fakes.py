"""In-memory stand-ins for the sessions service's storage and outbox, and message builders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, cast

import asyncpg

from binome_sessions.bootstrap import definition
from binome_sessions.domain import PairStatus, PairTrack
from binome_sessions.storage import PairKey, PairRecord, ProgrammeRecord
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme, ProgrammeContact
from binome_shared.contracts.pairing_events import PairExplanation, PairFormed, PairSide
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.values import LocalisedText
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.routes import UnitOfWork, dispatch
from binome_shared.messaging.scheduler import Job
from tests.support.erasures import FakeErasures

TENANT = "groupe-exemple"
PROGRAMME = "prog-2027"
FORMED_AT = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def make_plan(**overrides: Any) -> SessionPlan:
    fields: dict[str, Any] = {"starts_on": date(2027, 1, 11), "ends_on": date(2027, 6, 30)}
    fields.update(overrides)
    return SessionPlan.model_validate(fields)


class FakeTracks(FakeErasures):
    """A TrackRepository over dictionaries keyed by (tenant, id), as the tables are, with the
    same version check as Postgres."""

    def __init__(self) -> None:
        super().__init__()
        self.programmes: dict[tuple[str, str], ProgrammeRecord] = {}
        self.pairs: dict[PairKey, PairRecord] = {}
        self.saves = 0
        self.unfollowed: set[PairKey] = set()

    async def programme(self, tenant_id: str, programme_id: str) -> ProgrammeRecord | None:
        return self.programmes.get((tenant_id, programme_id))

    async def save_programme(
        self, programme: ProgrammeRecord, *, defined_at: datetime, event_id: uuid.UUID
    ) -> None:
        del defined_at, event_id
        self.programmes[programme.tenant_id, programme.programme_id] = programme

    async def pair_for_update(self, tenant_id: str, pair_id: str) -> PairRecord | None:
        record = self.pairs.get((tenant_id, pair_id))
        if record is None or record.track is None:
            return record
        # A fresh copy, as a database read would give.
        return replace(record, track=PairTrack.from_dict(record.track.to_dict()))

    async def pair_for_formation(
        self, tenant_id: str, pair_id: str, members: Sequence[str]
    ) -> PairRecord | None:
        del members  # no concurrent erasure in a unit test: nothing to wait for
        return await self.pair_for_update(tenant_id, pair_id)

    async def add(
        self, track: PairTrack, *, tenant_id: str, formed_by_event_id: uuid.UUID, now: datetime
    ) -> bool:
        del formed_by_event_id, now
        if (tenant_id, track.pair_id) in self.pairs:
            return False
        self.pairs[tenant_id, track.pair_id] = self._record(track, tenant_id=tenant_id)
        return True

    async def save(self, record: PairRecord, track: PairTrack, *, now: datetime) -> None:
        del now
        key = (record.tenant_id, record.pair_id)
        assert self.pairs[key].version == record.version, "concurrent update"
        self.pairs[key] = self._record(track, tenant_id=record.tenant_id)
        self.saves += 1

    async def unstarted_pairs(self, tenant_id: str, programme_id: str) -> list[PairRecord]:
        return [
            record
            for record in self.pairs.values()
            if (record.tenant_id, record.programme_id) == (tenant_id, programme_id)
            and record.track is None
        ]

    async def pairs_of_person(self, tenant_id: str, participant_id: str) -> list[PairRecord]:
        found = [
            record
            for record in self.pairs.values()
            if record.tenant_id == tenant_id
            and participant_id in (record.mentor_id, record.mentee_id)
        ]
        return [await self._fresh(record) for record in found]

    async def unfollow_pair(self, pair_id: str, *, tenant_id: str, at: datetime) -> None:
        del at
        self.unfollowed.add((tenant_id, pair_id))

    async def is_unfollowed(self, tenant_id: str, pair_id: str) -> bool:
        return (tenant_id, pair_id) in self.unfollowed

    async def due_for_follow_up(
        self, now: datetime, *, limit: int, after: PairKey | None = None
    ) -> list[PairRecord]:
        due = []
        for key, record in sorted(self.pairs.items()):
            track = record.track
            if track is None or track.status is not PairStatus.ACTIVE:
                continue
            if after is not None and key <= after:
                continue
            dues = (track.stall_due_at(), track.programme_closes_at(), track.next_pulse_due_at())
            if any(due is not None and due <= now for due in dues):
                due.append(await self._fresh(record))
        return due[:limit]

    async def tracks_of_programme(self, tenant_id: str, programme_id: str) -> list[PairTrack]:
        return [
            PairTrack.from_dict(record.track.to_dict())
            for record in self.pairs.values()
            if (record.tenant_id, record.programme_id) == (tenant_id, programme_id)
            and record.track is not None
        ]

    async def programmes_to_report(self, closed_since: datetime) -> list[ProgrammeRecord]:
        del closed_since
        return [
            programme
            for key, programme in self.programmes.items()
            if any((r.tenant_id, r.programme_id) == key for r in self.pairs.values())
        ]

    def track(self, pair_id: str, tenant_id: str = TENANT) -> PairTrack:
        track = self.pairs[tenant_id, pair_id].track
        assert track is not None
        return track

    async def _fresh(self, record: PairRecord) -> PairRecord:
        return await self.pair_for_update(record.tenant_id, record.pair_id) or record

    @staticmethod
    def _record(track: PairTrack, *, tenant_id: str) -> PairRecord:
        return PairRecord(
            pair_id=track.pair_id,
            tenant_id=tenant_id,
            programme_id=track.programme_id,
            mentor_id=track.mentor_id,
            mentee_id=track.mentee_id,
            mentor_business_unit=track.mentor_business_unit,
            mentee_business_unit=track.mentee_business_unit,
            formed_at=track.formed_at,
            version=track.version,
            track=PairTrack.from_dict(track.to_dict()),
        )


class FakeOutbox:
    """Collects what a handler publishes."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope[Any]] = []

    async def add(self, conn: Any, envelope: Envelope[Any]) -> None:
        del conn
        self.envelopes.append(envelope)

    def types(self) -> list[str]:
        return [type(envelope.data).__name__ for envelope in self.envelopes]


def unit_of_work(
    outbox: FakeOutbox, now: datetime, *, conn: asyncpg.Connection | None = None
) -> UnitOfWork:
    return UnitOfWork(
        conn=cast(asyncpg.Connection, conn),
        outbox=cast(Outbox, outbox),
        now=now,
        source="/binome/sessions",
    )


def envelope(
    data: Message,
    *,
    time: datetime = FORMED_AT,
    tenant_id: str = TENANT,
    programme_id: str = PROGRAMME,
) -> Envelope[Any]:
    return Envelope.new(
        data,
        source="/hr/test",
        time=time,
        tenant_id=tenant_id,
        programme_id=programme_id,
    )


def pair_formed(
    pair_id: str = "pair-1",
    *,
    mentor: str = "M1",
    mentee: str = "E1",
    mentee_unit: str = "Finance",
    mentor_trained: bool = True,
) -> PairFormed:
    return PairFormed(
        pair_id=pair_id,
        round_id="round-1",
        mentor=PairSide(participant_id=mentor, business_unit="Digital"),
        mentee=PairSide(participant_id=mentee, business_unit=mentee_unit),
        explanation=PairExplanation(
            score=0.8,
            breakdown={"needs_coverage": 0.8},
            summary=LocalisedText(fr="Bon binôme", en="Good pair"),
        ),
        mentor_trained=mentor_trained,
    )


def define_programme(plan: SessionPlan | None = None) -> DefineProgramme:
    plan = plan or make_plan()
    return DefineProgramme(
        name="Mentorat inversé 2027",
        organisation_name="Groupe Exemple",
        rules=ProgrammeRules(starts_on=plan.starts_on),
        session_plan=plan,
        contact=ProgrammeContact(name="Claire Dubois", email="claire.dubois@example.com"),
    )


class Service:
    """The sessions service's definition over fakes, and a way to feed it messages."""

    def __init__(self) -> None:
        self.tracks = FakeTracks()
        self.outbox = FakeOutbox()
        self.definition = definition(repository=lambda conn: self.tracks)
        self.now = FORMED_AT
        self.released: list[str] = []

    async def handle(self, message: Any, **context: Any) -> None:
        await self.handle_envelope(envelope(message, **context))

    async def handle_envelope(self, wrapped: Envelope[Message]) -> None:
        uow = unit_of_work(self.outbox, self.now, conn=self.tracks.register_connection())
        await dispatch(self.definition.routes[type(wrapped.data)], [wrapped], uow)
        self.released.extend(uow.released)

    async def run_job(self, job_type: str) -> None:
        job = Job(
            job_id=f"periodic:{job_type}",
            job_type=job_type,
            due_at=self.now,
            payload={},
            attempts=0,
        )
        await self.definition.jobs[job_type](job, unit_of_work(self.outbox, self.now))

    async def formed(
        self, pair_id: str = "pair-1", *, tenant_id: str = TENANT, **kwargs: Any
    ) -> None:
        if (tenant_id, PROGRAMME) not in self.tracks.programmes:
            await self.handle(define_programme(), tenant_id=tenant_id)
        await self.handle(pair_formed(pair_id, **kwargs), tenant_id=tenant_id)


def trackless_pair(pair_id: str, *, programme_id: str = PROGRAMME) -> PairRecord:
    """A pair stored before plans were (migration 0001): its track starts with its programme."""
    return PairRecord(
        pair_id=pair_id,
        tenant_id=TENANT,
        programme_id=programme_id,
        mentor_id="M9",
        mentee_id="E9",
        mentor_business_unit="Digital",
        mentee_business_unit="RH",
        formed_at=FORMED_AT,
        version=0,
        track=None,
    )
