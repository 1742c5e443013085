from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from binome_devstack.notifications.examples import (
    EXAMPLE_HR,
    EXAMPLE_MENTEE,
    EXAMPLE_MENTOR,
    EXAMPLE_NOW,
    EXAMPLE_PROGRAMME,
    EXAMPLE_SESSION_START,
    EXAMPLE_THEME,
    example_trigger,
)
from binome_notifications.domain.content import (
    CalendarMethod,
    HrFitAlertContent,
    HrStallAlertContent,
    IntroductionContent,
    SessionContent,
)
from binome_notifications.domain.model import (
    Channel,
    NotificationKind,
    WebhookReceiver,
    delivery_key,
)
from binome_notifications.domain.planning import (
    DEFAULT_FIRST_STEP,
    plan_notifications,
    supersedes_reminder,
)
from binome_notifications.domain.triggers import (
    PairFitConcern,
    PairFormed,
    PairStalled,
    SessionCancelled,
    SessionScheduled,
)
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

KIND = NotificationKind


def _scheduled(**changes: object) -> SessionScheduled:
    trigger = example_trigger(KIND.SESSION_INVITATION)
    assert isinstance(trigger, SessionScheduled)
    return replace(trigger, **changes)  # type: ignore[arg-type]


def test_pair_formed_introduces_each_person_to_the_other() -> None:
    planned = plan_notifications(example_trigger(KIND.INTRODUCTION))

    assert [(n.kind, n.recipient.recipient_id) for n in planned] == [
        (KIND.INTRODUCTION, EXAMPLE_MENTOR.person_id),
        (KIND.INTRODUCTION, EXAMPLE_MENTEE.person_id),
    ]
    to_mentor, to_mentee = (n.content for n in planned)
    assert isinstance(to_mentor, IntroductionContent)
    assert isinstance(to_mentee, IntroductionContent)
    assert (to_mentor.partner_name, to_mentor.recipient_role) == (
        "Laurent Girard",
        ParticipantRole.MENTOR,
    )
    assert (to_mentee.partner_name, to_mentee.partner_role) == (
        "Inès Moreau",
        ParticipantRole.MENTOR,
    )
    assert to_mentee.partner_job_title == "Community manager"
    assert to_mentor.first_step == DEFAULT_FIRST_STEP
    assert to_mentor.link_path == "/pairs/pair-42"
    assert all(n.send_at == EXAMPLE_NOW and n.channel is Channel.EMAIL for n in planned)


def test_language_is_the_persons_then_the_programmes_then_french() -> None:
    trigger = example_trigger(KIND.INTRODUCTION)
    assert isinstance(trigger, PairFormed)
    english_mentor = replace(trigger.mentor, language=Language.EN)
    silent_mentee = replace(trigger.mentee, language=None, time_zone=None)

    english_programme = replace(trigger.programme, language=Language.EN, time_zone="Europe/London")
    planned = plan_notifications(
        replace(trigger, mentor=english_mentor, mentee=silent_mentee, programme=english_programme)
    )
    assert [n.language for n in planned] == [Language.EN, Language.EN]
    assert planned[1].recipient.time_zone == "Europe/London"

    silent_programme = replace(trigger.programme, language=None)
    planned = plan_notifications(
        replace(trigger, mentor=english_mentor, mentee=silent_mentee, programme=silent_programme)
    )
    assert [n.language for n in planned] == [Language.EN, Language.FR]


def test_session_scheduled_sends_an_invitation_now_and_a_reminder_a_day_before() -> None:
    planned = plan_notifications(_scheduled())

    assert [(n.kind, n.recipient.recipient_id) for n in planned] == [
        (KIND.SESSION_INVITATION, EXAMPLE_MENTOR.person_id),
        (KIND.SESSION_REMINDER, EXAMPLE_MENTOR.person_id),
        (KIND.SESSION_INVITATION, EXAMPLE_MENTEE.person_id),
        (KIND.SESSION_REMINDER, EXAMPLE_MENTEE.person_id),
    ]
    invitation, reminder = planned[0], planned[1]
    assert invitation.send_at == EXAMPLE_NOW
    assert reminder.send_at == EXAMPLE_SESSION_START - timedelta(hours=24)
    assert isinstance(invitation.content, SessionContent)
    assert invitation.content.calendar is not None
    assert invitation.content.calendar.method is CalendarMethod.REQUEST
    assert invitation.content.calendar.sequence == 0
    assert isinstance(reminder.content, SessionContent)
    assert reminder.content.calendar is None


def test_reminder_lead_is_per_programme() -> None:
    programme = replace(EXAMPLE_PROGRAMME, reminder_lead=timedelta(hours=2))
    reminders = [
        n
        for n in plan_notifications(_scheduled(programme=programme))
        if n.kind is KIND.SESSION_REMINDER
    ]
    assert {n.send_at for n in reminders} == {EXAMPLE_SESSION_START - timedelta(hours=2)}


def test_no_reminder_for_a_session_booked_inside_the_reminder_window() -> None:
    soon = EXAMPLE_NOW + timedelta(hours=5)
    planned = plan_notifications(_scheduled(starts_at=soon, ends_at=soon + timedelta(hours=1)))
    assert {n.kind for n in planned} == {KIND.SESSION_INVITATION}


def test_a_reschedule_is_a_new_reason_with_the_same_calendar_uid_and_a_higher_sequence() -> None:
    first = plan_notifications(_scheduled())[0]
    moved_start = EXAMPLE_SESSION_START + timedelta(days=1)
    moved = plan_notifications(
        _scheduled(sequence=1, starts_at=moved_start, ends_at=moved_start + timedelta(hours=1))
    )[0]

    assert first.delivery_key != moved.delivery_key
    assert isinstance(first.content, SessionContent)
    assert isinstance(moved.content, SessionContent)
    assert first.content.calendar is not None
    assert moved.content.calendar is not None
    assert first.content.calendar.uid == moved.content.calendar.uid
    assert (first.content.calendar.sequence, moved.content.calendar.sequence) == (0, 1)
    assert (first.content.is_update, moved.content.is_update) == (False, True)


def test_cancellation_carries_a_cancel_invite_with_the_same_uid() -> None:
    cancelled = example_trigger(KIND.SESSION_CANCELLATION)
    assert isinstance(cancelled, SessionCancelled)
    planned = plan_notifications(cancelled)
    scheduled_uid = plan_notifications(_scheduled())[0].content

    assert {n.kind for n in planned} == {KIND.SESSION_CANCELLATION}
    assert len(planned) == 2
    content = planned[0].content
    assert isinstance(content, SessionContent)
    assert isinstance(scheduled_uid, SessionContent)
    assert content.calendar is not None
    assert scheduled_uid.calendar is not None
    assert content.calendar.method is CalendarMethod.CANCEL
    assert content.calendar.uid == scheduled_uid.calendar.uid
    assert content.calendar.sequence == cancelled.sequence


def test_stalled_pair_nudges_both_and_alerts_hr_by_email_and_webhook() -> None:
    planned = plan_notifications(example_trigger(KIND.STALL_NUDGE))

    assert [(n.kind, n.channel, n.recipient.recipient_id) for n in planned] == [
        (KIND.STALL_NUDGE, Channel.EMAIL, EXAMPLE_MENTOR.person_id),
        (KIND.STALL_NUDGE, Channel.EMAIL, EXAMPLE_MENTEE.person_id),
        (KIND.HR_STALL_ALERT, Channel.EMAIL, "hr-claire"),
        (KIND.HR_STALL_ALERT, Channel.WEBHOOK, "hr-platform"),
    ]
    alert = planned[2].content
    assert isinstance(alert, HrStallAlertContent)
    assert (alert.mentor_name, alert.mentee_name) == ("Inès Moreau", "Laurent Girard")
    assert alert.recipient_name == "Claire Fontaine"


def test_a_new_stall_after_resuming_is_a_new_reason() -> None:
    trigger = example_trigger(KIND.STALL_NUDGE)
    assert isinstance(trigger, PairStalled)
    later = replace(trigger, last_session_at=datetime(2027, 1, 7, 10, tzinfo=UTC))
    longer = replace(trigger, weeks_silent=8)
    keys = [{n.delivery_key for n in plan_notifications(t)} for t in (trigger, later, longer)]
    assert keys[0].isdisjoint(keys[1])
    assert keys[0].isdisjoint(keys[2])


def _fit_concern(**changes: object) -> PairFitConcern:
    trigger = example_trigger(KIND.HR_FIT_ALERT)
    assert isinstance(trigger, PairFitConcern)
    return replace(trigger, **changes)  # type: ignore[arg-type]


def test_a_fit_concern_alerts_hr_by_email_and_webhook_and_tells_the_pair_nothing() -> None:
    planned = plan_notifications(_fit_concern())

    assert [(n.kind, n.channel, n.recipient.recipient_id) for n in planned] == [
        (KIND.HR_FIT_ALERT, Channel.EMAIL, "hr-claire"),
        (KIND.HR_FIT_ALERT, Channel.WEBHOOK, "hr-platform"),
    ]
    assert planned[0].recipient.address == "claire.fontaine@example.com"
    assert all(n.send_at == EXAMPLE_NOW for n in planned)
    alert = planned[0].content
    assert isinstance(alert, HrFitAlertContent)
    assert (alert.mentor_name, alert.mentee_name) == ("Inès Moreau", "Laurent Girard")
    assert (alert.side, alert.session_number) == (ParticipantRole.MENTEE, 1)
    assert alert.recipient_name == "Claire Fontaine"
    assert alert.link_path == "/programmes/engie-comex-2026/pairs/pair-42"


def test_a_fit_concern_is_one_reason_per_pair_side_and_session() -> None:
    concern = _fit_concern()
    again = {n.delivery_key for n in plan_notifications(concern)}
    assert again == {n.delivery_key for n in plan_notifications(_fit_concern())}
    assert {n.subject_id for n in plan_notifications(concern)} == {"pair-42#fit#mentee#1"}

    other_side = _fit_concern(side=ParticipantRole.MENTOR)
    unknown_session = _fit_concern(session_number=None)
    other_pair = _fit_concern(pair_id="pair-43")
    for other in (other_side, unknown_session, other_pair):
        assert again.isdisjoint({n.delivery_key for n in plan_notifications(other)})
    stall_keys = {n.delivery_key for n in plan_notifications(example_trigger(KIND.STALL_NUDGE))}
    assert again.isdisjoint(stall_keys)


def test_a_fit_alert_follows_the_hr_contacts_language_and_the_receivers_subscriptions() -> None:
    english_hr = replace(EXAMPLE_HR, language=Language.EN)
    programme = replace(
        EXAMPLE_PROGRAMME,
        hr_contact=english_hr,
        webhook_receivers=(
            WebhookReceiver(receiver_id="stalls-only", kinds=frozenset({KIND.HR_STALL_ALERT})),
            WebhookReceiver(receiver_id="fit-only", kinds=frozenset({KIND.HR_FIT_ALERT})),
            WebhookReceiver(receiver_id="hris", language=Language.EN),
        ),
    )
    planned = plan_notifications(_fit_concern(programme=programme))
    assert [(n.recipient.recipient_id, n.channel, n.language) for n in planned] == [
        ("hr-claire", Channel.EMAIL, Language.EN),
        ("fit-only", Channel.WEBHOOK, Language.FR),
        ("hris", Channel.WEBHOOK, Language.EN),
    ]

    bare = replace(EXAMPLE_PROGRAMME, hr_contact=None, webhook_receivers=())
    assert plan_notifications(_fit_concern(programme=bare)) == []


def test_without_hr_contact_or_receivers_hr_kinds_go_nowhere() -> None:
    bare = replace(EXAMPLE_PROGRAMME, hr_contact=None, webhook_receivers=())
    trigger = example_trigger(KIND.MATCHING_SUMMARY)
    assert plan_notifications(replace(trigger, programme=bare)) == []


def test_webhook_receivers_get_only_the_kinds_they_subscribed_to() -> None:
    programme = replace(
        EXAMPLE_PROGRAMME,
        hr_contact=None,
        webhook_receivers=(
            WebhookReceiver(receiver_id="chat", kinds=frozenset({KIND.HR_STALL_ALERT})),
            WebhookReceiver(receiver_id="hris", language=Language.EN),
        ),
    )
    summary = plan_notifications(
        replace(example_trigger(KIND.MATCHING_SUMMARY), programme=programme)
    )
    assert [(n.recipient.recipient_id, n.language) for n in summary] == [("hris", Language.EN)]
    assert all(n.channel is Channel.WEBHOOK for n in summary)


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_an_example_and_keys_are_stable_and_unique(kind: NotificationKind) -> None:
    trigger = example_trigger(kind)
    first = plan_notifications(trigger)
    again = plan_notifications(trigger)

    assert kind in {n.kind for n in first}
    assert [n.delivery_key for n in first] == [n.delivery_key for n in again]
    assert len({n.delivery_key for n in first}) == len(first)
    for notification in first:
        assert notification.delivery_key == delivery_key(
            notification.kind,
            notification.subject_id,
            notification.channel,
            notification.recipient.recipient_id,
            tenant_id=notification.tenant_id,
        )


def test_delivery_key_is_a_sha256_of_tenant_kind_subject_channel_and_recipient() -> None:
    key = delivery_key(KIND.INTRODUCTION, "pair-42", Channel.EMAIL, "p-ines", tenant_id="a")
    assert len(key) == 64
    assert key != delivery_key(
        KIND.INTRODUCTION, "pair-42", Channel.EMAIL, "p-laurent", tenant_id="a"
    )
    assert key != delivery_key(KIND.PAIR_THANKS, "pair-42", Channel.EMAIL, "p-ines", tenant_id="a")
    # Two tenants may use the same ids: their deliveries (and Message-IDs, jobs) stay apart.
    assert key != delivery_key(KIND.INTRODUCTION, "pair-42", Channel.EMAIL, "p-ines", tenant_id="b")


def test_a_notification_carries_its_programmes_tenant_into_its_key() -> None:
    trigger = example_trigger(KIND.INTRODUCTION)
    other = replace(trigger, programme=replace(trigger.programme, tenant_id="other-tenant"))
    keys = {n.delivery_key for n in plan_notifications(trigger)}
    other_keys = {n.delivery_key for n in plan_notifications(other)}
    assert {n.tenant_id for n in plan_notifications(other)} == {"other-tenant"}
    assert keys.isdisjoint(other_keys)


def test_ids_with_odd_characters_make_safe_link_paths() -> None:
    trigger = example_trigger(KIND.INTRODUCTION)
    assert isinstance(trigger, PairFormed)
    planned = plan_notifications(replace(trigger, pair_id="a/b c?"))
    content = planned[0].content
    assert isinstance(content, IntroductionContent)
    assert content.link_path == "/pairs/a%2Fb%20c%3F"


def test_theme_travels_in_both_languages() -> None:
    content = plan_notifications(_scheduled())[0].content
    assert isinstance(content, SessionContent)
    assert content.theme == EXAMPLE_THEME


def test_a_reschedule_or_a_cancellation_makes_pending_reminders_obsolete() -> None:
    reminder = next(n for n in plan_notifications(_scheduled()) if n.kind is KIND.SESSION_REMINDER)
    moved = _scheduled(sequence=1)
    cancelled = example_trigger(KIND.SESSION_CANCELLATION)
    other_session = _scheduled(session_id="session-8", sequence=3)

    def obsolete(trigger: object, kind: NotificationKind = KIND.SESSION_REMINDER) -> bool:
        return supersedes_reminder(
            trigger,  # type: ignore[arg-type]
            pending_kind=kind,
            pending_subject_id=reminder.subject_id,
        )

    assert obsolete(moved)
    assert obsolete(cancelled)
    assert not obsolete(_scheduled())
    assert not obsolete(other_session)
    assert not obsolete(moved, KIND.SESSION_INVITATION)
    assert not obsolete(example_trigger(KIND.INTRODUCTION))
