"""Pairing's handlers wired as the service wires them, over the in-memory fakes, with a way
to feed them commands as one tenant or another."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from binome_pairing.handlers import MessageHandlers
from binome_pairing.rounds import solve_in_process
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EnrolParticipant, RequestMatching
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.programme import ApprovalMode, ProgrammeRules
from binome_shared.messaging.errors import RejectedError
from binome_shared.messaging.routes import dispatch
from tests.support.programmes import programme_definition

from .pairing_builders import mentee, mentor, rules
from .service_fakes import PROGRAMME, TENANT, FakeOutbox, FakePairing, envelope, unit_of_work


class Service:
    """Pairing's handlers over fakes, rounds solved in process, and a way to feed them."""

    def __init__(self) -> None:
        self.pairing = FakePairing()
        self.outbox = FakeOutbox()
        self.routes = MessageHandlers(
            repository=lambda conn: self.pairing, solver=solve_in_process
        ).routes()

    async def handle(
        self, *messages: Any, programme_id: str = PROGRAMME, tenant_id: str = TENANT
    ) -> uuid.UUID:
        """Hand ``messages`` (all of one type) to their route, as one consumer run; the last
        envelope's id."""
        wrapped = [
            envelope(message, programme_id=programme_id, tenant_id=tenant_id)
            for message in messages
        ]
        return await self.dispatch(*wrapped)

    async def dispatch(self, *envelopes: Envelope[Any]) -> uuid.UUID:
        """Hand these envelopes (all of one type) to their route as one consumer run."""
        route = self.routes[type(envelopes[0].data)]
        uow = unit_of_work(self.outbox, conn=self.pairing.register_connection())
        await dispatch(route, list(envelopes), uow)
        return envelopes[-1].id

    async def refused(
        self, message: Any, code: str, *, programme_id: str = PROGRAMME, tenant_id: str = TENANT
    ) -> RejectedError:
        published = len(self.outbox.envelopes)
        with pytest.raises(RejectedError) as refusal:
            await self.handle(message, programme_id=programme_id, tenant_id=tenant_id)
        assert refusal.value.code == code
        assert len(self.outbox.envelopes) == published, "a refusal publishes nothing"
        return refusal.value

    def profile(self, person_id: str) -> ParticipantProfile:
        profile = self.pairing.profiles[TENANT, PROGRAMME, person_id]
        assert profile is not None
        return profile

    async def programme(
        self, programme_rules: ProgrammeRules | None = None, *, tenant_id: str = TENANT
    ) -> None:
        await self.handle(programme_definition(programme_rules or rules()), tenant_id=tenant_id)

    async def enrolled(self, *profiles: ParticipantProfile, tenant_id: str = TENANT) -> None:
        await self.handle(
            *[EnrolParticipant(participant=profile) for profile in profiles], tenant_id=tenant_id
        )

    async def paired(
        self, *, approval: ApprovalMode = ApprovalMode.AUTOMATIC, tenant_id: str = TENANT
    ) -> str:
        """A programme with one mentor and one mentee, matched in a first round: the pair."""
        await self.programme(
            rules().model_copy(update={"approval_mode": approval}), tenant_id=tenant_id
        )
        await self.enrolled(mentor("M1"), mentee("E1"), tenant_id=tenant_id)
        await self.handle(RequestMatching(round_id="r1"), tenant_id=tenant_id)
        [pair] = [pair for (tenant, _), pair in self.pairing.pairs.items() if tenant == tenant_id]
        self.outbox.envelopes.clear()
        return pair.pair_id
