"""Consent asked of part of a programme (``ParticipantConsent.from_mentee_job_grade``): the
pure rule, then pairing's handlers over fakes: the pairs of senior mentees are put to their
members, the others proposed or formed as in a programme that asks nobody, in every round
(repair rounds included)."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from binome_pairing.domain.consent import consent_asked
from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.hr_commands import (
    ApprovePair,
    DeclinePair,
    RequestMatching,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import (
    PairConsentRequested,
    PairFormed,
    PairProposed,
)
from binome_shared.contracts.programme import ApprovalMode, ParticipantConsent

from .consent_harness import ConsentService
from .pairing_builders import mentee, mentor, need, rules, skill
from .service_fakes import TENANT

pytestmark = pytest.mark.unit

EXECUTIVES = 16
"""The programme's threshold: mentees of this grade and above are asked."""


@pytest.mark.parametrize(
    ("grade", "asked"), [(1, False), (15, False), (16, True), (17, True), (30, True)]
)
def test_only_mentees_at_or_above_the_grade_are_asked(grade: int, asked: bool) -> None:
    consent = ParticipantConsent(from_mentee_job_grade=EXECUTIVES)
    assert consent.asks(grade) is asked
    programme = rules().model_copy(update={"participant_consent": consent})
    assert consent_asked(programme, mentee_job_grade=grade) is asked


@pytest.mark.parametrize("grade", [1, 15, 30])
def test_without_a_scope_every_pair_is_asked(grade: int) -> None:
    consent = ParticipantConsent()
    assert consent.from_mentee_job_grade is None
    assert consent.asks(grade)
    programme = rules().model_copy(update={"participant_consent": consent})
    assert consent_asked(programme, mentee_job_grade=grade)


def test_a_programme_without_consent_asks_nobody_and_an_unknown_grade_is_asked() -> None:
    assert not consent_asked(rules(), mentee_job_grade=30)
    assert not consent_asked(rules(), mentee_job_grade=None)
    scoped = rules().model_copy(
        update={"participant_consent": ParticipantConsent(from_mentee_job_grade=EXECUTIVES)}
    )
    assert consent_asked(scoped, mentee_job_grade=None), "never formed unasked when unsure"


@pytest.mark.parametrize("grade", [0, 31, -1])
def test_the_threshold_is_a_job_grade(grade: int) -> None:
    with pytest.raises(ValidationError, match="from_mentee_job_grade"):
        ParticipantConsent(from_mentee_job_grade=grade)


def test_a_consent_written_before_the_scope_existed_still_reads_as_every_pair() -> None:
    consent = ParticipantConsent.model_validate({"respond_within_hours": 72})
    assert consent.from_mentee_job_grade is None
    assert ParticipantConsent.model_validate(
        {"from_mentee_job_grade": 1, "respond_within_hours": 1}
    )


async def scoped_programme(approval: ApprovalMode) -> ConsentService:
    """E1 (grade 17, needs data) and E2 (grade 12, needs social networks); M1 is E1's best
    mentor, M2 E2's, M3 a spare data mentor; consent asked from grade 16."""
    service = ConsentService()
    consent = ParticipantConsent(respond_within_hours=48, from_mentee_job_grade=EXECUTIVES)
    await service.programme(
        rules().model_copy(update={"approval_mode": approval, "participant_consent": consent})
    )
    await service.enrolled(
        mentor("M1", skills=[skill("data", 5)]),
        mentor("M2", skills=[skill("social_networks", 5)]),
        mentor("M3", skills=[skill("data", 3)]),
        mentee("E1", job_grade=17, learning_needs=[need("data", 5)]),
        mentee("E2", job_grade=12, learning_needs=[need("social_networks", 5)]),
    )
    await service.handle(RequestMatching(round_id="r1"))
    return service


def members(event: PairConsentRequested | PairFormed | PairProposed) -> tuple[str, str]:
    return event.mentor.participant_id, event.mentee.participant_id


async def test_a_round_asks_the_senior_mentee_s_pair_and_forms_the_other() -> None:
    service = await scoped_programme(ApprovalMode.AUTOMATIC)

    assert Counter(service.outbox.types()) == {
        "PairConsentRequested": 1,
        "PairFormed": 1,
        "MatchingCompleted": 1,
    }
    [asked] = service.outbox.of_type(PairConsentRequested)
    [formed] = service.outbox.of_type(PairFormed)
    assert (members(asked), members(formed)) == (("M1", "E1"), ("M2", "E2"))
    assert service.pairing.pairs[TENANT, asked.pair_id].status is PairStatus.AWAITING_CONSENT
    assert await service.consents.consent(TENANT, asked.pair_id) is not None
    assert await service.consents.consent(TENANT, formed.pair_id) is None, "never asked"


async def test_repair_rounds_apply_the_same_scope() -> None:
    service = await scoped_programme(ApprovalMode.AUTOMATIC)
    [asked] = service.outbox.of_type(PairConsentRequested)
    service.outbox.envelopes.clear()

    # The executive declines: re-paired with the spare mentor, and asked again.
    await service.handle(DeclinePair(pair_id=asked.pair_id, participant_id="E1"))
    assert service.outbox.types() == ["PairCalledOff", "PairConsentRequested", "MatchingCompleted"]
    [again] = service.outbox.of_type(PairConsentRequested)
    assert members(again) == ("M3", "E1")
    service.outbox.envelopes.clear()

    # The manager's mentor leaves: re-paired with the free mentor, formed without asking.
    await service.handle(WithdrawParticipant(participant_id="M2"))
    assert Counter(service.outbox.types()) == {
        "PairDissolved": 1,
        "PairFormed": 1,
        "MatchingCompleted": 1,
    }
    [formed] = service.outbox.of_type(PairFormed)
    assert members(formed) == ("M1", "E2")


async def test_hr_approves_both_then_only_the_senior_mentee_s_pair_is_asked() -> None:
    service = await scoped_programme(ApprovalMode.HR_APPROVES)
    proposals = {members(p)[1]: p.pair_id for p in service.outbox.of_type(PairProposed)}
    assert sorted(proposals) == ["E1", "E2"]
    service.outbox.envelopes.clear()

    await service.handle(ApprovePair(pair_id=proposals["E1"]))
    await service.handle(ApprovePair(pair_id=proposals["E2"]))

    assert service.outbox.types() == ["PairConsentRequested", "PairFormed"]
    [asked] = service.outbox.of_type(PairConsentRequested)
    [formed] = service.outbox.of_type(PairFormed)
    assert (asked.pair_id, formed.pair_id) == (proposals["E1"], proposals["E2"])
    assert service.pairing.pairs[TENANT, proposals["E1"]].status is PairStatus.AWAITING_CONSENT
    assert service.pairing.pairs[TENANT, proposals["E2"]].status is PairStatus.FORMED
