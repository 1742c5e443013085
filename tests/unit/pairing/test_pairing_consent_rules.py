"""The pure rules of participant consent (``PairConsent``): who may answer, until when, and
what each answer does to the pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from binome_pairing.domain.consent import Answer, ConsentRefusedError, Outcome, PairConsent
from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.participants import ParticipantRole

pytestmark = pytest.mark.unit

DUE = datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
BEFORE = DUE - timedelta(hours=1)
ASKED = PairConsent(
    pair_id="pair-1",
    mentor_id="M1",
    mentee_id="E1",
    status=PairStatus.AWAITING_CONSENT,
    respond_by=DUE,
)


def refusal(consent: PairConsent, who: str, answer: Answer, now: datetime) -> str:
    with pytest.raises(ConsentRefusedError) as refused:
        consent.answered(who, answer, now=now)
    return refused.value.code


def test_the_first_acceptance_waits_for_the_other_and_the_second_forms_the_pair() -> None:
    first = ASKED.answered("E1", Answer.ACCEPTED, now=BEFORE)
    assert (first.outcome, first.side) == (Outcome.ACCEPTED, ParticipantRole.MENTEE)
    assert first.consent.status is PairStatus.AWAITING_CONSENT
    assert not first.consent.settled

    second = first.consent.answered("M1", Answer.ACCEPTED, now=BEFORE)
    assert (second.outcome, second.side) == (Outcome.FORMED, ParticipantRole.MENTOR)
    assert second.consent.status is PairStatus.FORMED
    assert second.consent.settled


def test_a_decline_calls_the_pair_off_even_after_accepting() -> None:
    accepted = ASKED.answered("M1", Answer.ACCEPTED, now=BEFORE).consent
    declined = accepted.answered("M1", Answer.DECLINED, now=BEFORE)
    assert (declined.outcome, declined.side) == (Outcome.CALLED_OFF, ParticipantRole.MENTOR)
    assert declined.consent.mentor_answer is Answer.DECLINED
    assert declined.consent.status is PairStatus.CALLED_OFF


def test_the_same_answer_again_changes_nothing_in_any_settled_state() -> None:
    accepted = ASKED.answered("E1", Answer.ACCEPTED, now=BEFORE).consent
    assert accepted.answered("E1", Answer.ACCEPTED, now=BEFORE).outcome is Outcome.UNCHANGED
    formed = accepted.answered("M1", Answer.ACCEPTED, now=BEFORE).consent
    assert formed.answered("M1", Answer.ACCEPTED, now=DUE).outcome is Outcome.UNCHANGED
    declined = ASKED.answered("E1", Answer.DECLINED, now=BEFORE).consent
    assert declined.answered("E1", Answer.DECLINED, now=DUE).outcome is Outcome.UNCHANGED


def test_answers_at_or_after_the_deadline_are_refused() -> None:
    assert refusal(ASKED, "E1", Answer.ACCEPTED, DUE) == "consent_deadline_passed"
    assert refusal(ASKED, "M1", Answer.DECLINED, DUE) == "consent_deadline_passed"
    expired = ASKED.expired(now=DUE)
    assert expired is not None
    assert refusal(expired.consent, "E1", Answer.ACCEPTED, DUE) == "consent_deadline_passed"


def test_the_deadline_calls_off_only_a_pair_still_awaiting_answers() -> None:
    assert ASKED.expired(now=BEFORE) is None
    expired = ASKED.expired(now=DUE)
    assert expired is not None
    assert (expired.outcome, expired.side) == (Outcome.CALLED_OFF, None)
    formed = ASKED.answered("E1", Answer.ACCEPTED, now=BEFORE).consent.answered(
        "M1", Answer.ACCEPTED, now=BEFORE
    )
    assert formed.consent.expired(now=DUE + timedelta(days=1)) is None


def test_a_closed_pair_refuses_other_answers_without_saying_who_declined() -> None:
    declined = ASKED.answered("E1", Answer.DECLINED, now=BEFORE).consent
    assert refusal(declined, "M1", Answer.ACCEPTED, BEFORE) == "pair_not_awaiting_consent"
    with pytest.raises(ConsentRefusedError) as refused:
        declined.answered("M1", Answer.ACCEPTED, now=BEFORE)
    assert "E1" not in str(refused.value)
    with_hr = PairConsent(
        pair_id="pair-2",
        mentor_id="M1",
        mentee_id="E1",
        status=PairStatus.PROPOSED,
        respond_by=DUE,
    )
    assert refusal(with_hr, "E1", Answer.ACCEPTED, BEFORE) == "pair_not_awaiting_consent"


def test_only_the_two_members_may_answer() -> None:
    with pytest.raises(ConsentRefusedError) as refused:
        ASKED.answered("M2", Answer.ACCEPTED, now=BEFORE)
    assert refused.value.code == "not_pair_member"
    assert "not a member" in str(refused.value)
    assert "ne fait pas partie" in str(refused.value)
