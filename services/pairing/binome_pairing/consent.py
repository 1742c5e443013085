"""Participant consent in the service: putting pairs to their members, their answers, and
the deadline sweep.

Application code over :mod:`binome_pairing.domain.consent`. A programme whose rules set
``participant_consent`` forms no pair before both members accepted it:

* a round (automatic approval) or HR's ``ApprovePair`` (approval mode: HR first, so that
  people are never asked about a pair HR may still reject) puts the pair to its members
  when the consent's scope covers it (:func:`consent_asked`: every pair, or those whose
  mentee is senior enough; the others are formed as in a programme that asks nobody):
  status ``awaiting_consent``, a deadline, and ``PairConsentRequested`` (notifications e-mails
  each member an accept / decline request);
* ``AcceptPair`` from each member: ``PairAccepted`` each, then ``PairFormed`` as for any pair;
* ``DeclinePair``, or the deadline passing without both acceptances (the periodic
  ``consent-deadlines`` job): ``PairCalledOff``, both members free and re-paired by a repair
  round that keeps every other pair, never with each other again.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg

from binome_pairing import translation
from binome_pairing.adapters.consents import ConsentRepository, OverdueConsent
from binome_pairing.adapters.repository import PairingRepository, PairRecord
from binome_pairing.domain.consent import (
    Answer,
    ConsentRefusedError,
    Decision,
    Outcome,
    PairConsent,
    consent_asked,
)
from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import AcceptPair, DeclinePair
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairAccepted,
    PairCalledOff,
    PairConsentRequested,
)
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.messaging.errors import RejectedError
from binome_shared.messaging.routes import UnitOfWork
from binome_shared.messaging.scheduler import Job

logger = logging.getLogger(__name__)

CONSENT_DEADLINES = "consent-deadlines"
"""The periodic job that calls off the pairs whose answers are overdue, in every tenant."""
CONSENT_DEADLINES_EVERY = timedelta(minutes=15)
"""How often it looks: an answer after the deadline is refused at once whatever the sweep
did, so the sweep's delay only postpones the re-pairing, by minutes of a days-long wait."""

ConsentRepositoryFactory = Callable[[asyncpg.Connection], ConsentRepository]
"""Opens consent storage on a unit of work's connection (a fake one in unit tests)."""

RepairRound = Callable[[PairingRepository, Envelope[Message], UnitOfWork], Awaitable[None]]
"""Re-pairs whoever is free in the envelope's programme, keeping every other pair."""

Announcer = Callable[[Sequence[PairRecord]], Awaitable[list[Message]]]
"""What new pairs say when they are recorded (their events), with any storage it needs."""


def respond_by(rules: ProgrammeRules, *, now: datetime) -> datetime | None:
    """The deadline of people asked ``now``; None when the programme does not ask them."""
    consent = rules.participant_consent
    return None if consent is None else now + timedelta(hours=consent.respond_within_hours)


def announcer(
    consents: ConsentRepository, *, tenant_id: str, rules: ProgrammeRules, now: datetime
) -> Announcer:
    """How a round's new pairs are announced: put to their members when they await consent
    (their deadline stored), else proposed or formed as the records say."""

    async def announce(records: Sequence[PairRecord]) -> list[Message]:
        due = respond_by(rules, now=now)
        asking = [record for record in records if record.status is PairStatus.AWAITING_CONSENT]
        if due is not None and asking:
            await consents.ask(tenant_id, [r.pair_id for r in asking], respond_by=due, at=now)
        return [
            consent_requested(record, due)
            if due is not None and record.status is PairStatus.AWAITING_CONSENT
            else translation.pair_announced(record)
            for record in records
        ]

    return announce


def consent_requested(pair: PairRecord, due: datetime) -> PairConsentRequested:
    """The event that puts ``pair`` to its members, to answer by ``due``: what a proposal
    says of the pair, and the deadline."""
    proposed = translation.pair_announced(replace(pair, status=PairStatus.PROPOSED))
    return PairConsentRequested(**dict(proposed), respond_by=due)


class PairConsents:
    """Answers to pairs awaiting consent, HR's approval of such pairs, and their deadline."""

    def __init__(
        self,
        *,
        repository: Callable[[asyncpg.Connection], PairingRepository],
        consents: ConsentRepositoryFactory,
        repair: RepairRound,
        sweep_batch: int = 500,
    ) -> None:
        self._repository = repository
        self._consents = consents
        self._repair = repair
        self._sweep_batch = sweep_batch

    async def approved(
        self,
        envelope: Envelope[Message],
        uow: UnitOfWork,
        *,
        pair: PairRecord,
        rules: ProgrammeRules,
    ) -> bool:
        """HR approved ``pair``: put it to its members if the programme asks them about this
        pair (True), else leave the forming to the caller (False)."""
        tenant_id, pairing = envelope.tenant_id, self._repository(uow.conn)
        due = respond_by(rules, now=uow.now)
        if due is None:
            return False
        grade = await pairing.job_grade(tenant_id, pair.programme_id, pair.mentee.participant_id)
        if not consent_asked(rules, mentee_job_grade=grade):
            return False
        await pairing.decide_pair(tenant_id, pair.pair_id, PairStatus.AWAITING_CONSENT, at=uow.now)
        await self._consents(uow.conn).ask(tenant_id, [pair.pair_id], respond_by=due, at=uow.now)
        asked = consent_requested(pair, due)
        await uow.publish(translation.caused_by(envelope, uow, asked, pair.pair_id))
        return True

    async def answer(
        self,
        envelope: Envelope[AcceptPair | DeclinePair],
        uow: UnitOfWork,
        *,
        pair: PairRecord,
        answer: Answer,
    ) -> None:
        """A member's answer to ``pair`` (of the envelope's tenant and programme)."""
        pairing = self._repository(uow.conn)
        consent = await self._consent(envelope.tenant_id, pair, uow)
        try:
            decision = consent.answered(envelope.data.participant_id, answer, now=uow.now)
        except ConsentRefusedError as refusal:
            raise RejectedError(refusal.code, str(refusal)) from None
        if decision.outcome is Outcome.UNCHANGED:
            logger.info("the same answer again: nothing changes")
            return
        events = await self._apply(envelope.tenant_id, pair, decision, uow)
        await uow.publish_many(
            [translation.caused_by(envelope, uow, event, pair.pair_id) for event in events]
        )
        if decision.outcome is Outcome.CALLED_OFF:
            await self._repair(pairing, envelope, uow)

    async def expire_overdue(self, job: Job, uow: UnitOfWork) -> None:
        """Call off every tenant's pairs whose answers are overdue; then one repair round per
        programme that lost some (each in its own tenant)."""
        del job
        consents = self._consents(uow.conn)
        called_off = 0
        while True:
            overdue = await consents.overdue(uow.now, limit=self._sweep_batch)
            for (tenant_id, programme_id), group in itertools.groupby(
                overdue, key=lambda item: (item.tenant_id, item.programme_id)
            ):
                called_off += await self._expire_in_programme(
                    tenant_id, programme_id, list(group), uow
                )
            if len(overdue) < self._sweep_batch:
                break
        if called_off:
            logger.info("consent deadlines: %d pair(s) called off", called_off)

    async def _expire_in_programme(
        self, tenant_id: str, programme_id: str, overdue: Sequence[OverdueConsent], uow: UnitOfWork
    ) -> int:
        pairing, consents = self._repository(uow.conn), self._consents(uow.conn)
        # The programme's row first, as every command of the programme locks it: the sweep
        # and a late answer apply one after the other, never interleaved.
        await pairing.programme(tenant_id, programme_id)
        last: Envelope[Message] | None = None
        called_off = 0
        for item in overdue:
            pair = await pairing.pair(tenant_id, item.pair_id)
            assert pair is not None, "pair_consents references pairs"
            decision = (await self._consent(tenant_id, pair, uow)).expired(now=uow.now)
            if decision is None:  # formed, or ended otherwise (a member left)
                await consents.settle(tenant_id, pair.pair_id, at=uow.now)
                continue
            [event] = await self._apply(tenant_id, pair, decision, uow)
            last = Envelope.new(
                event,
                source=uow.source,
                time=uow.now,
                tenant_id=tenant_id,
                programme_id=programme_id,
                subject=pair.pair_id,
            )
            await uow.publish(last)
            called_off += 1
        if last is not None:
            # One round for all of the programme's overdue pairs, caused by the last call-off.
            await self._repair(pairing, last, uow)
        return called_off

    async def _consent(self, tenant_id: str, pair: PairRecord, uow: UnitOfWork) -> PairConsent:
        record = await self._consents(uow.conn).consent(tenant_id, pair.pair_id)
        if record is None:
            raise RejectedError(
                "pair_not_awaiting_consent",
                f"pair {pair.pair_id} was never put to its members (status {pair.status}) / "
                "ce binôme n'a pas été soumis à l'accord de ses membres",
            )
        return PairConsent(
            pair_id=pair.pair_id,
            mentor_id=pair.mentor.participant_id,
            mentee_id=pair.mentee.participant_id,
            status=pair.status,
            respond_by=record.respond_by,
            mentor_answer=record.mentor_answer,
            mentee_answer=record.mentee_answer,
        )

    async def _apply(
        self, tenant_id: str, pair: PairRecord, decision: Decision, uow: UnitOfWork
    ) -> list[Message]:
        """Store ``decision`` and return the events it causes, in order."""
        await self._consents(uow.conn).save(tenant_id, decision.consent, at=uow.now)
        events: list[Message] = []
        if decision.outcome in (Outcome.ACCEPTED, Outcome.FORMED) and decision.side is not None:
            events.append(PairAccepted(pair_id=pair.pair_id, side=decision.side))
        if decision.consent.status is not pair.status:
            status = decision.consent.status
            await self._repository(uow.conn).decide_pair(
                tenant_id, pair.pair_id, status, at=uow.now
            )
            if status is PairStatus.FORMED:
                events.append(translation.pair_announced(replace(pair, status=status)))
            elif status is PairStatus.CALLED_OFF:
                events.append(_called_off(pair.pair_id, decision))
        return events


def _called_off(pair_id: str, decision: Decision) -> PairCalledOff:
    if decision.side is None:
        return PairCalledOff(pair_id=pair_id, reason=CallOffReason.NO_ANSWER)
    return PairCalledOff(pair_id=pair_id, reason=CallOffReason.DECLINED, declined_by=decision.side)
