"""What the pairing service does with each command from HR.

Every handler runs in the transaction that records the command as processed; events go out
through the outbox in that same transaction. Rounds are solved by the pure engine
(:mod:`binome_pairing.domain`), so a preview is the same computation, minus the writes.

Handlers that may solve a round take a ``solver`` (:class:`~binome_pairing.rounds.RoundSolver`):
the service gives them its worker process (:func:`routes`), tests and tools the in-process
default (:data:`ROUTES`).
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from binome_pairing import publishing
from binome_pairing.adapters import repository
from binome_pairing.domain import ProposedPair, Severity, excluded_pairs, validate_cohort
from binome_pairing.rounds import (
    PairMember,
    RoundProblem,
    RoundSolver,
    SolvedRound,
    solve_in_process,
)
from binome_shared.contracts.base import Envelope, Event, Message
from binome_shared.contracts.hr_commands import (
    ApprovePair,
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
from binome_shared.contracts.pairing_events import (
    DissolutionReason,
    PairDissolved,
    PairExplanation,
    PairFormed,
    PairProposed,
    PairRejected,
    PairSide,
)
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.messaging.consumer import Batched, Route, UnitOfWork
from binome_shared.messaging.errors import RejectedError

_PAIR_NAMESPACE = uuid.UUID("0b6c3c8e-5f7e-4d8a-9a51-3f0d2c7e9b14")

PAIRS_PER_WRITE = 50
"""New pairs written (rows and events) per round trip: small enough that building one
slice holds the event loop for milliseconds, not the seconds a whole large round takes."""


def _emit(
    envelope: Envelope[Any], uow: UnitOfWork, data: Event, subject: str | None = None
) -> Envelope[Any]:
    return envelope.caused(data, source=uow.source, time=uow.now, subject=subject)


async def _programme(envelope: Envelope[Any], uow: UnitOfWork) -> DefineProgramme:
    definition = await repository.programme(uow.conn, envelope.programme_id)
    if definition is None:
        # HR commands share one topic keyed by programme, so DefineProgramme would have
        # come first: waiting would not help.
        raise RejectedError(
            "unknown_programme",
            f"programme {envelope.programme_id} is not defined: send DefineProgramme first / "
            "programme inconnu : envoyer DefineProgramme d'abord",
        )
    return definition


async def define_programme(envelope: Envelope[DefineProgramme], uow: UnitOfWork) -> None:
    """Create or replace a programme's definition."""
    await repository.save_programme(
        uow.conn,
        programme_id=envelope.programme_id,
        tenant_id=envelope.tenant_id,
        command=envelope.data,
        at=uow.now,
    )


def _refuse_invalid(definition: DefineProgramme, profile: ParticipantProfile) -> None:
    validation = validate_cohort(rules=definition.rules, participants=[profile])
    errors = [problem for problem in validation.problems if problem.severity is Severity.ERROR]
    if errors:
        raise RejectedError(
            "invalid_participant",
            "; ".join(
                f"{problem.field or '(record)'}: {problem.message.en} / {problem.message.fr}"
                for problem in errors
            ),
        )


async def record_reporting_lines(envelope: Envelope[RecordReportingLines], uow: UnitOfWork) -> None:
    """Remember the org chart, so management chains are known beyond enrolled people."""
    await _programme(envelope, uow)
    await repository.save_reporting_lines(uow.conn, envelope.programme_id, envelope.data.lines)


async def enrol_participants(
    envelopes: Sequence[Envelope[EnrolParticipant]], uow: UnitOfWork
) -> None:
    """Add mentors and mentees: a run of an HR import at once (one query per programme for
    who is known, one ``executemany`` to write them).

    A second enrolment of the same id is refused. Any refusal raises, and the consumer then
    redoes the run one enrolment at a time, so each refusal names its own command.
    """
    for programme_id, grouped in itertools.groupby(envelopes, key=lambda e: e.programme_id):
        run = list(grouped)
        definition = await _programme(run[0], uow)
        profiles = [envelope.data.participant for envelope in run]
        statuses = await repository.participant_statuses(
            uow.conn, programme_id, [profile.participant_id for profile in profiles]
        )
        seen: set[str] = set()
        for profile in profiles:
            if statuses.get(profile.participant_id) == "enrolled" or profile.participant_id in seen:
                raise RejectedError(
                    "duplicate_participant",
                    f"{profile.participant_id} is already enrolled in {programme_id}: send "
                    "UpdateParticipant to change the profile / déjà inscrit : envoyer "
                    "UpdateParticipant",
                )
            seen.add(profile.participant_id)
            _refuse_invalid(definition, profile)
        await repository.save_participants(
            uow.conn, programme_id=programme_id, profiles=profiles, at=uow.now
        )


async def update_participant(envelope: Envelope[UpdateParticipant], uow: UnitOfWork) -> None:
    """Replace an enrolled participant's profile (a pair in progress keeps its members)."""
    definition = await _programme(envelope, uow)
    profile = envelope.data.participant
    status = await repository.participant_status(
        uow.conn, envelope.programme_id, profile.participant_id
    )
    if status != "enrolled":
        raise RejectedError(
            "unknown_participant",
            f"{profile.participant_id} is not enrolled in {envelope.programme_id} "
            f"(status: {status or 'never enrolled'}) / n'est pas inscrit",
        )
    pairs = await repository.active_pairs_of(
        uow.conn, envelope.programme_id, profile.participant_id
    )
    expected_role = (
        ParticipantRole.MENTOR
        if pairs and pairs[0].mentor_id == profile.participant_id
        else ParticipantRole.MENTEE
        if pairs
        else profile.role
    )
    if profile.role is not expected_role:
        raise RejectedError(
            "role_change_in_pair",
            f"{profile.participant_id} is in a pair as {expected_role}: dissolve it first / "
            "dissoudre le binôme d'abord",
        )
    _refuse_invalid(definition, profile)
    await repository.save_participant(
        uow.conn, programme_id=envelope.programme_id, profile=profile, at=uow.now
    )


async def withdraw_participant(
    envelope: Envelope[WithdrawParticipant],
    uow: UnitOfWork,
    *,
    solver: RoundSolver = solve_in_process,
) -> None:
    """Take someone out: their pair ends and their partner is re-paired if possible."""
    participant_id = envelope.data.participant_id
    await _leave(envelope, uow, participant_id, DissolutionReason.WITHDRAWN, envelope.data.reason)
    await repository.set_participant_status(
        uow.conn,
        programme_id=envelope.programme_id,
        participant_id=participant_id,
        status="withdrawn",
        at=uow.now,
    )
    await _repair(envelope, uow, solver)


async def erase_participant(
    envelope: Envelope[EraseParticipant],
    uow: UnitOfWork,
    *,
    solver: RoundSolver = solve_in_process,
) -> None:
    """GDPR erasure: the profile is deleted; only the id remains in pair history."""
    participant_id = envelope.data.participant_id
    await _leave(envelope, uow, participant_id, DissolutionReason.ERASED, "")
    await repository.erase_participant(
        uow.conn, programme_id=envelope.programme_id, participant_id=participant_id, at=uow.now
    )
    await repository.erase_reporting_lines(uow.conn, envelope.programme_id, participant_id)
    await _repair(envelope, uow, solver)


async def _leave(
    envelope: Envelope[Any],
    uow: UnitOfWork,
    participant_id: str,
    reason: DissolutionReason,
    detail: str,
) -> None:
    await _programme(envelope, uow)
    status = await repository.participant_status(uow.conn, envelope.programme_id, participant_id)
    if status is None:
        raise RejectedError(
            "unknown_participant",
            f"{participant_id} was never enrolled in {envelope.programme_id} / jamais inscrit",
        )
    for pair in await repository.active_pairs_of(uow.conn, envelope.programme_id, participant_id):
        if pair.status == "formed":
            await repository.decide_pair(uow.conn, pair.pair_id, "dissolved", uow.now)
            await uow.publish(
                _emit(
                    envelope,
                    uow,
                    PairDissolved(pair_id=pair.pair_id, reason=reason, detail=detail),
                    pair.pair_id,
                )
            )
        else:
            await repository.decide_pair(uow.conn, pair.pair_id, "superseded", uow.now)
            await uow.publish(
                _emit(
                    envelope,
                    uow,
                    PairRejected(pair_id=pair.pair_id, reason=str(reason)),
                    pair.pair_id,
                )
            )


async def request_matching(
    envelope: Envelope[RequestMatching],
    uow: UnitOfWork,
    *,
    solver: RoundSolver = solve_in_process,
) -> None:
    """Solve a round for the programme (or preview it: same computation, nothing kept)."""
    command = envelope.data
    await _run_round(
        envelope,
        uow,
        solver,
        round_id=command.round_id,
        scope=command.scope,
        preview=command.preview,
    )


async def _repair(envelope: Envelope[Any], uow: UnitOfWork, solver: RoundSolver) -> None:
    """After a pair ends, pair whoever is free again, keeping every other pair as it is."""
    if await repository.rounds_run(uow.conn, envelope.programme_id) == 0:
        return  # no round has been run yet: HR will ask for one
    await _run_round(
        envelope,
        uow,
        solver,
        round_id=f"repair-{envelope.id.hex[:12]}",
        scope=MatchingScope.UNMATCHED,
        preview=False,
    )


async def _run_round(
    envelope: Envelope[Any],
    uow: UnitOfWork,
    solver: RoundSolver,
    *,
    round_id: str,
    scope: MatchingScope,
    preview: bool,
) -> None:
    definition = await _programme(envelope, uow)
    rules = definition.rules
    conn = uow.conn
    kept_statuses = ("formed", "proposed") if scope is MatchingScope.UNMATCHED else ("formed",)
    kept = await repository.pairs_with_status(conn, envelope.programme_id, kept_statuses)
    ended = await repository.pairs_with_status(conn, envelope.programme_id, ("dissolved",))
    rejected = await repository.pairs_with_status(conn, envelope.programme_id, ("rejected",))
    # The transaction stays open while the round is solved (one connection held, the rest
    # of the consumer's batch waiting): the pairs then commit with the command's inbox row,
    # so a round interrupted anywhere (crash, shutdown, lost worker) is solved again whole.
    solved = await solver(
        RoundProblem(
            rules=rules,
            profiles_json=await repository.enrolled_profiles_json(conn, envelope.programme_id),
            reporting_lines=await repository.reporting_lines(conn, envelope.programme_id),
            locked_pairs=[(pair.mentor_id, pair.mentee_id) for pair in kept],
            forbidden_pairs=excluded_pairs(
                rules=rules,
                previous_pairs=[(pair.mentor_id, pair.mentee_id) for pair in ended],
                rejected_pairs=[(pair.mentor_id, pair.mentee_id) for pair in rejected],
            ),
        )
    )
    new_pairs = len(solved.new_pairs_json)
    if not preview:
        if scope is MatchingScope.FULL:
            await repository.supersede_proposals(conn, envelope.programme_id, uow.now)
        await _record_new_pairs(
            envelope,
            uow,
            definition=definition,
            solved=solved,
            round_id=round_id,
        )
        await repository.count_round(conn, envelope.programme_id)
    await uow.publish(
        _emit(
            envelope,
            uow,
            publishing.matching_completed(
                solved.report, round_id=round_id, preview=preview, new_pairs=new_pairs
            ),
        )
    )


async def _record_new_pairs(
    envelope: Envelope[Any],
    uow: UnitOfWork,
    *,
    definition: DefineProgramme,
    solved: SolvedRound,
    round_id: str,
) -> None:
    # By slices: parsing, building and encoding 10,000 pairs' events at once would hold the
    # event loop for seconds; each slice's two round trips to Postgres give it back.
    for start in range(0, len(solved.new_pairs_json), PAIRS_PER_WRITE):
        await _record_pair_slice(
            envelope,
            uow,
            formed_at_once=definition.rules.approval_mode is ApprovalMode.AUTOMATIC,
            members=solved.members,
            pairs=solved.new_pairs(start, start + PAIRS_PER_WRITE),
            round_id=round_id,
        )


async def _record_pair_slice(
    envelope: Envelope[Any],
    uow: UnitOfWork,
    *,
    formed_at_once: bool,
    members: dict[str, PairMember],
    pairs: list[ProposedPair],
    round_id: str,
) -> None:
    rows = []
    events = []
    for pair in pairs:
        mentor, mentee = members[pair.mentor_id], members[pair.mentee_id]
        pair_id = (
            "pair-"
            + uuid.uuid5(
                _PAIR_NAMESPACE,
                f"{envelope.programme_id}:{round_id}:{pair.mentor_id}:{pair.mentee_id}",
            ).hex[:16]
        )
        explanation = publishing.explanation(pair)
        rows.append(
            (
                pair_id,
                envelope.programme_id,
                round_id,
                pair.mentor_id,
                pair.mentee_id,
                mentor.business_unit,
                mentee.business_unit,
                mentor.mentor_training_completed,
                "formed" if formed_at_once else "proposed",
                pair.score,
                repository.explanation_json(explanation),
                uow.now,
                uow.now if formed_at_once else None,
            )
        )
        fields: dict[str, Any] = {
            "pair_id": pair_id,
            "round_id": round_id,
            "mentor": publishing.side(mentor),
            "mentee": publishing.side(mentee),
            "explanation": explanation,
            "mentor_trained": mentor.mentor_training_completed,
        }
        data: Event = PairFormed(**fields) if formed_at_once else PairProposed(**fields)
        events.append(_emit(envelope, uow, data, pair_id))
    await repository.insert_pairs(uow.conn, rows)
    await uow.publish_many(events)


async def _decidable_pair(
    envelope: Envelope[Any], uow: UnitOfWork, pair_id: str, expected: str
) -> Any:
    await _programme(envelope, uow)
    row = await repository.pair(uow.conn, pair_id)
    if row is None or row["programme_id"] != envelope.programme_id:
        raise RejectedError(
            "unknown_pair", f"no pair {pair_id} in {envelope.programme_id} / binôme inconnu"
        )
    if row["status"] != expected:
        raise RejectedError(
            f"pair_not_{expected}",
            f"pair {pair_id} is {row['status']}, not {expected} / "
            "le binôme n'est pas dans cet état",
        )
    return row


async def approve_pair(envelope: Envelope[ApprovePair], uow: UnitOfWork) -> None:
    """HR accepts a proposal: the pair is formed."""
    row = await _decidable_pair(envelope, uow, envelope.data.pair_id, "proposed")
    await repository.decide_pair(uow.conn, row["pair_id"], "formed", uow.now)
    formed = PairFormed(
        pair_id=row["pair_id"],
        round_id=row["round_id"],
        mentor=PairSide(participant_id=row["mentor_id"], business_unit=row["mentor_unit"]),
        mentee=PairSide(participant_id=row["mentee_id"], business_unit=row["mentee_unit"]),
        explanation=PairExplanation.model_validate_json(row["explanation"]),
        mentor_trained=row["mentor_trained"],
    )
    await uow.publish(_emit(envelope, uow, formed, row["pair_id"]))


async def reject_pair(envelope: Envelope[RejectPair], uow: UnitOfWork) -> None:
    """HR refuses a proposal: these two are never proposed together again."""
    row = await _decidable_pair(envelope, uow, envelope.data.pair_id, "proposed")
    await repository.decide_pair(uow.conn, row["pair_id"], "rejected", uow.now)
    await uow.publish(
        _emit(
            envelope,
            uow,
            PairRejected(pair_id=row["pair_id"], reason=envelope.data.reason),
            row["pair_id"],
        )
    )


async def dissolve_pair(
    envelope: Envelope[DissolvePair],
    uow: UnitOfWork,
    *,
    solver: RoundSolver = solve_in_process,
) -> None:
    """HR ends a formed pair; both members are re-paired if possible."""
    row = await _decidable_pair(envelope, uow, envelope.data.pair_id, "formed")
    await repository.decide_pair(uow.conn, row["pair_id"], "dissolved", uow.now)
    await uow.publish(
        _emit(
            envelope,
            uow,
            PairDissolved(
                pair_id=row["pair_id"],
                reason=DissolutionReason.HR_DECISION,
                detail=envelope.data.reason,
            ),
            row["pair_id"],
        )
    )
    await _repair(envelope, uow, solver)


def routes(solver: RoundSolver) -> dict[type[Message], Route]:
    """Which handler takes which command, rounds being solved by ``solver``."""
    return {
        DefineProgramme: define_programme,
        EnrolParticipant: Batched(enrol_participants),  # HR imports arrive by the thousand
        UpdateParticipant: update_participant,
        RecordReportingLines: record_reporting_lines,
        WithdrawParticipant: functools.partial(withdraw_participant, solver=solver),
        EraseParticipant: functools.partial(erase_participant, solver=solver),
        RequestMatching: functools.partial(request_matching, solver=solver),
        ApprovePair: approve_pair,
        RejectPair: reject_pair,
        DissolvePair: functools.partial(dissolve_pair, solver=solver),
    }


ROUTES = routes(solve_in_process)
"""The routes with rounds solved in the caller's process (tests, tools)."""
