"""Two tenants with the same programme id, participant ids and pair id, side by side in the
notifications handlers: each has its own programme, HR contact and people; each message is
read within its own tenant, parks under a name that carries it, and is written to its own
people only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.domain.model import NotificationKind
from binome_notifications.domain.sending import DeliveryStatus
from binome_notifications.prerequisites import pair_ready, programme_ready, session_ready
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.messaging.errors import AwaitingPrerequisiteError
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications import notifications_tenants as other
from tests.unit.notifications.notifications_service_fakes import Service

pytestmark = pytest.mark.unit

NOW = make.NOW
B = other.OTHER_TENANT
STARTS = NOW + timedelta(days=3)


async def both_tenants_paired() -> Service:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    await service.consume(
        other.define_programme(), *other.enrol_pair(), other.in_tenant(make.pair_formed()), now=NOW
    )
    return service


async def both_tenants_scheduled() -> Service:
    """Both tenants' pair-1 has its first session in three days (reminders pending)."""
    service = await both_tenants_paired()
    await service.consume(
        make.session_scheduled(starts_at=STARTS),
        other.in_tenant(make.session_scheduled(starts_at=STARTS)),
        now=NOW,
    )
    return service


def addresses_by_tenant(service: Service, kind: NotificationKind) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for planned in service.deliveries.planned():
        if planned.notification.kind is kind:
            found.setdefault(planned.tenant_id, set()).add(planned.notification.recipient.address)
    return found


async def test_a_programme_of_the_same_id_in_another_tenant_keeps_each_hr_contact() -> None:
    service = Service()
    await service.consume(make.define_programme(), other.define_programme(), now=NOW)
    contacts = {
        tenant: record.contact_email for (tenant, _), record in service.directory.programmes.items()
    }
    assert contacts == {make.TENANT: "claire.dubois@example.com", B: other.OTHER_CONTACT.email}
    assert service.released == [
        programme_ready(make.TENANT, make.PROGRAMME),
        programme_ready(B, make.PROGRAMME),
    ]


async def test_the_same_pair_in_two_tenants_introduces_each_tenants_own_people() -> None:
    service = await both_tenants_paired()
    assert addresses_by_tenant(service, NotificationKind.INTRODUCTION) == {
        make.TENANT: {"ines.martin@example.com", "laurent.girard@example.com"},
        B: set(other.OTHER_EMAILS.values()),
    }
    b_names = set(other.OTHER_NAMES.values())
    for planned in service.deliveries.planned():
        assert isinstance(planned.message, OutgoingEmail)
        if planned.tenant_id == make.TENANT:
            assert not any(name in planned.message.text for name in b_names)
    keys = [key for _, key in service.deliveries.deliveries]
    assert len(set(keys)) == len(keys) == 4, "the same reason in two tenants: two keys"


async def test_hr_alerts_go_to_each_tenants_own_contact() -> None:
    service = await both_tenants_paired()
    await service.consume(
        make.pair_fit_concern_raised(), other.in_tenant(make.pair_fit_concern_raised()), now=NOW
    )
    assert addresses_by_tenant(service, NotificationKind.HR_FIT_ALERT) == {
        make.TENANT: {"claire.dubois@example.com"},
        B: {other.OTHER_CONTACT.email},
    }


async def test_a_tenant_without_the_programme_finds_none_and_waits_under_its_own_name() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    before = dict(service.deliveries.deliveries)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(other.in_tenant(make.pair_formed()), now=NOW)
    assert parked.value.waiting_for == programme_ready(B, make.PROGRAMME)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(other.in_tenant(make.matching_completed()), now=NOW)
    assert parked.value.waiting_for == programme_ready(B, make.PROGRAMME)
    assert service.deliveries.deliveries == before, "nothing planned with A's contact or people"


async def test_a_tenant_without_the_pair_waits_for_its_own_pair_formed() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    await service.consume(other.define_programme(), *other.enrol_pair(), now=NOW)
    scheduled = make.session_scheduled(starts_at=NOW + timedelta(days=3))
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(other.in_tenant(scheduled), now=NOW)
    assert parked.value.waiting_for == pair_ready(B, "pair-1")
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(other.in_tenant(make.session_cancelled()), now=NOW)
    assert parked.value.waiting_for == pair_ready(B, "pair-1")


async def test_a_tenants_session_and_reminders_are_its_own() -> None:
    service = await both_tenants_scheduled()
    assert service.released[-2:] == [
        session_ready(make.TENANT, "pair-1-1"),
        session_ready(B, "pair-1-1"),
    ]
    # B's reschedule moves B's reminders only.
    moved = make.session_rescheduled(previous=STARTS, starts_at=STARTS + timedelta(days=1))
    await service.consume(other.in_tenant(moved), now=NOW)
    cancelled = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert {planned.tenant_id for planned in cancelled} == {B}
    assert len(cancelled) == 2
    assert service.directory.sessions[make.TENANT, "pair-1-1"].sequence == 0
    assert service.directory.sessions[B, "pair-1-1"].sequence == 1


async def test_a_dissolution_in_one_tenant_leaves_the_other_tenants_reminders() -> None:
    service = await both_tenants_scheduled()
    dissolved = make.envelope(
        PairDissolved(pair_id="pair-1", reason=DissolutionReason.HR_DECISION),
        source="/binome/pairing",
    )
    await service.consume(other.in_tenant(dissolved), now=NOW)
    cancelled = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert {(planned.tenant_id, planned.notification.kind) for planned in cancelled} == {
        (B, NotificationKind.SESSION_REMINDER)
    }


async def test_an_erasure_in_one_tenant_leaves_the_same_id_in_the_other() -> None:
    service = await both_tenants_paired()
    await service.consume(other.in_tenant(make.erase(make.MENTEE)), now=NOW)
    assert sorted(service.directory.people) == [
        (B, make.PROGRAMME, make.MENTOR),
        (make.TENANT, make.PROGRAMME, make.MENTEE),
        (make.TENANT, make.PROGRAMME, make.MENTOR),
    ]
    assert addresses_by_tenant(service, NotificationKind.INTRODUCTION) == {
        make.TENANT: {"ines.martin@example.com", "laurent.girard@example.com"}
    }
    assert service.directory.pairs[make.TENANT, "pair-1"].mentee_id == make.MENTEE
    assert service.directory.pairs[B, "pair-1"].mentee_id is None


def test_prerequisite_names_of_two_tenants_never_meet_even_with_slashes_in_ids() -> None:
    assert pair_ready("acme", "x/y") != pair_ready("acme/x", "y")
    assert pair_ready(make.TENANT, "pair-1") == f"pair:{make.TENANT}/pair-1"
