"""Erasure in the notifications service: about the person within the tenant, idempotent, and
final: an erased person is never stored nor notified again, and what arrives about their
pairs afterwards is a success that sends nothing (neither parked nor dead-lettered)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from binome_notifications.prerequisites import participant_ready
from binome_shared.contracts.hr_commands import OptOut as OptOutItem
from binome_shared.contracts.hr_commands import SetNotificationPreferences
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
    assert (make.TENANT, "pair-1") not in service.directory.pairs


async def test_a_session_event_about_an_erased_persons_pair_notifies_no_one() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    await service.consume(make.erase(make.MENTEE), now=NOW)
    before = len(service.deliveries.deliveries)
    await service.consume(
        make.session_scheduled(starts_at=NOW + timedelta(days=7)), make.session_completed(), now=NOW
    )
    assert len(service.deliveries.deliveries) == before
