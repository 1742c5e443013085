"""Tenants kept apart by pairing's handlers: ids are namespaced by tenant, so two tenants may
use the same programme, participant and pair ids; neither sees nor changes the other's.

A command naming a programme or pair its tenant does not own is refused with the code of an
unknown one, and its reason names nothing of the other tenant.
"""

from __future__ import annotations

import pytest

from binome_pairing.domain.lifecycle import PairStatus, ParticipantStatus
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    DissolvePair,
    EnrolParticipant,
    EraseParticipant,
    RecordReportingLines,
    RejectPair,
    RequestMatching,
    UpdateParticipant,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import MatchingCompleted, PairFormed
from binome_shared.contracts.participants import ReportingLine
from binome_shared.contracts.programme import ApprovalMode
from tests.support.programmes import programme_definition

from .pairing_builders import mentee, mentor, rules
from .service_fakes import PROGRAMME, TENANT, envelope
from .service_harness import Service

pytestmark = pytest.mark.unit

OTHER_TENANT = "autre-groupe"
ONLY_IN_FIRST = "prog-first-only"


def snapshot(service: Service) -> tuple[object, ...]:
    """Everything the first tenant has stored, to compare before and after."""
    pairing = service.pairing
    return (
        dict(pairing.programmes),
        dict(pairing.rounds),
        dict(pairing.statuses),
        dict(pairing.profiles),
        dict(pairing.lines),
        dict(pairing.pairs),
    )


async def test_the_same_programme_id_in_another_tenant_is_a_programme_of_its_own() -> None:
    service = Service()
    await service.programme(rules(capacity=1))
    await service.programme(rules(capacity=3), tenant_id=OTHER_TENANT)
    assert service.pairing.programmes[TENANT, PROGRAMME].rules.mentor_capacity == 1
    assert service.pairing.programmes[OTHER_TENANT, PROGRAMME].rules.mentor_capacity == 3


async def test_commands_naming_a_programme_only_another_tenant_owns_are_refused() -> None:
    service = Service()
    await service.handle(programme_definition(rules()), programme_id=ONLY_IN_FIRST)
    await service.handle(
        EnrolParticipant(participant=mentor("M1")),
        EnrolParticipant(participant=mentee("E1")),
        programme_id=ONLY_IN_FIRST,
    )
    await service.handle(RequestMatching(round_id="r1"), programme_id=ONLY_IN_FIRST)
    [pair] = service.pairing.pairs.values()
    before = snapshot(service)
    service.outbox.envelopes.clear()
    for command in (
        EnrolParticipant(participant=mentor("M2")),
        UpdateParticipant(participant=mentor("M1", site="Lyon")),
        RecordReportingLines(lines=[ReportingLine(employee_id="M1", manager_id="E1")]),
        WithdrawParticipant(participant_id="M1"),
        RequestMatching(round_id="r2"),
        ApprovePair(pair_id=pair.pair_id),
        RejectPair(pair_id=pair.pair_id),
        DissolvePair(pair_id=pair.pair_id),
    ):
        refusal = await service.refused(
            command, "unknown_programme", programme_id=ONLY_IN_FIRST, tenant_id=OTHER_TENANT
        )
        assert TENANT not in refusal.reason, "the other tenant is never named"
        assert "programme inconnu" in refusal.reason
        assert "not defined" in refusal.reason
    assert snapshot(service) == before


async def test_a_decision_on_a_pair_only_another_tenant_has_is_refused_as_unknown() -> None:
    service = Service()
    pair_id = await service.paired(approval=ApprovalMode.HR_APPROVES)
    await service.programme(tenant_id=OTHER_TENANT)  # the same programme id, no pair in it
    before = snapshot(service)
    for command in (
        ApprovePair(pair_id=pair_id),
        RejectPair(pair_id=pair_id),
        DissolvePair(pair_id=pair_id),
    ):
        refusal = await service.refused(command, "unknown_pair", tenant_id=OTHER_TENANT)
        assert TENANT not in refusal.reason
        assert "binôme" in refusal.reason
        assert "no pair" in refusal.reason
    assert snapshot(service) == before
    assert service.pairing.pairs[TENANT, pair_id].status is PairStatus.PROPOSED


async def test_the_same_people_pair_to_the_same_pair_id_in_each_tenant_kept_apart() -> None:
    service = Service()
    first = await service.paired(approval=ApprovalMode.HR_APPROVES)
    second = await service.paired(approval=ApprovalMode.HR_APPROVES, tenant_id=OTHER_TENANT)
    assert first == second, "pair ids depend on programme, round and people only"
    await service.handle(ApprovePair(pair_id=first), tenant_id=OTHER_TENANT)
    assert service.pairing.pairs[OTHER_TENANT, first].status is PairStatus.FORMED
    assert service.pairing.pairs[TENANT, first].status is PairStatus.PROPOSED
    [formed] = service.outbox.envelopes
    assert (formed.tenant_id, type(formed.data)) == (OTHER_TENANT, PairFormed)
    await service.handle(RejectPair(pair_id=first))
    assert service.pairing.pairs[TENANT, first].status is PairStatus.REJECTED
    assert service.pairing.pairs[OTHER_TENANT, first].status is PairStatus.FORMED


async def test_a_round_solves_its_own_tenants_people_with_its_own_tenants_rules() -> None:
    service = Service()
    await service.programme(
        rules(capacity=2).model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    )
    await service.enrolled(mentor("M1"), mentee("E1"), mentee("E2"))
    await service.programme(rules(capacity=1), tenant_id=OTHER_TENANT)
    await service.enrolled(mentor("M1"), mentee("E1"), mentee("E2"), tenant_id=OTHER_TENANT)
    await service.enrolled(mentor("M9"), tenant_id=OTHER_TENANT)
    await service.handle(
        RecordReportingLines(lines=[ReportingLine(employee_id="E1", manager_id="M9")]),
        tenant_id=OTHER_TENANT,
    )

    await service.handle(RequestMatching(round_id="r1"))
    [report] = service.outbox.of_type(MatchingCompleted)
    assert (report.mentors, report.mentees, report.pairs) == (1, 2, 2), "capacity 2, automatic"
    assert [e.tenant_id for e in service.outbox.envelopes] == [TENANT] * 3
    assert len(service.pairing.with_status(PairStatus.FORMED)) == 2
    service.outbox.envelopes.clear()

    await service.handle(RequestMatching(round_id="r1"), tenant_id=OTHER_TENANT)
    [report] = service.outbox.of_type(MatchingCompleted)
    assert (report.mentors, report.mentees, report.pairs) == (2, 2, 2), "capacity 1, two mentors"
    assert {e.tenant_id for e in service.outbox.envelopes} == {OTHER_TENANT}
    proposed = service.pairing.with_status(PairStatus.PROPOSED, OTHER_TENANT)
    assert len(proposed) == 2, "this tenant's HR approves"
    assert len(service.pairing.with_status(PairStatus.FORMED)) == 2, "the first tenant's kept"
    assert service.pairing.rounds == {(TENANT, PROGRAMME): 1, (OTHER_TENANT, PROGRAMME): 1}


async def test_people_of_the_same_id_are_enrolled_withdrawn_and_erased_per_tenant() -> None:
    service = Service()
    await service.programme()
    await service.programme(tenant_id=OTHER_TENANT)
    await service.enrolled(mentor("M1"))
    await service.refused(
        WithdrawParticipant(participant_id="M1"), "unknown_participant", tenant_id=OTHER_TENANT
    )
    await service.refused(
        UpdateParticipant(participant=mentor("M1")), "unknown_participant", tenant_id=OTHER_TENANT
    )
    await service.enrolled(mentor("M1", site="Lyon"), tenant_id=OTHER_TENANT)
    await service.handle(EraseParticipant(participant_id="M1"), tenant_id=OTHER_TENANT)
    assert service.pairing.statuses[OTHER_TENANT, PROGRAMME, "M1"] is ParticipantStatus.ERASED
    assert service.pairing.statuses[TENANT, PROGRAMME, "M1"] is ParticipantStatus.ENROLLED
    assert service.profile("M1").site == "Paris La Défense"
    await service.handle(UpdateParticipant(participant=mentor("M1", site="Lille")))
    assert service.profile("M1").site == "Lille", "not erased in the first tenant"


async def test_one_import_run_holding_two_tenants_is_enrolled_in_each_its_own() -> None:
    service = Service()
    await service.programme()
    await service.programme(tenant_id=OTHER_TENANT)
    await service.handle(EraseParticipant(participant_id="E1"), tenant_id=OTHER_TENANT)
    # Both tenants' programme of that id share a partition: one run may hold both.
    await service.dispatch(
        envelope(EnrolParticipant(participant=mentee("E1")), tenant_id=TENANT),
        envelope(EnrolParticipant(participant=mentor("M1")), tenant_id=OTHER_TENANT),
    )
    assert service.pairing.statuses == {
        (TENANT, PROGRAMME, "E1"): ParticipantStatus.ENROLLED,
        (OTHER_TENANT, PROGRAMME, "M1"): ParticipantStatus.ENROLLED,
    }, "E1 is erased in the other tenant only"
    assert service.pairing.writes == [1, 1]
