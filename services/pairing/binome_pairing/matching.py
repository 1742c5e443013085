"""Running a matching round inside a handler's transaction: load, solve, record, report.

Application code, not a handler: :class:`~binome_pairing.handlers.MessageHandlers` runs a
round when HR asks for one (``RequestMatching``) and after a pair ends (a re-pairing round
that keeps every other pair). The round itself is solved by a
:class:`~binome_pairing.rounds.RoundSolver` (the service's worker process, or in process).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from binome_pairing import imposition, translation
from binome_pairing.adapters.consents import ConsentRepository
from binome_pairing.adapters.repository import PairingRepository, PairRecord
from binome_pairing.consent import Announcer, announcer
from binome_pairing.domain import ProposedPair, excluded_pairs
from binome_pairing.domain.consent import consent_asked
from binome_pairing.domain.lifecycle import (
    NEVER_AGAIN_STATUSES,
    PairStatus,
    kept_pair_statuses,
    new_pair_status,
    pair_id_for,
)
from binome_pairing.previewing import publish_preview
from binome_pairing.rounds import PairMember, RoundProblem, RoundSolver, SolvedRound
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme, MatchingScope
from binome_shared.contracts.imposed_pairs import ImposedPair
from binome_shared.contracts.pairing_events import PairExplanation
from binome_shared.contracts.programme import ApprovalMode, ProgrammeRules
from binome_shared.messaging.routes import UnitOfWork

PAIRS_PER_WRITE = 50
"""New pairs written (rows and events) per round trip: small enough that building one
slice holds the event loop for milliseconds, not the seconds a whole large round takes."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RoundRequest:
    """Which round to run: its id, which pairs it keeps, and whether it only previews."""

    round_id: str
    scope: MatchingScope
    preview: bool
    imposed: Sequence[ImposedPair] = ()
    """Pairs HR imposes (``ImposePairs``): formed as they are, the rest solved around them."""
    rules: ProgrammeRules | None = None
    """Other rules than the programme's (a preview comparing rule sets)."""

    def explainer(self) -> _Explainer:
        """How this round's pairs explain themselves (imposed ones with HR's override)."""
        return _Explainer(
            {
                (pair.mentor_id, pair.mentee_id): pair.override.reason if pair.override else None
                for pair in self.imposed
            }
        )


@dataclass(frozen=True, slots=True)
class _Explainer:
    override_reasons: Mapping[tuple[str, str], str | None]
    """Each imposed pair's override reason (None: no override)."""

    def __call__(self, pair: ProposedPair) -> PairExplanation:
        explanation = translation.explanation(pair)
        if not pair.imposed:
            return explanation
        reason = self.override_reasons.get((pair.mentor_id, pair.mentee_id))
        return imposition.imposed_explanation(explanation, pair, reason)


@dataclass(frozen=True, slots=True)
class _StatusOfNewPairs:
    """Where each new pair of a round starts: proposed to HR (approval mode), else put to its
    members when the programme's consent covers it (its mentee's grade), else formed."""

    rules: ProgrammeRules
    members: Mapping[str, PairMember]

    def __call__(self, pair: ProposedPair) -> PairStatus:
        mentee_job_grade = self.members[pair.mentee_id].job_grade
        return new_pair_status(
            formed_at_once=self.rules.approval_mode is ApprovalMode.AUTOMATIC,
            consent_asked=consent_asked(self.rules, mentee_job_grade=mentee_job_grade),
        )


async def run_round(
    pairing: PairingRepository,
    solver: RoundSolver,
    *,
    envelope: Envelope[Message],
    uow: UnitOfWork,
    definition: DefineProgramme,
    request: RoundRequest,
    consents: ConsentRepository,
) -> None:
    """Solve a round of ``envelope``'s programme; unless it is a preview, record its pairs
    (and their events; pairs put to their members for consent store their deadline in
    ``consents``), else publish them (``MatchingPreviewed``); always publish its report
    (``MatchingCompleted``). Imposed pairs HR may not impose refuse the whole round."""
    tenant_id, programme_id = envelope.tenant_id, envelope.programme_id
    # The transaction stays open while the round is solved (one connection held, the rest
    # of the consumer's batch waiting): the pairs then commit with the command's inbox row,
    # so a round interrupted anywhere (crash, shutdown, lost worker) is solved again whole.
    solved = await solver(await _problem(pairing, envelope, definition, request))
    if request.imposed:
        imposition.refuse_unfit_pairs(
            request.imposed,
            problems=solved.report.problems,
            imposed=solved.new_pairs(0, solved.imposed),
        )
    explain = request.explainer()
    if request.preview:
        await publish_preview(
            pairing, solved, envelope=envelope, uow=uow, round_id=request.round_id, explain=explain
        )
    else:
        if request.scope is MatchingScope.FULL:
            await pairing.supersede_proposals(tenant_id, programme_id, at=uow.now)
        rules = definition.rules
        announce = announcer(consents, tenant_id=tenant_id, rules=rules, now=uow.now)
        await _record_new_pairs(
            pairing,
            solved,
            envelope=envelope,
            uow=uow,
            status=_StatusOfNewPairs(rules, solved.members),
            round_id=request.round_id,
            explain=explain,
            announce=announce,
        )
        await pairing.count_round(tenant_id, programme_id)
    report = translation.matching_completed(
        solved.report,
        round_id=request.round_id,
        preview=request.preview,
        new_pairs=len(solved.new_pairs_json),
    )
    await uow.publish(translation.caused_by(envelope, uow, report))


async def _problem(
    pairing: PairingRepository,
    envelope: Envelope[Message],
    definition: DefineProgramme,
    request: RoundRequest,
) -> RoundProblem:
    """What the round of ``envelope``'s programme, in its tenant, is solved from."""
    rules = request.rules or definition.rules
    programme = (envelope.tenant_id, envelope.programme_id)
    kept = await pairing.pairs_with_status(*programme, kept_pair_statuses(request.scope))
    ended = await pairing.pairs_with_status(*programme, (PairStatus.DISSOLVED,))
    rejected = await pairing.pairs_with_status(*programme, NEVER_AGAIN_STATUSES)
    return RoundProblem(
        rules=rules,
        profiles_json=await pairing.enrolled_profiles_json(*programme),
        reporting_lines=await pairing.reporting_lines(*programme),
        locked_pairs=[(pair.mentor_id, pair.mentee_id) for pair in kept],
        forbidden_pairs=excluded_pairs(
            rules=rules,
            previous_pairs=[(pair.mentor_id, pair.mentee_id) for pair in ended],
            rejected_pairs=[(pair.mentor_id, pair.mentee_id) for pair in rejected],
        ),
        imposed_pairs=[(pair.mentor_id, pair.mentee_id) for pair in request.imposed],
        preview=request.preview,
    )


async def _record_new_pairs(
    pairing: PairingRepository,
    solved: SolvedRound,
    *,
    envelope: Envelope[Message],
    uow: UnitOfWork,
    status: _StatusOfNewPairs,
    round_id: str,
    explain: _Explainer,
    announce: Announcer,
) -> None:
    # By slices: parsing, building and encoding 10,000 pairs' events at once would hold the
    # event loop for seconds; each slice's two round trips to Postgres give it back.
    for start in range(0, len(solved.new_pairs_json), PAIRS_PER_WRITE):
        records = [
            new_pair_record(
                pair,
                solved.members,
                programme_id=envelope.programme_id,
                round_id=round_id,
                status=status(pair),
                now=uow.now,
                explanation=explain(pair),
            )
            for pair in solved.new_pairs(start, start + PAIRS_PER_WRITE)
        ]
        await pairing.add_pairs(envelope.tenant_id, records)
        announced = await announce(records)
        await uow.publish_many(
            [
                translation.caused_by(envelope, uow, event, record.pair_id)
                for record, event in zip(records, announced, strict=True)
            ]
        )


def new_pair_record(
    pair: ProposedPair,
    members: dict[str, PairMember],
    *,
    programme_id: str,
    round_id: str,
    status: PairStatus,
    now: datetime,
    explanation: PairExplanation | None = None,
) -> PairRecord:
    """The stored pair for one the round formed (decided now if formed at once), explained
    by the engine unless told otherwise."""
    mentor = members[pair.mentor_id]
    return PairRecord(
        pair_id=pair_id_for(programme_id, round_id, (pair.mentor_id, pair.mentee_id)),
        programme_id=programme_id,
        round_id=round_id,
        mentor=translation.side(mentor),
        mentee=translation.side(members[pair.mentee_id]),
        mentor_trained=mentor.mentor_training_completed,
        status=status,
        score=pair.score,
        explanation=explanation or translation.explanation(pair),
        proposed_at=now,
        decided_at=now if status is PairStatus.FORMED else None,
    )
