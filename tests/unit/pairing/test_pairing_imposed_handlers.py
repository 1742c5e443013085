"""``ImposePairs`` through the service's handlers over fakes: formed around, refused whole
with the rule named, overrides recorded in the explanation."""

from __future__ import annotations

import pytest

from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    EraseParticipant,
    RecordReportingLines,
    RequestMatching,
    WithdrawParticipant,
)
from binome_shared.contracts.imposed_pairs import ImposedPair, ImposePairs, PairOverride
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    MatchingPreviewed,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.participants import ReportingLine
from binome_shared.contracts.programme import ApprovalMode

from .pairing_builders import mentee, mentor, rules
from .service_harness import Service

pytestmark = pytest.mark.unit

COMEX_REASON = "Choix du comité exécutif / executive committee's choice"


def imposed(mentor_id: str, mentee_id: str, reason: str | None = None) -> ImposedPair:
    override = PairOverride(reason=reason) if reason else None
    return ImposedPair(mentor_id=mentor_id, mentee_id=mentee_id, override=override)


async def cohort(approval: ApprovalMode = ApprovalMode.AUTOMATIC) -> Service:
    """Two executives of Finance and Audit, two other mentees, three mentors (one of Finance);
    different departments required."""
    service = Service()
    await service.programme(
        rules(different_department=True).model_copy(update={"approval_mode": approval})
    )
    await service.enrolled(
        mentor("Y1", department="Finance"),
        mentor("Y2", department="Digital"),
        mentor("Y3", department="Digital"),
        mentee("CEO", department="Finance"),
        mentee("CFO", department="Audit"),
        mentee("E1", department="Sales"),
    )
    return service


async def test_imposed_pairs_are_formed_and_the_rest_paired_around_them() -> None:
    service = await cohort()

    await service.handle(
        ImposePairs(round_id="comex", pairs=[imposed("Y2", "CEO"), imposed("Y3", "CFO")])
    )

    formed = service.outbox.of_type(PairFormed)
    assert sorted((p.mentor.participant_id, p.mentee.participant_id) for p in formed) == [
        ("Y1", "E1"),
        ("Y2", "CEO"),
        ("Y3", "CFO"),
    ]
    by_mentee = {p.mentee.participant_id: p for p in formed}
    ceo = by_mentee["CEO"].explanation.imposed
    assert ceo is not None
    assert ceo.overridden == []
    assert ceo.reason == ""
    assert ceo.summary.en == "Pair imposed by HR."
    assert ceo.summary.fr == "Binôme imposé par les RH."
    assert by_mentee["E1"].explanation.imposed is None
    [report] = service.outbox.of_type(MatchingCompleted)
    assert (report.pairs, report.pairs_kept, report.preview) == (3, 0, False)
    assert service.outbox.types() == ["PairFormed"] * 3 + ["MatchingCompleted"]
    assert len(service.pairing.with_status(PairStatus.FORMED)) == 3


async def test_imposed_pairs_follow_the_approval_mode_then_hr_approves() -> None:
    service = await cohort(ApprovalMode.HR_APPROVES)

    await service.handle(ImposePairs(round_id="comex", pairs=[imposed("Y2", "CEO")]))

    proposals = service.outbox.of_type(PairProposed)
    [ceo] = [p for p in proposals if p.mentee.participant_id == "CEO"]
    assert ceo.explanation.imposed is not None
    service.outbox.envelopes.clear()
    await service.handle(ApprovePair(pair_id=ceo.pair_id))
    [formed] = service.outbox.of_type(PairFormed)
    assert formed.explanation.imposed == ceo.explanation.imposed


async def test_a_broken_rule_is_refused_by_name_and_nothing_is_imposed() -> None:
    service = await cohort()

    refusal = await service.refused(
        ImposePairs(round_id="comex", pairs=[imposed("Y2", "CFO"), imposed("Y1", "CEO")]),
        "different_department",
    )

    assert 'imposed_pairs[1] (id "CEO")' in refusal.reason
    assert "different departments" in refusal.reason
    assert "départements différents" in refusal.reason
    assert service.pairing.pairs == {}, "all or nothing: Y2/CFO is not formed either"


async def test_an_override_forms_the_pair_and_the_explanation_shows_it() -> None:
    service = await cohort()

    await service.handle(ImposePairs(round_id="comex", pairs=[imposed("Y1", "CEO", COMEX_REASON)]))

    [ceo] = [p for p in service.outbox.of_type(PairFormed) if p.mentee.participant_id == "CEO"]
    imposition = ceo.explanation.imposed
    assert imposition is not None
    assert imposition.overridden == ["different_department"]
    assert imposition.reason == COMEX_REASON
    assert imposition.summary.en == (
        f"Pair imposed by HR. Rules overridden: different departments. Reason: {COMEX_REASON}"
    )
    assert imposition.summary.fr == (
        "Binôme imposé par les RH. Dérogation aux règles : départements différents. "
        f"Motif : {COMEX_REASON}"
    )
    assert "Rules overridden by HR: different departments." in ceo.explanation.summary.en
    stored = service.pairing.pairs[
        next(iter(k for k in service.pairing.pairs if k[1] == ceo.pair_id))
    ]
    assert stored.explanation.imposed == imposition


async def test_reporting_line_and_organisation_are_named() -> None:
    service = Service()
    await service.programme(rules(not_in_management_chain=True, different_organisation=True))
    await service.enrolled(
        mentor("Y1", organisation="Nova"),
        mentor("Y2", organisation="Lumen", manager_id="E2"),
        mentee("E1", organisation="Nova"),
        mentee("E2", organisation="Orbis"),
    )
    await service.handle(
        RecordReportingLines(lines=[ReportingLine(employee_id="Y2", manager_id="E2")])
    )

    chain = await service.refused(
        ImposePairs(round_id="r", pairs=[imposed("Y2", "E2")]), "not_in_management_chain"
    )
    organisation = await service.refused(
        ImposePairs(round_id="r", pairs=[imposed("Y1", "E1")]), "different_organisation"
    )
    both = await service.refused(
        ImposePairs(round_id="r", pairs=[imposed("Y1", "E1"), imposed("Y2", "E2")]),
        "imposed_pairs_refused",
    )

    assert "outside the management chain" in chain.reason
    assert "organisations différentes" in organisation.reason
    assert "different_organisation" in both.reason
    assert "not_in_management_chain" in both.reason


@pytest.mark.parametrize(
    ("pairs", "code"),
    [
        ([imposed("Y2", "CEO"), imposed("Y3", "CEO")], "mentee_imposed_twice"),
        ([imposed("Y2", "CEO"), imposed("Y2", "CEO")], "mentee_imposed_twice"),
        ([imposed("Y2", "NOBODY")], "unknown_participant"),
        ([imposed("CEO", "Y2")], "wrong_role"),
        ([imposed("Y2", "CEO"), imposed("Y2", "CFO")], "mentor_capacity"),
        (
            [imposed("Y2", "CEO", COMEX_REASON), imposed("Y2", "CFO", COMEX_REASON)],
            "mentor_capacity",
        ),
    ],
)
async def test_what_no_override_allows_is_refused_by_name(
    pairs: list[ImposedPair], code: str
) -> None:
    service = await cohort()

    await service.refused(ImposePairs(round_id="comex", pairs=pairs), code)

    assert service.pairing.pairs == {}


async def test_withdrawn_erased_and_already_paired_people_are_refused_by_name() -> None:
    service = await cohort()
    await service.handle(WithdrawParticipant(participant_id="Y3"))
    await service.handle(EraseParticipant(participant_id="E1"))
    await service.handle(ImposePairs(round_id="comex", pairs=[imposed("Y2", "CEO")]))
    service.outbox.envelopes.clear()

    await service.refused(
        ImposePairs(round_id="x", pairs=[imposed("Y3", "CFO")]), "participant_withdrawn"
    )
    await service.refused(
        ImposePairs(round_id="x", pairs=[imposed("Y2", "E1")]), "participant_erased"
    )
    await service.refused(
        ImposePairs(round_id="x", pairs=[imposed("Y1", "CEO", COMEX_REASON)]),
        "mentee_already_paired",
    )


async def test_another_tenants_programme_is_unknown() -> None:
    service = await cohort()

    await service.refused(
        ImposePairs(round_id="comex", pairs=[imposed("Y2", "CEO")]),
        "unknown_programme",
        tenant_id="another-tenant",
    )


async def test_people_of_another_tenant_are_unknown_in_a_programme_of_the_same_id() -> None:
    service = await cohort()
    await service.programme(rules(), tenant_id="another-tenant")

    refusal = await service.refused(
        ImposePairs(round_id="comex", pairs=[imposed("Y2", "CEO")]),
        "unknown_participant",
        tenant_id="another-tenant",
    )

    assert "Y2 is not enrolled in this programme" in refusal.reason
    assert service.pairing.pairs == {}


async def test_an_imposition_preview_keeps_nothing() -> None:
    service = await cohort()

    await service.handle(
        ImposePairs(round_id="comex", pairs=[imposed("Y1", "CEO", COMEX_REASON)], preview=True)
    )

    assert service.pairing.pairs == {}
    assert service.outbox.types() == ["MatchingPreviewed", "MatchingCompleted"]
    [part] = service.outbox.of_type(MatchingPreviewed)
    [ceo] = [p for p in part.pairs if p.mentee.participant_id == "CEO"]
    assert ceo.explanation.imposed is not None
    assert ceo.explanation.imposed.reason == COMEX_REASON
    assert (part.kept, part.new, part.broken) == (0, 3, 0)


async def test_other_rules_are_for_a_preview_only() -> None:
    service = await cohort()

    await service.refused(RequestMatching(round_id="r", rules=rules()), "rules_without_preview")
