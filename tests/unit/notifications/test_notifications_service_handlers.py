"""Every message handler of the notifications service, over a fake directory and ledger:
what it remembers, what it plans for whom, what it parks and what it releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.policy import OptOut, Preferences
from binome_notifications.domain.sending import DeliveryStatus
from binome_notifications.prerequisites import (
    pair_ready,
    participant_ready,
    programme_ready,
    session_ready,
)
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import OptOut as OptOutItem
from binome_shared.contracts.hr_commands import SetNotificationPreferences
from binome_shared.contracts.pairing_events import DissolutionReason, PairDissolved
from binome_shared.contracts.privacy_events import ErasingService
from binome_shared.contracts.sessions_messages import (
    CompletionReason,
    PairCompleted,
    PairStalled,
    ParticipantRole,
)
from binome_shared.contracts.values import Language
from binome_shared.messaging.errors import AwaitingPrerequisiteError, RejectedError
from tests.support.erasures import proofs
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications.notifications_service_fakes import Service

pytestmark = pytest.mark.unit

NOW = make.NOW
HR = f"hr:{make.PROGRAMME}"
SESSION = "pair-1-1"


async def known_pair() -> Service:
    """A service that knows the programme, both members and their pair."""
    known = Service()
    await known.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    return known


def preferences(participant_id: str, *opt_outs: OptOutItem) -> Envelope[Any]:
    return make.envelope(
        SetNotificationPreferences(participant_id=participant_id, opt_outs=list(opt_outs)),
        source="/hr/test-platform",
    )


# --- HR commands ------------------------------------------------------------------------


async def test_a_programme_definition_is_remembered_and_releases_what_waited() -> None:
    service = Service()
    await service.consume(make.define_programme(reminder_hours_before=48), now=NOW)
    record = service.directory.programmes[make.TENANT, make.PROGRAMME]
    assert (record.tenant_id, record.reminder_lead) == (make.TENANT, timedelta(hours=48))
    assert service.released == [programme_ready(make.TENANT, make.PROGRAMME)]


async def test_an_enrolment_run_is_saved_at_once_and_releases_each_participant() -> None:
    service = Service()
    await service.consume(*make.enrol_pair(), now=NOW)
    assert sorted(service.directory.people) == [
        (make.TENANT, make.PROGRAMME, "X1"),
        (make.TENANT, make.PROGRAMME, "Y1"),
    ]
    laurent = service.directory.people[make.TENANT, make.PROGRAMME, make.MENTEE]
    assert (laurent.display_name, laurent.language) == ("Laurent Girard", Language.EN)
    assert service.released == [
        participant_ready(make.TENANT, make.PROGRAMME, make.MENTOR),
        participant_ready(make.TENANT, make.PROGRAMME, make.MENTEE),
    ]


async def test_preferences_replace_the_participants_opt_outs() -> None:
    service = Service()
    await service.consume(
        preferences(make.MENTEE, OptOutItem(kind="introduction"), OptOutItem(channel="email")),
        now=NOW,
    )
    assert service.directory.preferences[(make.TENANT, make.MENTEE)] == Preferences(
        opt_outs=frozenset(
            {
                OptOut(kind=NotificationKind.INTRODUCTION),
                OptOut(channel=Channel.EMAIL),
            }
        )
    )


async def test_preferences_naming_an_unknown_kind_are_refused() -> None:
    with pytest.raises(RejectedError) as refused:
        await Service().consume(preferences(make.MENTEE, OptOutItem(kind="newsletter")), now=NOW)
    assert refused.value.code == "unknown_notification_kind"
    assert "newsletter" in refused.value.reason


async def test_an_erasure_forgets_the_person_and_every_delivery_to_them() -> None:
    service = await known_pair()
    assert len(service.deliveries.deliveries) == 2
    await service.consume(make.erase(make.MENTEE), now=NOW)
    assert (make.TENANT, make.PROGRAMME, make.MENTEE) not in service.directory.people
    # The mentor's introduction names the erased mentee: withdrawn, not sent.
    assert service.deliveries.kinds_to() == []
    withdrawn = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert [d.notification.recipient.recipient_id for d in withdrawn] == [make.MENTOR]
    [proof] = proofs(service.outbox.envelopes)
    assert (proof.participant_id, proof.service, proof.already_erased) == (
        make.MENTEE,
        ErasingService.NOTIFICATIONS,
        False,
    )
    assert proof.erased == {
        "addresses": 1,
        "pair_memberships": 1,
        "deliveries": 1,
        "deliveries_withdrawn": 1,
    }


# --- pairing events ---------------------------------------------------------------------


async def test_a_formed_pair_gets_introductions_from_one_read_and_one_write() -> None:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), now=NOW)
    service.directory.reads = 0
    await service.consume(make.pair_formed(), now=NOW)
    assert service.deliveries.kinds_to() == [
        ("introduction", make.MENTOR),
        ("introduction", make.MENTEE),
    ]
    # Programme, mentor, mentee and their opt-outs in one read; the deliveries in one write.
    assert (service.directory.reads, service.deliveries.statements) == (1, 1)
    assert service.directory.pairs[make.TENANT, "pair-1"].mentee_id == make.MENTEE
    assert service.released[-1] == pair_ready(make.TENANT, "pair-1")
    introduction = service.deliveries.planned()[0]
    assert introduction.due_at == NOW
    assert introduction.pair_id == "pair-1"
    assert introduction.expires_at is None


async def test_a_redelivered_pair_formed_plans_nothing_more() -> None:
    service = await known_pair()
    await service.consume(make.pair_formed(), now=NOW)
    assert len(service.deliveries.deliveries) == 2


async def test_a_pair_formed_before_its_programme_waits_for_it() -> None:
    service = Service()
    await service.consume(*make.enrol_pair(), now=NOW)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(make.pair_formed(), now=NOW)
    assert parked.value.waiting_for == programme_ready(make.TENANT, make.PROGRAMME)
    assert service.directory.pairs == {}


async def test_a_pair_formed_before_its_mentee_is_enrolled_waits_for_the_mentee() -> None:
    service = Service()
    await service.consume(make.define_programme(), make.enrol_pair()[0], now=NOW)
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(make.pair_formed(), now=NOW)
    assert parked.value.waiting_for == participant_ready(make.TENANT, make.PROGRAMME, make.MENTEE)


async def test_an_opted_out_mentee_gets_no_introduction_and_the_mentor_still_does() -> None:
    service = Service()
    await service.consume(
        make.define_programme(),
        *make.enrol_pair(),
        preferences(make.MENTEE, OptOutItem(kind="introduction")),
        make.pair_formed(),
        now=NOW,
    )
    assert service.deliveries.kinds_to() == [("introduction", make.MENTOR)]


async def test_a_dissolved_pair_loses_its_pending_reminders_only() -> None:
    service = await known_pair()
    await service.consume(make.session_scheduled(starts_at=NOW + timedelta(days=3)), now=NOW)
    dissolved = make.envelope(
        PairDissolved(pair_id="pair-1", reason=DissolutionReason.HR_DECISION),
        source="/binome/pairing",
    )
    await service.consume(dissolved, now=NOW)
    cancelled = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert {planned.notification.kind for planned in cancelled} == {
        NotificationKind.SESSION_REMINDER
    }
    assert len(cancelled) == 2


async def test_a_matching_round_is_summarised_to_hr_and_subscribed_receivers() -> None:
    receiver = ReceiverSubscription(receiver_id="hr-platform")
    service = Service(receivers=[receiver])
    await service.consume(make.define_programme(), make.matching_completed(), now=NOW)
    assert service.deliveries.kinds_to() == [
        ("matching_summary", HR),
        ("matching_summary", "hr-platform"),
    ]
    webhook = service.deliveries.planned()[1]
    assert webhook.notification.channel is Channel.WEBHOOK
    assert webhook.pair_id is None


async def test_a_matching_round_before_its_programme_waits_for_it() -> None:
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await Service().consume(make.matching_completed(), now=NOW)
    assert parked.value.waiting_for == programme_ready(make.TENANT, make.PROGRAMME)


# --- sessions events --------------------------------------------------------------------


async def test_a_scheduled_session_is_confirmed_and_reminded_the_day_before() -> None:
    service = await known_pair()
    starts_at = NOW + timedelta(days=3)
    await service.consume(make.session_scheduled(starts_at=starts_at), now=NOW)
    kinds = [kind for kind, _ in service.deliveries.kinds_to()]
    assert kinds.count("session_invitation") == 2
    assert kinds.count("session_reminder") == 2
    reminder = next(
        planned
        for planned in service.deliveries.planned()
        if planned.notification.kind is NotificationKind.SESSION_REMINDER
    )
    assert reminder.due_at == starts_at - timedelta(hours=24)
    assert reminder.expires_at == starts_at
    assert service.directory.sessions[make.TENANT, SESSION].sequence == 0
    assert service.released[-1] == session_ready(make.TENANT, SESSION)


async def test_a_reschedule_cancels_the_older_revisions_reminders() -> None:
    service = await known_pair()
    first = NOW + timedelta(days=3)
    await service.consume(make.session_scheduled(starts_at=first), now=NOW)
    moved = make.session_rescheduled(previous=first, starts_at=first + timedelta(days=2))
    await service.consume(moved, now=NOW)
    cancelled = service.deliveries.planned(DeliveryStatus.CANCELLED)
    assert {planned.notification.subject_id for planned in cancelled} == {f"{SESSION}#0"}
    assert service.directory.sessions[make.TENANT, SESSION].sequence == 1


async def test_a_session_event_before_its_pair_waits_for_the_pair() -> None:
    service = Service()
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(make.session_scheduled(starts_at=NOW + timedelta(days=3)), now=NOW)
    assert parked.value.waiting_for == pair_ready(make.TENANT, "pair-1")


async def test_a_cancellation_sends_a_cancel_above_the_last_invite() -> None:
    service = await known_pair()
    await service.consume(make.session_scheduled(starts_at=NOW + timedelta(days=3)), now=NOW)
    await service.consume(make.session_cancelled(), now=NOW)
    assert [kind for kind, _ in service.deliveries.kinds_to()].count("session_cancellation") == 2
    assert len(service.deliveries.planned(DeliveryStatus.CANCELLED)) == 2  # the reminders
    assert service.directory.sessions[make.TENANT, SESSION].sequence == 1


async def test_a_cancellation_of_a_session_never_seen_waits_for_it() -> None:
    service = await known_pair()
    with pytest.raises(AwaitingPrerequisiteError) as parked:
        await service.consume(make.session_cancelled(), now=NOW)
    assert parked.value.waiting_for == session_ready(make.TENANT, SESSION)


async def test_a_completed_session_asks_for_feedback_after_the_programmes_delay() -> None:
    service = await known_pair()
    held_at = NOW - timedelta(hours=1)
    await service.consume(make.session_completed(held_at=held_at), now=NOW)
    requests = [
        planned
        for planned in service.deliveries.planned()
        if planned.notification.kind is NotificationKind.FEEDBACK_REQUEST
    ]
    delay = service.directory.programmes[make.TENANT, make.PROGRAMME].feedback_delay
    assert len(requests) == 2
    assert all(planned.notification.send_at == held_at + delay for planned in requests)


async def test_a_programme_without_feedback_after_sessions_asks_for_none() -> None:
    service = await known_pair()
    record = service.directory.programmes[make.TENANT, make.PROGRAMME]
    service.directory.programmes[make.TENANT, make.PROGRAMME] = replace(
        record, feedback_after_each_session=False
    )
    await service.consume(make.session_completed(), now=NOW)
    assert "feedback_request" not in [kind for kind, _ in service.deliveries.kinds_to()]


async def test_a_stalled_pair_is_nudged_and_hr_alerted() -> None:
    service = await known_pair()
    stalled = make.envelope(
        PairStalled(pair_id="pair-1", last_session_at=None, weeks_silent=4),
        source="/binome/sessions",
    )
    await service.consume(stalled, now=NOW)
    assert service.deliveries.kinds_to()[2:] == [
        ("stall_nudge", make.MENTOR),
        ("stall_nudge", make.MENTEE),
        ("hr_stall_alert", HR),
    ]


async def test_a_fit_concern_alerts_hr_only_whatever_the_sides_opt_outs() -> None:
    service = await known_pair()
    everything = OptOutItem()
    await service.consume(preferences(make.MENTEE, everything), now=NOW)
    await service.consume(make.pair_fit_concern_raised(side=ParticipantRole.MENTEE), now=NOW)
    assert service.deliveries.kinds_to()[2:] == [("hr_fit_alert", HR)]


async def test_a_completed_pair_is_thanked() -> None:
    service = await known_pair()
    completed = make.envelope(
        PairCompleted(
            pair_id="pair-1",
            reason=CompletionReason.PLAN_COMPLETED,
            sessions_held=6,
            sessions_planned=6,
        ),
        source="/binome/sessions",
    )
    await service.consume(completed, now=NOW)
    assert service.deliveries.kinds_to()[2:] == [
        ("pair_thanks", make.MENTOR),
        ("pair_thanks", make.MENTEE),
    ]


async def test_a_progress_report_goes_to_hr() -> None:
    service = Service()
    await service.consume(make.define_programme(), make.progress_reported(), now=NOW)
    assert service.deliveries.kinds_to() == [("progress_report", HR)]
