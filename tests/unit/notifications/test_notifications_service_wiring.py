"""Public messages in the domain's words, stored messages, settings and the service wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from binome_devstack.notifications.examples import example_trigger
from binome_notifications import translation
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.adapters.smtp import SmtpSecurity
from binome_notifications.adapters.stored_messages import outgoing_from_stored, stored_message
from binome_notifications.bootstrap import (
    NotificationsSettings,
    WebhookSubscriberSettings,
    definition,
    receiver_subscriptions,
    smtp_settings,
)
from binome_notifications.domain.directory import SessionRecord
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_shared.contracts import hr_commands, pairing_events, sessions_messages
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import SessionCancelled
from binome_shared.contracts.values import Language
from tests.unit.notifications import notifications_factories as make

pytestmark = pytest.mark.unit

RENDERER = NotificationRenderer(
    public_base_url="https://rh.example.com", organizer_email="binome@example.com"
)


def test_a_programme_definition_keeps_contact_lead_themes_and_feedback_rules() -> None:
    command = make.define_programme(reminder_hours_before=48, contact_language=Language.EN).data
    record = translation.programme_record(command, programme_id="p1", tenant_id="t1")
    assert record.reminder_lead == timedelta(hours=48)
    assert record.time_zone == "Europe/Paris"
    contact = record.hr_contact
    assert contact is not None
    assert contact.person_id == "hr:p1"
    assert contact.language is Language.EN
    assert record.theme("kick-off").en == "Kick-off and objectives"
    assert record.theme("unknown-theme").fr == "unknown-theme"
    assert record.feedback_delay == timedelta(hours=2)


def test_a_profile_keeps_only_name_address_language_and_time_zone() -> None:
    profile = make.enrol_pair()[1].data.participant
    person = translation.person_from_profile(profile)
    assert (person.person_id, person.display_name, person.email) == (
        "X1",
        "Laurent Girard",
        "laurent.girard@example.com",
    )
    assert person.language is Language.EN
    assert person.time_zone == "Europe/Paris"


def test_webhook_receivers_follow_only_their_programmes() -> None:
    record = translation.programme_record(
        make.define_programme().data, programme_id="p1", tenant_id="t1"
    )
    receivers = [
        translation.ReceiverSubscription(receiver_id="all"),
        translation.ReceiverSubscription(receiver_id="other", programmes=frozenset({"p2"})),
    ]
    programme = translation.domain_programme(record, receivers)
    assert [receiver.receiver_id for receiver in programme.webhook_receivers] == ["all"]


def test_webhook_receivers_follow_only_their_tenants_programmes() -> None:
    receivers = [
        translation.ReceiverSubscription(receiver_id="t1-hr", tenants=frozenset({"t1"})),
        translation.ReceiverSubscription(
            receiver_id="t2-p1", tenants=frozenset({"t2"}), programmes=frozenset({"p1"})
        ),
    ]
    followed = {}
    for tenant_id in ("t1", "t2"):
        record = translation.programme_record(
            make.define_programme().data, programme_id="p1", tenant_id=tenant_id
        )
        programme = translation.domain_programme(record, receivers)
        followed[tenant_id] = [receiver.receiver_id for receiver in programme.webhook_receivers]
    assert followed == {"t1": ["t1-hr"], "t2": ["t2-p1"]}


def test_webhook_settings_name_the_tenants_a_receiver_follows() -> None:
    settings = NotificationsSettings(
        webhooks=[
            WebhookSubscriberSettings(
                id="hr", url="https://rh.example.org/hook", secret="s", tenants=["t1"]
            )
        ]
    )
    (subscription,) = receiver_subscriptions(settings)
    assert subscription.tenants == frozenset({"t1"})
    assert subscription.listens_to("t1", "any-programme")
    assert not subscription.listens_to("t2", "any-programme")


def test_matching_summaries_group_reasons_and_keep_previews_apart() -> None:
    record = translation.programme_record(
        make.define_programme().data, programme_id="p1", tenant_id="t1"
    )
    programme = translation.domain_programme(record, [])
    real = translation.matching_completed(
        make.matching_completed().data, occurred_at=make.NOW, programme=programme
    )
    preview = translation.matching_completed(
        make.matching_completed(preview=True).data, occurred_at=make.NOW, programme=programme
    )
    assert real.participants_unmatched == 1
    assert [(r.reason.fr, r.count) for r in real.unmatched_reasons] == [
        ("Aucun mentor compatible", 1)
    ]
    assert real.average_score == pytest.approx(0.71)
    [real_summary] = plan_notifications(real)
    [preview_summary] = plan_notifications(preview)
    assert real_summary.subject_id == "p1/round-1"
    assert preview_summary.subject_id == "p1/round-1#preview"
    assert real_summary.delivery_key != preview_summary.delivery_key


def test_a_fit_concern_tells_hr_which_side_spoke_and_after_which_session() -> None:
    record = translation.programme_record(
        make.define_programme().data, programme_id="p1", tenant_id="t1"
    )
    programme = translation.domain_programme(record, [])
    mentor, mentee = (
        translation.person_from_profile(envelope.data.participant) for envelope in make.enrol_pair()
    )

    def concern(side: ParticipantRole, session_number: int | None) -> list[str]:
        trigger = translation.pair_fit_concern(
            make.pair_fit_concern_raised(side=side, session_number=session_number).data,
            translation.PairScene(
                occurred_at=make.NOW, programme=programme, mentor=mentor, mentee=mentee
            ),
        )
        assert trigger.side is ParticipantRole(side.value)
        assert trigger.session_number == session_number
        planned = plan_notifications(trigger)
        assert {n.kind for n in planned} == {NotificationKind.HR_FIT_ALERT}
        assert [n.recipient.recipient_id for n in planned] == ["hr:p1"]
        return [n.subject_id for n in planned]

    assert concern(ParticipantRole.MENTEE, 1) == ["pair-1#fit#mentee#1"]
    assert concern(ParticipantRole.MENTOR, 1) == ["pair-1#fit#mentor#1"]
    assert concern(ParticipantRole.MENTOR, None) == ["pair-1#fit#mentor#unknown"]


def test_a_cancellation_outranks_the_invite_it_cancels() -> None:
    known = SessionRecord(
        session_id="pair-1-1",
        pair_id="pair-1",
        session_number=1,
        theme_key="kick-off",
        starts_at=datetime(2027, 2, 1, 9, tzinfo=UTC),
        duration_minutes=60,
        location="",
        sequence=2,
    )
    unnumbered = SessionCancelled(pair_id="pair-1", session_number=1)
    numbered = SessionCancelled(pair_id="pair-1", session_number=1, sequence=5)
    assert translation.cancellation_sequence(unnumbered, known) == 3
    assert translation.cancellation_sequence(numbered, known) == 5


@pytest.mark.parametrize(
    "kind", [NotificationKind.SESSION_INVITATION, NotificationKind.MATCHING_SUMMARY]
)
def test_a_stored_message_reads_back_the_same(kind: NotificationKind) -> None:
    for notification in plan_notifications(example_trigger(kind)):
        message = (
            RENDERER.render_webhook(notification)
            if notification.channel is Channel.WEBHOOK
            else RENDERER.render_email(notification)
        )
        assert outgoing_from_stored(stored_message(message)) == message


def test_settings_read_smtp_and_webhooks_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BINOME_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("BINOME_SMTP_PORT", "587")
    monkeypatch.setenv("BINOME_SMTP_STARTTLS", "true")
    monkeypatch.setenv("BINOME_SMTP_USERNAME", "binome")
    monkeypatch.setenv("BINOME_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("BINOME_SMTP_FROM", "binome@rh.example.org")
    monkeypatch.setenv(
        "BINOME_WEBHOOKS",
        '[{"id": "slack", "url": "https://hooks.example.org/x", "secret": "k",'
        ' "programmes": ["p1"], "kinds": ["hr_stall_alert"]}]',
    )
    settings = NotificationsSettings()
    smtp = smtp_settings(settings)
    assert (smtp.host, smtp.port, smtp.security) == ("smtp.example.org", 587, SmtpSecurity.STARTTLS)
    assert (smtp.username, smtp.password) == ("binome", "s3cret")
    assert smtp.message_id_domain == "rh.example.org"
    [receiver] = receiver_subscriptions(settings)
    assert receiver.programmes == frozenset({"p1"})
    assert receiver.kinds == frozenset({NotificationKind.HR_STALL_ALERT})
    assert "s3cret" not in repr(settings)


def test_the_service_consumes_the_triggers_and_the_directory_commands() -> None:
    service = definition(NotificationsSettings())
    assert set(service.routes) == {
        hr_commands.DefineProgramme,
        hr_commands.EnrolParticipant,
        hr_commands.UpdateParticipant,
        hr_commands.EraseParticipant,
        hr_commands.SetNotificationPreferences,
        pairing_events.PairFormed,
        pairing_events.PairDissolved,
        pairing_events.MatchingCompleted,
        sessions_messages.SessionScheduled,
        sessions_messages.SessionRescheduled,
        sessions_messages.SessionCancelled,
        sessions_messages.SessionCompleted,
        sessions_messages.PairStalled,
        sessions_messages.PairFitConcernRaised,
        sessions_messages.PairCompleted,
        sessions_messages.ProgrammeProgressReported,
        pairing_events.PairConsentRequested,
        pairing_events.PairCalledOff,
        sessions_messages.PulseCheckRequested,
        sessions_messages.PairNeedsHelp,
    }
    assert set(service.jobs) == {"deliver"}
    assert "/deliveries" in service.programme_data_routes


def test_cancellation_reason_codes_become_sentences_in_both_languages() -> None:
    for code in ("participant_unavailable", "session_skipped", "pair_dissolved", "programme_ended"):
        text = translation.CANCELLATION_REASONS[code]
        assert text.fr != text.en
        assert len(text.fr) > 10
    assert "other" not in translation.CANCELLATION_REASONS


def test_a_progress_report_gives_hr_the_programme_totals() -> None:
    record = translation.programme_record(
        make.define_programme().data, programme_id="p1", tenant_id="t1"
    )
    programme = translation.domain_programme(record, [])
    report = translation.progress_reported(
        make.progress_reported().data, occurred_at=make.NOW, programme=programme
    )
    progress = report.progress
    assert (progress.pairs_active, progress.pairs_stalled, progress.pairs_completed) == (20, 3, 2)
    assert (progress.sessions_held, progress.sessions_missed) == (41, 4)
    assert progress.objectives_on_track_percent == 25
    assert progress.period_end == make.NOW.date()
    assert progress.period_start == (make.NOW - timedelta(days=30)).date()
    [to_hr] = plan_notifications(report)
    assert to_hr.kind is NotificationKind.PROGRESS_REPORT
    assert to_hr.subject_id == f"p1/{make.NOW.isoformat()}"
