"""Erasure in the notifications service: about the person within the tenant, idempotent, and
final: an erased person is never stored nor notified again, and what arrives about their
pairs afterwards is a success that sends nothing (neither parked nor dead-lettered)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from binome_notifications.domain.sending import DeliveryStatus
from binome_notifications.prerequisites import pair_ready, participant_ready
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import OptOut as OptOutItem
from binome_shared.contracts.hr_commands import SetNotificationPreferences
from binome_shared.contracts.pairing_events import PairSide
from binome_shared.contracts.participants import ParticipantRole
from tests.support.erasures import proofs
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications.notifications_service_fakes import Service

pytestmark = pytest.mark.unit

NOW = make.NOW
OTHER_PROGRAMME = "prog-notif-2"


async def test_a_second_erasure_changes_nothing() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    await service.consume(make.erase(make.MENTEE), now=NOW)
    people, deliveries = copy.deepcopy(service.directory.people), len(service.deliveries.deliveries)
    await service.consume(make.erase(make.MENTEE), now=NOW)
    assert service.directory.people == people
    assert len(service.deliveries.deliveries) == deliveries
    first, again = proofs(service.outbox.envelopes)
    assert (again.already_erased, again.erased_at, again.erased) == (True, first.erased_at, {})


async def test_erasing_someone_never_seen_is_a_success_that_is_remembered() -> None:
    service = Service()
    await service.consume(make.erase("Z9"), now=NOW)
    assert set(service.directory.erased) == {(make.TENANT, "Z9")}


async def test_an_erased_person_enrolled_in_another_programme_is_not_stored() -> None:
    service = Service()
    await service.consume(make.erase(make.MENTEE), now=NOW)
    enrolments = [
        enrolment.model_copy(update={"programme_id": OTHER_PROGRAMME})
        for enrolment in make.enrol_pair()
    ]
    await service.consume(*enrolments, now=NOW)
    assert list(service.directory.people) == [(make.TENANT, OTHER_PROGRAMME, make.MENTOR)]
    assert service.released == [participant_ready(make.TENANT, OTHER_PROGRAMME, make.MENTOR)]


async def test_an_erased_persons_preferences_are_not_stored() -> None:
    service = Service()
    await service.consume(make.erase(make.MENTEE), now=NOW)
    opt_out = SetNotificationPreferences(
        participant_id=make.MENTEE, opt_outs=[OptOutItem(channel="email")]
    )
    await service.consume(make.envelope(opt_out, source="/hr/test-platform"), now=NOW)
    assert service.directory.preferences == {}


async def test_a_pair_formed_with_an_erased_member_notifies_no_one_and_is_not_parked() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), now=NOW)
    await service.consume(make.erase(make.MENTEE), now=NOW)
    await service.consume(make.pair_formed(), now=NOW)
    assert service.deliveries.deliveries == {}
    # Known without her, as an erasure leaves her pairs: what arrives about it is skipped,
    # and what was parked for it is released, to be replayed and skipped.
    stored = service.directory.pairs[make.TENANT, "pair-1"]
    assert (stored.mentor_id, stored.mentee_id) == (make.MENTOR, None)
    assert pair_ready(make.TENANT, "pair-1") in service.released
    # A later session event is a success that sends nothing (parking would raise here).
    await service.consume(make.session_scheduled(starts_at=NOW + timedelta(days=3)), now=NOW)
    assert service.deliveries.deliveries == {}


async def test_a_session_event_about_an_erased_persons_pair_notifies_no_one() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    await service.consume(make.erase(make.MENTEE), now=NOW)
    before = len(service.deliveries.deliveries)
    await service.consume(
        make.session_scheduled(starts_at=NOW + timedelta(days=7)), make.session_completed(), now=NOW
    )
    assert len(service.deliveries.deliveries) == before


def second_pair() -> list[Envelope[Any]]:
    """Inès also mentors Zoé, in pair-2."""
    zoe = make.enrol(
        "X2", name="Zoé Bernard", email="zoe.bernard@example.com", role=ParticipantRole.MENTEE
    )
    formed = make.pair_formed("pair-2")
    data = formed.data.model_copy(
        update={"mentee": PairSide(participant_id="X2", business_unit="Finance")}
    )
    return [zoe, formed.model_copy(update={"data": data})]


async def test_pending_deliveries_naming_the_erased_person_are_withdrawn_the_rest_kept() -> None:
    service = Service()
    await service.consume(
        make.define_programme(),
        *make.enrol_pair(),
        make.pair_formed(),
        *second_pair(),
        make.pair_fit_concern_raised(),
        now=NOW,
    )
    await service.consume(make.erase(make.MENTEE), now=NOW)
    withdrawn = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert sorted((d.notification.kind.value, d.pair_id) for d in withdrawn) == [
        ("hr_fit_alert", "pair-1"),
        ("introduction", "pair-1"),
    ], "the mentor's introduction and HR's alert named the erased mentee"
    assert sorted(service.deliveries.kinds_to()) == [
        ("introduction", "X2"),
        ("introduction", make.MENTOR),
    ], "the other pair's introductions name no erased person"
    assert service.directory.pairs[make.TENANT, "pair-1"].mentee_id is None
    assert service.directory.pairs[make.TENANT, "pair-2"].mentee_id == "X2"


async def test_a_programme_contact_who_is_erased_is_cleared_and_gets_nothing_more() -> None:
    receiver = ReceiverSubscription(receiver_id="hr-platform")
    service = Service(receivers=[receiver])
    contact_as_participant = make.enrol(
        "H1", name="Claire Dubois", email="Claire.Dubois@example.com"
    )
    await service.consume(
        make.define_programme(), contact_as_participant, make.matching_completed(), now=NOW
    )
    await service.consume(make.erase("H1"), now=NOW)
    record = service.directory.programmes[make.TENANT, make.PROGRAMME]
    assert (record.contact_name, record.contact_email, record.hr_contact) == (None, None, None)
    assert service.deliveries.kinds_to() == [("matching_summary", "hr-platform")]
    assert [
        d.notification.recipient.address
        for d in service.deliveries.planned(DeliveryStatus.CANCELLED)
    ] == ["claire.dubois@example.com"]

    await service.consume(make.matching_completed("round-2"), now=NOW)
    assert [recipient for _, recipient in service.deliveries.kinds_to()] == ["hr-platform"] * 2
