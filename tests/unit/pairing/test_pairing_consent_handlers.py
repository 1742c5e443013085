"""Participant consent through pairing's handlers, over fakes: a pair put to its members is
formed only when both accept; a decline or silence past the deadline frees both, who are
re-paired (never together again) while every other pair stays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_pairing.domain.lifecycle import PairStatus
from binome_shared.contracts.hr_commands import (
    AcceptPair,
    ApprovePair,
    DeclinePair,
    RequestMatching,
    WithdrawParticipant,
)
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    MatchingCompleted,
    PairAccepted,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.messaging.errors import RejectedError

from .consent_harness import DEADLINE, ConsentService
from .service_fakes import NOW, TENANT

pytestmark = pytest.mark.unit

OTHER_TENANT = "autre-groupe"


def status(service: ConsentService, pair_id: str, tenant_id: str = TENANT) -> PairStatus:
    return service.pairing.pairs[tenant_id, pair_id].status


async def test_a_round_puts_its_pairs_to_their_members_with_the_deadline() -> None:
    service = ConsentService()
    pair_id = await service.asked()

    assert status(service, pair_id) is PairStatus.AWAITING_CONSENT
    record = await service.consents.consent(TENANT, pair_id)
    assert record is not None
    assert record.respond_by == DEADLINE


async def test_a_later_round_keeps_a_pair_awaiting_consent() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    # A new round with nothing to re-solve keeps the question put to them as it is.
    await service.handle(RequestMatching(round_id="r2"))
    assert service.outbox.types() == ["MatchingCompleted"]
    [report] = service.outbox.of_type(MatchingCompleted)
    assert report.pairs_kept == 1
    assert status(service, pair_id) is PairStatus.AWAITING_CONSENT


async def test_both_accept_and_the_pair_is_formed() -> None:
    service = ConsentService()
    pair_id = await service.asked()

    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))
    assert status(service, pair_id) is PairStatus.AWAITING_CONSENT
    assert service.outbox.types() == ["PairAccepted"]
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))

    assert service.outbox.types() == ["PairAccepted", "PairAccepted", "PairFormed"]
    sides = [event.side for event in service.outbox.of_type(PairAccepted)]
    assert sides == [ParticipantRole.MENTEE, ParticipantRole.MENTOR]
    [formed] = service.outbox.of_type(PairFormed)
    assert (formed.pair_id, formed.mentor.participant_id) == (pair_id, "M1")
    assert status(service, pair_id) is PairStatus.FORMED
    assert all(e.tenant_id == TENANT for e in service.outbox.envelopes)


async def test_accepting_twice_changes_nothing_before_or_after_the_pair_is_formed() -> None:
    service = ConsentService()
    pair_id = await service.asked()

    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))
    assert service.outbox.types() == ["PairAccepted"]
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))

    assert service.outbox.types() == ["PairAccepted", "PairAccepted", "PairFormed"]
    assert status(service, pair_id) is PairStatus.FORMED


async def test_a_decline_frees_both_and_re_pairs_without_the_declined_partner() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))
    service.outbox.envelopes.clear()

    await service.handle(DeclinePair(pair_id=pair_id, participant_id="E1"))

    assert service.outbox.types() == ["PairCalledOff", "PairConsentRequested", "MatchingCompleted"]
    [called_off] = service.outbox.of_type(PairCalledOff)
    assert (called_off.pair_id, called_off.reason) == (pair_id, CallOffReason.DECLINED)
    assert called_off.declined_by is ParticipantRole.MENTEE, "HR's event says which side"
    assert status(service, pair_id) is PairStatus.CALLED_OFF
    [again] = service.outbox.of_type(PairConsentRequested)
    assert (again.mentor.participant_id, again.mentee.participant_id) == ("M2", "E1")
    assert again.round_id.startswith("repair-")
    assert status(service, again.pair_id) is PairStatus.AWAITING_CONSENT
    [report] = service.outbox.of_type(MatchingCompleted)
    assert [u.participant_id for u in report.unmatched] == ["M1"], "M1 is never offered E1 again"


async def test_a_decline_after_accepting_is_still_a_decline() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))
    service.outbox.envelopes.clear()

    await service.handle(DeclinePair(pair_id=pair_id, participant_id="E1"))
    await service.handle(DeclinePair(pair_id=pair_id, participant_id="E1"))  # twice: nothing

    assert service.outbox.types() == ["PairCalledOff", "PairConsentRequested", "MatchingCompleted"]
    refusal = await service.refused(
        AcceptPair(pair_id=pair_id, participant_id="M1"), "pair_not_awaiting_consent"
    )
    assert "E1" not in str(refusal), "the refusal never says who declined"


async def test_silence_past_the_deadline_frees_both_and_re_pairs_them() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))
    service.outbox.envelopes.clear()

    await service.sweep(DEADLINE - timedelta(minutes=1))
    assert service.outbox.envelopes == [], "not due yet"
    await service.sweep(DEADLINE)

    assert service.outbox.types() == ["PairCalledOff", "PairConsentRequested", "MatchingCompleted"]
    [called_off] = service.outbox.of_type(PairCalledOff)
    assert (called_off.reason, called_off.declined_by) == (CallOffReason.NO_ANSWER, None)
    assert status(service, pair_id) is PairStatus.CALLED_OFF
    [again] = service.outbox.of_type(PairConsentRequested)
    assert (again.mentor.participant_id, again.mentee.participant_id) == ("M2", "E1")
    assert again.respond_by == DEADLINE + (DEADLINE - NOW), "asked at the sweep's time"
    repair_cause = service.outbox.envelopes[1].causation_id
    assert repair_cause == service.outbox.envelopes[0].id, "the round follows the call-off"

    service.outbox.envelopes.clear()
    await service.sweep(DEADLINE + timedelta(minutes=15))
    assert service.outbox.envelopes == [], "a called-off pair is swept once"


async def test_an_answer_after_the_deadline_is_refused_before_and_after_the_sweep() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    late = DEADLINE + timedelta(seconds=1)

    for answer in (AcceptPair, DeclinePair):
        with pytest.raises(RejectedError) as refusal:
            await service.handle_at(answer(pair_id=pair_id, participant_id="E1"), late)
        assert refusal.value.code == "consent_deadline_passed"
    assert service.outbox.envelopes == []
    await service.sweep(late)
    service.outbox.envelopes.clear()
    with pytest.raises(RejectedError) as refusal:
        await service.handle_at(AcceptPair(pair_id=pair_id, participant_id="M1"), late)
    assert refusal.value.code == "consent_deadline_passed"
    assert "too late" in str(refusal.value)
    assert "étaient attendues" in str(refusal.value)
    assert service.outbox.envelopes == []


async def test_someone_outside_the_pair_is_refused() -> None:
    service = ConsentService()
    pair_id = await service.asked()

    refusal = await service.refused(
        AcceptPair(pair_id=pair_id, participant_id="M2"), "not_pair_member"
    )
    await service.refused(DeclinePair(pair_id=pair_id, participant_id="M2"), "not_pair_member")

    assert "ne fait pas partie" in str(refusal)
    assert "not a member" in str(refusal)
    assert status(service, pair_id) is PairStatus.AWAITING_CONSENT


async def test_another_tenant_s_pair_is_unknown() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    await service.programme(tenant_id=OTHER_TENANT)

    refusal = await service.refused(
        AcceptPair(pair_id=pair_id, participant_id="E1"), "unknown_pair", tenant_id=OTHER_TENANT
    )

    assert TENANT not in str(refusal)
    assert status(service, pair_id) is PairStatus.AWAITING_CONSENT
    await service.refused(
        DeclinePair(pair_id=pair_id, participant_id="E1"),
        "unknown_programme",
        tenant_id="third-tenant",
    )


async def test_hr_approves_first_then_both_members_are_asked() -> None:
    service = ConsentService()
    pair_id = await service.asked(approval=ApprovalMode.HR_APPROVES)
    assert status(service, pair_id) is PairStatus.PROPOSED
    await service.refused(
        AcceptPair(pair_id=pair_id, participant_id="E1"), "pair_not_awaiting_consent"
    )

    await service.handle(ApprovePair(pair_id=pair_id))
    assert service.outbox.types() == ["PairConsentRequested"]
    [asked] = service.outbox.of_type(PairConsentRequested)
    assert asked.respond_by == DEADLINE
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="M1"))

    assert service.outbox.types()[-1] == "PairFormed"
    assert status(service, pair_id) is PairStatus.FORMED
    await service.refused(
        DeclinePair(pair_id=pair_id, participant_id="E1"), "pair_not_awaiting_consent"
    )


async def test_a_member_withdrawn_while_asked_calls_the_pair_off_and_frees_the_other() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    await service.handle(AcceptPair(pair_id=pair_id, participant_id="E1"))
    service.outbox.envelopes.clear()

    await service.handle(WithdrawParticipant(participant_id="M1"))

    assert service.outbox.types() == ["PairCalledOff", "PairConsentRequested", "MatchingCompleted"]
    [called_off] = service.outbox.of_type(PairCalledOff)
    assert (called_off.reason, called_off.declined_by) == (CallOffReason.PARTICIPANT_LEFT, None)
    assert status(service, pair_id) is PairStatus.SUPERSEDED, "not a refusal: no exclusion"
    [again] = service.outbox.of_type(PairConsentRequested)
    assert (again.mentor.participant_id, again.mentee.participant_id) == ("M2", "E1")
    await service.sweep(DEADLINE)
    assert [e for e in service.outbox.of_type(PairCalledOff) if e.pair_id == pair_id] == [
        called_off
    ], "the sweep only settles a pair that no longer awaits answers"
