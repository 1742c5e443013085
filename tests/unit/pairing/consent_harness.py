"""Pairing's handlers wired with consent storage over fakes: the service harness plus an
in-memory ``pair_consents`` table and a way to run the deadline sweep at a given time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from binome_pairing.adapters.consents import ConsentRecord, OverdueConsent
from binome_pairing.consent import CONSENT_DEADLINES
from binome_pairing.domain.consent import PairConsent
from binome_pairing.handlers import MessageHandlers
from binome_pairing.rounds import solve_in_process
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import RequestMatching
from binome_shared.contracts.programme import ApprovalMode, ParticipantConsent
from binome_shared.messaging.routes import dispatch
from binome_shared.messaging.scheduler import Job

from .pairing_builders import mentee, mentor, need, rules, skill
from .service_fakes import NOW, TENANT, FakePairing, envelope, unit_of_work
from .service_harness import Service

WITHIN = timedelta(hours=48)
"""The programme's deadline in these tests."""


class FakeConsents:
    """``pair_consents`` over a dictionary keyed (tenant_id, pair_id), as the table is."""

    def __init__(self, pairing: FakePairing) -> None:
        self.pairing = pairing
        self.rows: dict[tuple[str, str], tuple[ConsentRecord, bool]] = {}

    async def ask(
        self, tenant_id: str, pair_ids: Sequence[str], *, respond_by: datetime, at: datetime
    ) -> None:
        del at
        for pair_id in pair_ids:
            assert (tenant_id, pair_id) in self.pairing.pairs, "the foreign key"
            self.rows[tenant_id, pair_id] = (
                ConsentRecord(respond_by=respond_by, mentor_answer=None, mentee_answer=None),
                False,
            )

    async def consent(self, tenant_id: str, pair_id: str) -> ConsentRecord | None:
        row = self.rows.get((tenant_id, pair_id))
        return None if row is None else row[0]

    async def save(self, tenant_id: str, consent: PairConsent, *, at: datetime) -> None:
        del at
        record, _ = self.rows[tenant_id, consent.pair_id]
        answers = replace(
            record, mentor_answer=consent.mentor_answer, mentee_answer=consent.mentee_answer
        )
        self.rows[tenant_id, consent.pair_id] = (answers, consent.settled)

    async def overdue(self, now: datetime, *, limit: int) -> list[OverdueConsent]:
        due = sorted(
            (tenant, self.pairing.pairs[tenant, pair_id].programme_id, pair_id)
            for (tenant, pair_id), (record, settled) in self.rows.items()
            if not settled and record.respond_by <= now
        )
        return [OverdueConsent(tenant_id=t, programme_id=p, pair_id=i) for t, p, i in due[:limit]]

    async def settle(self, tenant_id: str, pair_id: str, *, at: datetime) -> None:
        del at
        record, _ = self.rows[tenant_id, pair_id]
        self.rows[tenant_id, pair_id] = (record, True)


class ConsentService(Service):
    """The harness with consent storage, and the periodic deadline sweep at hand."""

    def __init__(self) -> None:
        super().__init__()
        self.consents = FakeConsents(self.pairing)
        self.handlers = MessageHandlers(
            repository=lambda conn: self.pairing,
            solver=solve_in_process,
            consents=lambda conn: self.consents,
        )
        self.routes = self.handlers.routes()

    async def handle_at(self, message: Message, now: datetime, *, tenant_id: str = TENANT) -> None:
        """Hand one command to its route as if it arrived at ``now``."""
        route = self.routes[type(message)]
        await dispatch(
            route, [envelope(message, tenant_id=tenant_id)], unit_of_work(self.outbox, now)
        )

    async def sweep(self, now: datetime) -> None:
        """The ``consent-deadlines`` job, run at ``now``."""
        job = Job(
            job_id="periodic:" + CONSENT_DEADLINES,
            job_type=CONSENT_DEADLINES,
            due_at=now,
            payload={},
            attempts=0,
        )
        await self.handlers.expire_consents(job, unit_of_work(self.outbox, now))

    async def asked(
        self,
        *,
        approval: ApprovalMode = ApprovalMode.AUTOMATIC,
        tenant_id: str = TENANT,
    ) -> str:
        """A consent programme where M1 is E1's best mentor and M2 the next: the first
        round's pair (M1, E1), awaiting consent unless HR approves first."""
        consent = ParticipantConsent(respond_within_hours=int(WITHIN.total_seconds() // 3600))
        await self.programme(
            rules().model_copy(update={"approval_mode": approval, "participant_consent": consent}),
            tenant_id=tenant_id,
        )
        await self.enrolled(
            mentor("M1", skills=[skill("data", 5)]),
            mentor("M2", skills=[skill("data", 2)]),
            mentee("E1", learning_needs=[need("data", 5)]),
            tenant_id=tenant_id,
        )
        await self.handle(RequestMatching(round_id="r1"), tenant_id=tenant_id)
        [pair] = [pair for (tenant, _), pair in self.pairing.pairs.items() if tenant == tenant_id]
        assert (pair.mentor.participant_id, pair.mentee.participant_id) == ("M1", "E1")
        self.outbox.envelopes.clear()
        return pair.pair_id


DEADLINE = NOW + WITHIN
"""When the answers to a pair asked at the harness's time are due."""
