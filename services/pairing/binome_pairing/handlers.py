"""What the pairing service does with each command from HR.

Every handler runs in the transaction that records the command as processed; events go out
through the outbox in that same transaction. Rounds are solved by the pure engine
(:mod:`binome_pairing.domain`) through a :class:`~binome_pairing.rounds.RoundSolver` (see
:mod:`binome_pairing.matching`), so a preview is the same computation, minus the writes.
Everything is looked up within the envelope's tenant: ids are namespaced by tenant, so a
command naming a programme or pair of another tenant finds nothing and is refused as
``unknown_programme`` or ``unknown_pair``, exactly as for an id nobody uses.
Refusals raise :class:`RejectedError` (the command is dead-lettered with its reason); pairing
parks nothing: HR's commands share one topic keyed by programme, so what a command needs
came before it or never will.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import asyncpg

from binome_pairing import imposition, translation
from binome_pairing.adapters.consents import PostgresConsents
from binome_pairing.adapters.repository import PairingRepository, PairRecord, PostgresPairing
from binome_pairing.consent import ConsentRepositoryFactory, PairConsents
from binome_pairing.domain import validate_cohort
from binome_pairing.domain.consent import Answer
from binome_pairing.domain.lifecycle import PairStatus, ParticipantStatus, role_in_pair
from binome_pairing.erasure_census import erasure_census, hold_programmes
from binome_pairing.matching import RoundRequest, run_round
from binome_pairing.rounds import RoundSolver, solve_in_process
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import (
    AcceptPair,
    ApprovePair,
    DeclinePair,
    DefineProgramme,
    DissolvePair,
    EnrolParticipant,
    EraseParticipant,
    MatchingScope,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.imposed_pairs import ImposePairs
from binome_shared.contracts.pairing_events import (
    REPAIR_ROUND_PREFIX,
    DissolutionReason,
    PairDissolved,
    PairRejected,
)
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.privacy_events import ErasingService
from binome_shared.messaging.erasure_proof import complete_erasure
from binome_shared.messaging.errors import RejectedError
from binome_shared.messaging.routes import Route, Routes, RouteTable, UnitOfWork
from binome_shared.messaging.scheduler import Job

logger = logging.getLogger(__name__)

RepositoryFactory = Callable[[asyncpg.Connection], PairingRepository]
"""Opens the repository on a unit of work's connection (a fake one in unit tests)."""


class MessageHandlers:
    """The pairing service's command handlers, over a repository opened per transaction.

    Rounds (asked for, or re-pairing after a pair ends) are solved by ``solver``: the
    service's worker process, or the caller's process by default (tests, tools).
    """

    def __init__(
        self,
        *,
        repository: RepositoryFactory = PostgresPairing,
        solver: RoundSolver = solve_in_process,
        consents: ConsentRepositoryFactory = PostgresConsents,
    ) -> None:
        self._repository = repository
        self._solver = solver
        self._consents = consents
        self._consent = PairConsents(repository=repository, consents=consents, repair=self._repair)

    def routes(self) -> Routes:
        """Which handler takes which command."""
        return (
            RouteTable()
            .on(DefineProgramme, self.define_programme)
            .on_batches(EnrolParticipant, self.enrol_participants)  # HR imports, by thousands
            .on(UpdateParticipant, self.update_participant)
            .on(RecordReportingLines, self.record_reporting_lines)
            .on(WithdrawParticipant, self.withdraw_participant)
            .on(EraseParticipant, self.erase_participant)
            .on(RequestMatching, self.request_matching)
            .on(ApprovePair, self.approve_pair)
            .on(RejectPair, self.reject_pair)
            .on(DissolvePair, self.dissolve_pair)
            .on(ImposePairs, self.impose_pairs)
            .on(AcceptPair, self.accept_pair)
            .on(DeclinePair, self.decline_pair)
            .build()
        )

    async def define_programme(self, envelope: Envelope[DefineProgramme], uow: UnitOfWork) -> None:
        """Create or replace the tenant's programme definition (another tenant's programme of
        the same id is a programme of its own, untouched)."""
        await self._repository(uow.conn).save_programme(
            envelope.tenant_id, envelope.programme_id, definition=envelope.data, at=uow.now
        )

    async def record_reporting_lines(
        self, envelope: Envelope[RecordReportingLines], uow: UnitOfWork
    ) -> None:
        """Remember the org chart, so management chains are known beyond enrolled people."""
        pairing = self._repository(uow.conn)
        await _programme(pairing, envelope)
        await pairing.save_reporting_lines(
            envelope.tenant_id, envelope.programme_id, envelope.data.lines
        )

    async def enrol_participants(
        self, envelopes: Sequence[Envelope[EnrolParticipant]], uow: UnitOfWork
    ) -> None:
        """Add mentors and mentees: a run of an HR import at once (one query per programme
        for who is known, one ``executemany`` to write them).

        A second enrolment of the same id is refused. Any refusal raises, and the consumer
        then redoes the run one enrolment at a time, so each refusal names its own command.
        """
        pairing = self._repository(uow.conn)
        # Before any programme's lock: an erasure takes the tenant's lock, then programmes'.
        await pairing.hold_off_erasures([envelope.tenant_id for envelope in envelopes])
        # Two tenants' programmes of the same id share a partition: a run is cut by both.
        for (tenant_id, programme_id), grouped in itertools.groupby(
            envelopes, key=lambda e: (e.tenant_id, e.programme_id)
        ):
            commands = list(grouped)
            definition = await _programme(pairing, commands[0])
            profiles = [envelope.data.participant for envelope in commands]
            people = [profile.participant_id for profile in profiles]
            statuses = await pairing.participant_statuses(tenant_id, programme_id, people)
            erased = await pairing.erased_among(tenant_id, people)
            seen: set[str] = set()
            for profile in profiles:
                if profile.participant_id in erased:
                    raise _erased(profile.participant_id)
                enrolled = statuses.get(profile.participant_id) is ParticipantStatus.ENROLLED
                if enrolled or profile.participant_id in seen:
                    raise _already_enrolled(programme_id, profile.participant_id)
                seen.add(profile.participant_id)
                _refuse_invalid(definition, profile)
            await pairing.save_participants(tenant_id, programme_id, profiles, at=uow.now)

    async def update_participant(
        self, envelope: Envelope[UpdateParticipant], uow: UnitOfWork
    ) -> None:
        """Replace an enrolled participant's profile (a pair in progress keeps its members)."""
        pairing = self._repository(uow.conn)
        tenant_id, programme_id = envelope.tenant_id, envelope.programme_id
        definition = await _programme(pairing, envelope)
        profile = envelope.data.participant
        status = await _status(pairing, envelope, profile.participant_id)
        if status is not ParticipantStatus.ENROLLED:
            raise RejectedError(
                "unknown_participant",
                f"{profile.participant_id} is not enrolled in {programme_id} "
                f"(status: {status or 'never enrolled'}) / n'est pas inscrit",
            )
        pairs = await pairing.active_pairs_of(tenant_id, programme_id, profile.participant_id)
        held = (
            role_in_pair(profile.participant_id, mentor_id=pairs[0].mentor_id)
            if pairs
            else profile.role
        )
        if profile.role is not held:
            raise RejectedError(
                "role_change_in_pair",
                f"{profile.participant_id} is in a pair as {held}: dissolve it first / "
                "dissoudre le binôme d'abord",
            )
        _refuse_invalid(definition, profile)
        await pairing.save_participants(tenant_id, programme_id, [profile], at=uow.now)

    async def withdraw_participant(
        self, envelope: Envelope[WithdrawParticipant], uow: UnitOfWork
    ) -> None:
        """Take someone out: their pair ends and their partner is re-paired if possible."""
        pairing = self._repository(uow.conn)
        participant_id = envelope.data.participant_id
        await self._leave(
            pairing, envelope, uow, DissolutionReason.WITHDRAWN, detail=envelope.data.reason
        )
        await pairing.set_participant_status(
            envelope.tenant_id,
            envelope.programme_id,
            participant_id,
            ParticipantStatus.WITHDRAWN,
            at=uow.now,
        )
        await self._repair(pairing, envelope, uow)

    async def erase_participant(
        self, envelope: Envelope[EraseParticipant], uow: UnitOfWork
    ) -> None:
        """GDPR erasure of the person within the tenant, in every programme holding them:
        their pairs end, the profile is deleted (only the id remains in pair history), and
        whoever is left free is re-paired.

        The tenant remembers the erasure: a second one changes nothing (no repair round, no
        event but the proof every erasure publishes, ErasureCompleted), erasing someone never
        enrolled is a success, and the person is never enrolled again (see
        :meth:`enrol_participants`).
        """
        pairing = self._repository(uow.conn)
        tenant_id, participant_id = envelope.tenant_id, envelope.data.participant_id
        if not await pairing.record_erasure(tenant_id, participant_id, at=uow.now):
            logger.info("participant already erased in the tenant: nothing to do")
            await complete_erasure(uow, envelope, ErasingService.PAIRING)
            return
        programmes = await pairing.programmes_holding(tenant_id, participant_id)
        await hold_programmes(pairing, tenant_id, programmes)
        held = await erasure_census(pairing, tenant_id, programmes, participant_id)
        if not programmes:
            logger.info("erased participant was never enrolled: erasure remembered only")
        for programme_id in programmes:
            in_programme = envelope.model_copy(update={"programme_id": programme_id})
            await self._leave(pairing, in_programme, uow, DissolutionReason.ERASED, detail="")
            await pairing.erase_participant(tenant_id, programme_id, participant_id, at=uow.now)
            await self._repair(pairing, in_programme, uow)
        await complete_erasure(uow, envelope, ErasingService.PAIRING, erased=held)

    async def request_matching(self, envelope: Envelope[RequestMatching], uow: UnitOfWork) -> None:
        """Solve a round for the programme (or preview it: same computation, nothing kept)."""
        command = envelope.data
        if command.rules is not None and not command.preview:
            raise RejectedError(
                "rules_without_preview",
                "other rules are for a preview only: send DefineProgramme to change the "
                "programme's / d'autres règles seulement pour un aperçu : envoyer DefineProgramme",
            )
        request = RoundRequest(
            round_id=command.round_id,
            scope=command.scope,
            preview=command.preview,
            rules=command.rules,
        )
        pairing = self._repository(uow.conn)
        await self._round(pairing, envelope, uow, request, await _programme(pairing, envelope))

    async def impose_pairs(self, envelope: Envelope[ImposePairs], uow: UnitOfWork) -> None:
        """HR imposes pairs: formed as they are (or proposed, per the approval mode), the rest
        of the cohort paired around them, every pair and proposal in place kept. All or
        nothing: one entry HR may not impose refuses the command (see
        :mod:`binome_pairing.imposition`)."""
        pairing = self._repository(uow.conn)
        definition = await _programme(pairing, envelope)
        await imposition.refuse_unfit_listing(pairing, envelope)
        command = envelope.data
        request = RoundRequest(
            round_id=command.round_id,
            scope=MatchingScope.UNMATCHED,
            preview=command.preview,
            imposed=command.pairs,
        )
        await self._round(pairing, envelope, uow, request, definition)

    async def approve_pair(self, envelope: Envelope[ApprovePair], uow: UnitOfWork) -> None:
        """HR accepts a proposal: the pair is formed, or first put to its two members when
        the programme asks for their consent."""
        pairing = self._repository(uow.conn)
        definition, pair = await _decidable_pair(
            pairing, envelope, envelope.data.pair_id, PairStatus.PROPOSED
        )
        if await self._consent.approved(envelope, uow, pair=pair, rules=definition.rules):
            return
        await pairing.decide_pair(envelope.tenant_id, pair.pair_id, PairStatus.FORMED, at=uow.now)
        formed = translation.pair_announced(replace(pair, status=PairStatus.FORMED))
        await uow.publish(translation.caused_by(envelope, uow, formed, pair.pair_id))

    async def reject_pair(self, envelope: Envelope[RejectPair], uow: UnitOfWork) -> None:
        """HR refuses a proposal: these two are never proposed together again."""
        pairing = self._repository(uow.conn)
        _, pair = await _decidable_pair(
            pairing, envelope, envelope.data.pair_id, PairStatus.PROPOSED
        )
        await pairing.decide_pair(envelope.tenant_id, pair.pair_id, PairStatus.REJECTED, at=uow.now)
        rejected = PairRejected(pair_id=pair.pair_id, reason=envelope.data.reason)
        await uow.publish(translation.caused_by(envelope, uow, rejected, pair.pair_id))

    async def dissolve_pair(self, envelope: Envelope[DissolvePair], uow: UnitOfWork) -> None:
        """HR ends a formed pair; both members are re-paired if possible."""
        pairing = self._repository(uow.conn)
        _, pair = await _decidable_pair(pairing, envelope, envelope.data.pair_id, PairStatus.FORMED)
        await pairing.decide_pair(
            envelope.tenant_id, pair.pair_id, PairStatus.DISSOLVED, at=uow.now
        )
        dissolved = PairDissolved(
            pair_id=pair.pair_id,
            reason=DissolutionReason.HR_DECISION,
            detail=envelope.data.reason,
        )
        await uow.publish(translation.caused_by(envelope, uow, dissolved, pair.pair_id))
        await self._repair(pairing, envelope, uow)

    async def accept_pair(self, envelope: Envelope[AcceptPair], uow: UnitOfWork) -> None:
        """A member accepts a pair awaiting consent; it is formed once both have (see
        :mod:`binome_pairing.consent`)."""
        pairing = self._repository(uow.conn)
        _, pair = await _pair_in_programme(pairing, envelope, envelope.data.pair_id)
        await self._consent.answer(envelope, uow, pair=pair, answer=Answer.ACCEPTED)

    async def decline_pair(self, envelope: Envelope[DeclinePair], uow: UnitOfWork) -> None:
        """A member declines a pair awaiting consent: it is called off and both are re-paired,
        never with each other again."""
        pairing = self._repository(uow.conn)
        _, pair = await _pair_in_programme(pairing, envelope, envelope.data.pair_id)
        await self._consent.answer(envelope, uow, pair=pair, answer=Answer.DECLINED)

    async def expire_consents(self, job: Job, uow: UnitOfWork) -> None:
        """The periodic job: call off the pairs whose answers are overdue, and re-pair."""
        await self._consent.expire_overdue(job, uow)

    async def _leave(
        self,
        pairing: PairingRepository,
        envelope: Envelope[WithdrawParticipant | EraseParticipant],
        uow: UnitOfWork,
        reason: DissolutionReason,
        *,
        detail: str,
    ) -> None:
        """End the leaver's pairs: a formed one is dissolved, a proposal superseded."""
        tenant_id, programme_id = envelope.tenant_id, envelope.programme_id
        participant_id = envelope.data.participant_id
        await _programme(pairing, envelope)
        if await _status(pairing, envelope, participant_id) is None:
            raise RejectedError(
                "unknown_participant",
                f"{participant_id} was never enrolled in {programme_id} / jamais inscrit",
            )
        for pair in await pairing.active_pairs_of(tenant_id, programme_id, participant_id):
            ended = (
                PairStatus.DISSOLVED if pair.status is PairStatus.FORMED else PairStatus.SUPERSEDED
            )
            await pairing.decide_pair(tenant_id, pair.pair_id, ended, at=uow.now)
            event = translation.pair_ended(pair, reason, detail)
            await uow.publish(translation.caused_by(envelope, uow, event, pair.pair_id))

    async def _repair(
        self, pairing: PairingRepository, envelope: Envelope[Message], uow: UnitOfWork
    ) -> None:
        """After a pair ends, pair whoever is free again, keeping every other pair as it is."""
        if await pairing.rounds_run(envelope.tenant_id, envelope.programme_id) == 0:
            return  # no round has been run yet: HR will ask for one
        request = RoundRequest(
            round_id=f"{REPAIR_ROUND_PREFIX}{envelope.id.hex[:12]}",
            scope=MatchingScope.UNMATCHED,
            preview=False,
        )
        await self._round(pairing, envelope, uow, request, await _programme(pairing, envelope))

    async def _round(
        self,
        pairing: PairingRepository,
        envelope: Envelope[Message],
        uow: UnitOfWork,
        request: RoundRequest,
        definition: DefineProgramme,
    ) -> None:
        """Solve ``request`` for the envelope's programme, whose ``definition`` the caller
        read (and locked)."""
        await run_round(
            pairing,
            self._solver,
            envelope=envelope,
            uow=uow,
            definition=definition,
            request=request,
            consents=self._consents(uow.conn),
        )


async def _programme(pairing: PairingRepository, envelope: Envelope[Message]) -> DefineProgramme:
    """The definition of the programme ``envelope`` names, in the envelope's tenant."""
    definition = await pairing.programme(envelope.tenant_id, envelope.programme_id)
    if definition is None:
        # HR commands share one topic keyed by programme, so DefineProgramme would have
        # come first: waiting would not help. Another tenant's programme of that id is
        # neither used nor mentioned: to this tenant it does not exist.
        raise RejectedError(
            "unknown_programme",
            f"programme {envelope.programme_id} is not defined in this tenant: send "
            "DefineProgramme first / programme inconnu de ce client : envoyer DefineProgramme "
            "d'abord",
        )
    return definition


async def _status(
    pairing: PairingRepository, envelope: Envelope[Message], participant_id: str
) -> ParticipantStatus | None:
    """The person's status in ``envelope``'s programme (None: never enrolled there)."""
    statuses = await pairing.participant_statuses(
        envelope.tenant_id, envelope.programme_id, [participant_id]
    )
    return statuses.get(participant_id)


def _already_enrolled(programme_id: str, participant_id: str) -> RejectedError:
    return RejectedError(
        "duplicate_participant",
        f"{participant_id} is already enrolled in {programme_id}: send UpdateParticipant to "
        "change the profile / déjà inscrit : envoyer UpdateParticipant",
    )


def _erased(participant_id: str) -> RejectedError:
    return RejectedError(
        "participant_erased",
        f"{participant_id} was erased (GDPR) in this tenant and is never enrolled again / "
        "personne effacée (RGPD) dans ce client : jamais réinscrite",
    )


def _refuse_invalid(definition: DefineProgramme, profile: ParticipantProfile) -> None:
    validation = validate_cohort(rules=definition.rules, participants=[profile])
    errors = validation.errors
    if errors:
        # The problem's own code when there is one kind (``unknown_topic``), so HR can sort.
        codes = {problem.code for problem in errors}
        raise RejectedError(
            codes.pop() if len(codes) == 1 else "invalid_participant",
            "; ".join(
                f"{problem.field or '(record)'}: {problem.message.en} / {problem.message.fr}"
                for problem in errors
            ),
        )


async def _decidable_pair(
    pairing: PairingRepository,
    envelope: Envelope[ApprovePair | RejectPair | DissolvePair],
    pair_id: str,
    expected: PairStatus,
) -> tuple[DefineProgramme, PairRecord]:
    """The programme and the pair HR decides on, if the pair is in this programme and in the
    ``expected`` status."""
    definition, pair = await _pair_in_programme(pairing, envelope, pair_id)
    if pair.status is not expected:
        raise RejectedError(
            f"pair_not_{expected}",
            f"pair {pair_id} is {pair.status}, not {expected} / le binôme n'est pas dans cet état",
        )
    return definition, pair


async def _pair_in_programme(
    pairing: PairingRepository, envelope: Envelope[Message], pair_id: str
) -> tuple[DefineProgramme, PairRecord]:
    """The envelope's (defined) programme, read once, and its tenant's pair ``pair_id``, if
    the pair is in it."""
    definition = await _programme(pairing, envelope)
    pair = await pairing.pair(envelope.tenant_id, pair_id)
    if pair is None or pair.programme_id != envelope.programme_id:
        # Another tenant's pair of that id (same programme id and people) is not seen.
        raise RejectedError(
            "unknown_pair",
            f"no pair {pair_id} in programme {envelope.programme_id} of this tenant / "
            f"binôme {pair_id} inconnu dans ce programme de ce client",
        )
    return definition, pair


def routes(solver: RoundSolver) -> dict[type[Message], Route]:
    """Pairing's routes over Postgres, rounds being solved by ``solver``, as a dict that
    callers may extend (tests replace a route)."""
    return dict(MessageHandlers(solver=solver).routes())


ROUTES = routes(solve_in_process)
"""The routes with rounds solved in the caller's process (tests, tools)."""
