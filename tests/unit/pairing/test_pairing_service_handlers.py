"""Every pairing handler, wired as the service wires them, over an in-memory repository.

Each handler's effect (stored state and published events), its refusals (dead letters with
their code) and that pairing parks nothing: what a command needs came before it on HR's
topic, or never will.
"""

from __future__ import annotations

import pytest

from binome_pairing.bootstrap import definition
from binome_pairing.domain.lifecycle import PairStatus, ParticipantStatus
from binome_pairing.handlers import ROUTES, MessageHandlers
from binome_pairing.matching import PAIRS_PER_WRITE
from binome_shared.contracts.hr_commands import (
    HR_COMMAND_TYPES,
    ApprovePair,
    DissolvePair,
    EnrolParticipant,
    EraseParticipant,
    MatchingScope,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
    SetNotificationPreferences,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import (
    DissolutionReason,
    MatchingCompleted,
    PairDissolved,
    PairFormed,
    PairProposed,
    PairRejected,
)
from binome_shared.contracts.participants import ParticipantRole, ReportingLine
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from binome_shared.messaging.routes import Batched
from tests.support.erasures import proofs
from tests.support.programmes import programme_definition

from .pairing_builders import mentee, mentor, rules
from .service_fakes import NOW, PROGRAMME, TENANT
from .service_harness import Service

pytestmark = pytest.mark.unit

OTHER = "prog-2027-b"


def test_every_hr_command_pairing_acts_on_is_routed_as_the_service_routes_it() -> None:
    routes = MessageHandlers().routes()
    assert set(routes) == set(HR_COMMAND_TYPES) - {SetNotificationPreferences}
    assert set(definition().routes) == set(routes) == set(ROUTES)
    assert isinstance(routes[EnrolParticipant], Batched), "HR imports arrive by the thousand"
    assert not isinstance(routes[UpdateParticipant], Batched)


async def test_a_programme_is_defined_then_replaced() -> None:
    service = Service()
    await service.programme(rules(capacity=1))
    await service.programme(rules(capacity=3))
    assert service.pairing.programmes[TENANT, PROGRAMME].rules.mentor_capacity == 3
    assert service.outbox.envelopes == []


async def test_a_command_for_an_undefined_programme_is_refused_not_parked() -> None:
    service = Service()
    for command in (
        EnrolParticipant(participant=mentor("M1")),
        UpdateParticipant(participant=mentor("M1")),
        RecordReportingLines(lines=[ReportingLine(employee_id="M1", manager_id="B1")]),
        WithdrawParticipant(participant_id="M1"),
        RequestMatching(round_id="r1"),
        ApprovePair(pair_id="pair-1"),
        RejectPair(pair_id="pair-1"),
        DissolvePair(pair_id="pair-1"),
    ):
        try:
            await service.refused(command, "unknown_programme")
        except AwaitingPrerequisiteError:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{type(command).__name__} was parked")
    assert service.pairing.statuses == {}


async def test_reporting_lines_are_kept_for_the_programme() -> None:
    service = Service()
    await service.programme()
    await service.handle(
        RecordReportingLines(lines=[ReportingLine(employee_id="E1", manager_id="B1")])
    )
    await service.handle(
        RecordReportingLines(lines=[ReportingLine(employee_id="E1", manager_id="B2")])
    )
    assert service.pairing.lines == {(TENANT, PROGRAMME, "E1"): "B2"}


async def test_an_import_run_is_enrolled_in_one_write() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"), mentor("M2"), mentee("E1"))
    assert service.pairing.writes == [3]
    assert set(service.pairing.statuses.values()) == {ParticipantStatus.ENROLLED}
    assert service.outbox.envelopes == []


async def test_a_record_with_warnings_only_is_enrolled() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1", skills=[]))  # warning: needs coverage will score 0
    assert service.pairing.statuses[TENANT, PROGRAMME, "M1"] is ParticipantStatus.ENROLLED


async def test_enrolling_someone_enrolled_or_twice_in_one_run_is_refused() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"))
    refusal = await service.refused(
        EnrolParticipant(participant=mentor("M1")), "duplicate_participant"
    )
    assert "M1" in refusal.reason
    with pytest.raises(RejectedError, match="E1") as twice:
        await service.enrolled(mentee("E1"), mentee("E1"))
    assert twice.value.code == "duplicate_participant"
    assert (TENANT, PROGRAMME, "E1") not in service.pairing.statuses, "the run wrote nothing"


async def test_someone_withdrawn_may_be_enrolled_again() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"))
    await service.handle(WithdrawParticipant(participant_id="M1"))
    await service.enrolled(mentor("M1", site="Lyon"))
    assert service.pairing.statuses[TENANT, PROGRAMME, "M1"] is ParticipantStatus.ENROLLED


async def test_an_update_replaces_the_profile_of_someone_enrolled() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"))
    await service.handle(UpdateParticipant(participant=mentor("M1", site="Lyon")))
    assert service.profile("M1").site == "Lyon"


async def test_an_update_of_someone_not_enrolled_is_refused() -> None:
    service = Service()
    await service.programme()
    update = UpdateParticipant(participant=mentor("M1"))
    assert "never enrolled" in (await service.refused(update, "unknown_participant")).reason
    await service.enrolled(mentor("M1"))
    await service.handle(WithdrawParticipant(participant_id="M1"))
    assert "withdrawn" in (await service.refused(update, "unknown_participant")).reason


async def test_a_role_changes_only_outside_a_pair() -> None:
    service = Service()
    await service.paired()
    refusal = await service.refused(
        UpdateParticipant(participant=mentee("M1")), "role_change_in_pair"
    )
    assert "as mentor" in refusal.reason
    await service.enrolled(mentor("M9"))
    await service.handle(UpdateParticipant(participant=mentee("M9")))
    assert service.profile("M9").role is ParticipantRole.MENTEE


async def test_a_round_forms_pairs_at_once_under_automatic_approval() -> None:
    service = Service()
    await service.programme(rules().model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC}))
    await service.enrolled(mentor("M1"), mentee("E1"), mentee("E2"))
    envelope_id = await service.handle(RequestMatching(round_id="r1"))
    [pair] = service.pairing.pairs.values()
    assert (pair.status, pair.round_id, pair.decided_at) == (PairStatus.FORMED, "r1", NOW)
    assert (pair.mentor.participant_id, pair.mentor_trained) == ("M1", True)
    assert service.outbox.types() == ["PairFormed", "MatchingCompleted"]
    formed, report = service.outbox.envelopes
    assert formed.subject == pair.pair_id
    assert formed.causation_id == envelope_id
    assert formed.data.explanation == pair.explanation
    assert (report.data.pairs, report.data.mentees, report.data.preview) == (1, 2, False)
    unmatched = {"E1", "E2"} - {pair.mentee.participant_id}
    assert {item.participant_id for item in report.data.unmatched} == unmatched
    assert service.pairing.rounds[TENANT, PROGRAMME] == 1


async def test_a_round_proposes_pairs_when_hr_approves() -> None:
    service = Service()
    await service.paired(approval=ApprovalMode.HR_APPROVES)
    [pair] = service.pairing.pairs.values()
    assert (pair.status, pair.decided_at) == (PairStatus.PROPOSED, None)


async def test_a_preview_keeps_nothing_and_says_it_is_one() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"), mentee("E1"))
    await service.handle(RequestMatching(round_id="r1", preview=True))
    assert service.pairing.pairs == {}
    assert service.pairing.rounds[TENANT, PROGRAMME] == 0
    [report] = service.outbox.of_type(MatchingCompleted)
    assert (report.preview, report.pairs) == (True, 1)


async def test_new_pairs_are_written_and_announced_by_slices() -> None:
    service = Service()
    await service.programme()
    count = PAIRS_PER_WRITE + 3
    await service.enrolled(
        *[mentor(f"M{n:03}") for n in range(count)], *[mentee(f"E{n:03}") for n in range(count)]
    )
    await service.handle(RequestMatching(round_id="r1"))
    assert service.pairing.writes[-2:] == [-PAIRS_PER_WRITE, -3]
    assert service.outbox.calls == [PAIRS_PER_WRITE, 3, 1]
    assert len(service.outbox.of_type(PairProposed)) == count, "HR approves by default"


async def test_a_round_for_the_unmatched_keeps_proposals_and_a_full_one_supersedes_them() -> None:
    service = Service()
    first = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.handle(RequestMatching(round_id="r2"))
    assert service.pairing.pairs[TENANT, first].status is PairStatus.PROPOSED
    assert len(service.pairing.pairs) == 1
    [report] = service.outbox.of_type(MatchingCompleted)
    assert (report.pairs, report.pairs_kept) == (0, 1)
    await service.handle(RequestMatching(round_id="r3", scope=MatchingScope.FULL))
    assert service.pairing.pairs[TENANT, first].status is PairStatus.SUPERSEDED
    [again] = service.pairing.with_status(PairStatus.PROPOSED)
    assert (again.round_id, again.mentee.participant_id) == ("r3", "E1")


async def test_approving_a_proposal_forms_it() -> None:
    service = Service()
    pair_id = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.handle(ApprovePair(pair_id=pair_id))
    pair = service.pairing.pairs[TENANT, pair_id]
    assert (pair.status, pair.decided_at) == (PairStatus.FORMED, NOW)
    [formed] = service.outbox.envelopes
    assert isinstance(formed.data, PairFormed)
    assert formed.subject == pair_id
    assert (formed.data.round_id, formed.data.mentee) == ("r1", pair.mentee)
    assert formed.data.explanation == pair.explanation
    await service.refused(ApprovePair(pair_id=pair_id), "pair_not_proposed")


async def test_rejecting_a_proposal_keeps_those_two_apart() -> None:
    service = Service()
    pair_id = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.handle(RejectPair(pair_id=pair_id, reason="Même équipe"))
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.REJECTED
    assert service.outbox.of_type(PairRejected) == [
        PairRejected(pair_id=pair_id, reason="Même équipe")
    ]
    await service.handle(RequestMatching(round_id="r2", scope=MatchingScope.FULL))
    assert not service.pairing.with_status(PairStatus.PROPOSED), "never proposed again"
    [report] = service.outbox.of_type(MatchingCompleted)
    assert report.pairs == 0


async def test_a_decision_on_an_unknown_pair_or_a_pair_of_another_programme_is_refused() -> None:
    service = Service()
    pair_id = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.refused(RejectPair(pair_id="pair-none"), "unknown_pair")
    await service.handle(programme_definition(rules()), programme_id="prog-other")
    with pytest.raises(RejectedError) as refusal:
        await service.handle(ApprovePair(pair_id=pair_id), programme_id="prog-other")
    assert refusal.value.code == "unknown_pair"
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.PROPOSED


async def test_dissolving_a_formed_pair_ends_it_and_re_pairs_its_members() -> None:
    service = Service()
    pair_id = await service.paired()
    await service.refused(RejectPair(pair_id=pair_id), "pair_not_proposed")
    await service.enrolled(mentor("M2"))
    await service.handle(DissolvePair(pair_id=pair_id, reason="Incompatibilité"))
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.DISSOLVED
    assert service.outbox.types() == ["PairDissolved", "PairFormed", "MatchingCompleted"]
    dissolved = service.outbox.envelopes[0].data
    assert dissolved == PairDissolved(
        pair_id=pair_id, reason=DissolutionReason.HR_DECISION, detail="Incompatibilité"
    )
    [repaired] = service.pairing.with_status(PairStatus.FORMED)
    assert repaired.mentor.participant_id == "M2", "never the same two again"
    assert repaired.round_id.startswith("repair-")
    await service.refused(DissolvePair(pair_id=pair_id), "pair_not_formed")


async def test_a_withdrawal_dissolves_the_pair_and_re_pairs_the_partner() -> None:
    service = Service()
    pair_id = await service.paired()
    await service.enrolled(mentor("M2"))
    await service.handle(WithdrawParticipant(participant_id="M1", reason="Départ"))
    assert service.pairing.statuses[TENANT, PROGRAMME, "M1"] is ParticipantStatus.WITHDRAWN
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.DISSOLVED
    assert service.outbox.envelopes[0].data == PairDissolved(
        pair_id=pair_id, reason=DissolutionReason.WITHDRAWN, detail="Départ"
    )
    [repaired] = service.pairing.with_status(PairStatus.FORMED)
    assert (repaired.mentor.participant_id, repaired.mentee.participant_id) == ("M2", "E1")


async def test_a_withdrawal_supersedes_a_proposal_as_a_rejection() -> None:
    service = Service()
    pair_id = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.handle(WithdrawParticipant(participant_id="E1"))
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.SUPERSEDED
    assert service.outbox.envelopes[0].data == PairRejected(
        pair_id=pair_id, reason="participant_withdrawn"
    )
    assert service.outbox.types()[1:] == ["MatchingCompleted"], "the repair found no one"


async def test_no_re_pairing_before_the_first_round() -> None:
    service = Service()
    await service.programme()
    await service.enrolled(mentor("M1"), mentee("E1"))
    await service.handle(WithdrawParticipant(participant_id="E1"))
    assert service.outbox.envelopes == []
    assert service.pairing.statuses[TENANT, PROGRAMME, "E1"] is ParticipantStatus.WITHDRAWN


async def test_leaving_without_ever_enrolling_is_refused() -> None:
    service = Service()
    await service.programme()
    await service.refused(WithdrawParticipant(participant_id="X1"), "unknown_participant")


async def test_erasing_someone_never_enrolled_is_a_success_that_is_remembered() -> None:
    service = Service()  # not even the programme is defined: erasure is about the person
    await service.handle(EraseParticipant(participant_id="X1"))
    [proof] = proofs(service.outbox.envelopes)
    assert service.outbox.types() == ["ErasureCompleted"], "nothing but the proof"
    assert (proof.participant_id, proof.already_erased, proof.erased) == ("X1", False, {})
    assert set(service.pairing.erased) == {(TENANT, "X1")}
    await service.programme()
    await service.refused(EnrolParticipant(participant=mentee("X1")), "participant_erased")


async def test_a_second_erasure_changes_nothing() -> None:
    service = Service()
    await service.paired()
    await service.handle(EraseParticipant(participant_id="E1"))
    assert service.outbox.types() == ["PairDissolved", "MatchingCompleted", "ErasureCompleted"]
    [first] = proofs(service.outbox.envelopes)
    assert first.erased == {"enrolments": 1, "pairs_ended": 1}
    assert (first.already_erased, first.erased_at) == (False, NOW)
    service.outbox.envelopes.clear()
    await service.handle(EraseParticipant(participant_id="E1"))
    assert service.outbox.types() == ["ErasureCompleted"], "no repair round, no summary for HR"
    [again] = proofs(service.outbox.envelopes)
    assert (again.already_erased, again.erased_at, again.erased) == (True, NOW, {})
    assert service.pairing.rounds[TENANT, PROGRAMME] == 2


async def test_an_erasure_reaches_every_programme_of_the_tenant_and_bars_new_enrolments() -> None:
    service = Service()
    await service.paired()
    automatic = rules().model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    await service.handle(programme_definition(automatic), programme_id=OTHER)
    await service.handle(
        EnrolParticipant(participant=mentor("M2")),
        EnrolParticipant(participant=mentee("E1")),
        programme_id=OTHER,
    )
    await service.handle(RequestMatching(round_id="r1"), programme_id=OTHER)
    service.outbox.envelopes.clear()

    await service.handle(EraseParticipant(participant_id="E1"))  # sent for the first programme

    for programme in (PROGRAMME, OTHER):
        assert service.pairing.statuses[TENANT, programme, "E1"] is ParticipantStatus.ERASED
        assert service.pairing.profiles[TENANT, programme, "E1"] is None
    dissolved = service.outbox.of_type(PairDissolved)
    assert len(dissolved) == 2
    assert all(d.reason is DissolutionReason.ERASED for d in dissolved)
    assert {e.programme_id for e in service.outbox.envelopes} == {PROGRAMME, OTHER}
    assert service.pairing.with_status(PairStatus.FORMED) == []

    third = "prog-2028"
    await service.handle(programme_definition(rules()), programme_id=third)
    with pytest.raises(RejectedError) as refusal:
        await service.handle(
            EnrolParticipant(participant=mentor("M3")),
            EnrolParticipant(participant=mentee("E1")),
            programme_id=third,
        )
    assert refusal.value.code == "participant_erased"
    assert "effacée" in refusal.value.reason
    assert "erased" in refusal.value.reason


async def test_a_round_leaves_out_an_enrolment_that_raced_with_the_erasure() -> None:
    service = Service()
    await service.programme(rules().model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC}))
    await service.enrolled(mentor("M1"), mentee("E1"))
    # Her erasure committed on another partition while this enrolment was being written:
    # neither transaction saw the other, so she is still enrolled here.
    service.pairing.erased[TENANT, "E1"] = NOW
    await service.handle(RequestMatching(round_id="r1"))
    assert service.pairing.pairs == {}
    [report] = service.outbox.of_type(MatchingCompleted)
    assert report.mentees == 0


async def test_a_round_after_the_erasure_does_not_pair_the_erased_person() -> None:
    service = Service()
    await service.paired()
    await service.enrolled(mentor("M2"))
    await service.handle(EraseParticipant(participant_id="E1"))
    await service.handle(RequestMatching(round_id="r2", scope=MatchingScope.FULL))
    assert service.pairing.with_status(PairStatus.FORMED) == []
    assert all("E1" not in (p.mentor_id, p.mentee_id) for p in service.outbox.of_type(PairFormed))


async def test_an_erasure_deletes_the_profile_and_reporting_lines_and_ends_the_pair() -> None:
    service = Service()
    pair_id = await service.paired()
    await service.handle(
        RecordReportingLines(
            lines=[
                ReportingLine(employee_id="E1", manager_id="B1"),
                ReportingLine(employee_id="T1", manager_id="E1"),
                ReportingLine(employee_id="T2", manager_id="B1"),
            ]
        )
    )
    await service.handle(EraseParticipant(participant_id="E1"))
    assert service.pairing.statuses[TENANT, PROGRAMME, "E1"] is ParticipantStatus.ERASED
    assert service.pairing.profiles[TENANT, PROGRAMME, "E1"] is None
    assert service.pairing.lines == {(TENANT, PROGRAMME, "T2"): "B1"}
    assert service.outbox.envelopes[0].data == PairDissolved(
        pair_id=pair_id, reason=DissolutionReason.ERASED, detail=""
    )
    [report] = service.outbox.of_type(MatchingCompleted)
    assert report.mentees == 0, "an erased profile is never solved again"
    [proof] = proofs(service.outbox.envelopes)
    assert proof.erased == {"enrolments": 1, "reporting_lines": 2, "pairs_ended": 1}
    assert service.outbox.envelopes[-1].partition_key() == "E1", "keyed by the person"
