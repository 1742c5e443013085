"""Pulse check-ins in the notifications service, over fakes: each member gets the question
with their own two answer links (French and English), HR gets one alert per pair and round,
redeliveries send nothing more, and opt-outs apply to the question, not to HR."""

from __future__ import annotations

import html
from typing import Any

import pytest

from binome_notifications.domain.content import HrHelpAlertContent, PulseCheckContent
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.translation import ReceiverSubscription
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import OptOut, SetNotificationPreferences
from binome_shared.contracts.sessions_messages import (
    PairNeedsHelp,
    ParticipantRole,
    PulseCheckRequested,
)
from tests.unit.notifications import notifications_factories as make
from tests.unit.notifications.notifications_service_fakes import RENDERER, Service

pytestmark = pytest.mark.unit

NOW = make.NOW
HR = f"hr:{make.PROGRAMME}"
BASE = "https://rh.example.com"


def pulse_requested(number: int = 1) -> Envelope[Any]:
    return make.envelope(
        PulseCheckRequested(
            pair_id="pair-1", pulse_number=number, mentor_id=make.MENTOR, mentee_id=make.MENTEE
        ),
        source="/binome/sessions",
    )


def needs_help(number: int = 1, side: ParticipantRole = ParticipantRole.MENTOR) -> Envelope[Any]:
    return make.envelope(
        PairNeedsHelp(pair_id="pair-1", pulse_number=number, side=side),
        source="/binome/sessions",
    )


async def known_pair() -> Service:
    service = Service()
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)
    return service


def pulse_emails(service: Service) -> dict[str, tuple[PulseCheckContent, str, str]]:
    """Each reader's pulse content and its rendered text and HTML, by recipient id."""
    found = {}
    for planned in service.deliveries.planned():
        notification = planned.notification
        if notification.kind is NotificationKind.PULSE_CHECK:
            assert isinstance(notification.content, PulseCheckContent)
            rendered = RENDERER.render_text(notification)
            found[notification.recipient.recipient_id] = (
                notification.content,
                rendered.text,
                html.unescape(rendered.html),
            )
    return found


async def test_each_member_is_asked_with_two_answer_links_for_the_round() -> None:
    service = await known_pair()

    await service.consume(pulse_requested(2), now=NOW)

    assert service.deliveries.kinds_to()[2:] == [
        ("pulse_check", make.MENTOR),
        ("pulse_check", make.MENTEE),
    ]
    emails = pulse_emails(service)
    for reader in (make.MENTOR, make.MENTEE):
        content, text, body = emails[reader]
        assert content.pulse_number == 2
        on_track = f"{BASE}/pairs/pair-1/pulses/2/on_track"
        need_help = f"{BASE}/pairs/pair-1/pulses/2/need_help"
        for link in (on_track, need_help):
            assert link in text
            assert f'href="{link}"' in body


async def test_the_question_reads_in_each_readers_language() -> None:
    service = await known_pair()  # Inès, the mentor, reads French; Laurent, the mentee, English

    await service.consume(pulse_requested(), now=NOW)

    emails = pulse_emails(service)
    expected = {
        make.MENTOR: (
            "baromètre",
            "Laurent Girard",
            "Tout va bien",
            "Nous avons besoin d'aide",
        ),
        make.MENTEE: ("check-in", "Inès Martin", "On track", "We need help"),
    }
    for reader, parts in expected.items():
        _, text, body = emails[reader]
        for part in parts:
            assert part in text, (reader, part)
            assert part in body, (reader, part)


async def test_need_help_alerts_hr_once_per_round_even_when_redelivered() -> None:
    service = await known_pair()

    await service.consume(needs_help(1), now=NOW)
    await service.consume(needs_help(1), now=NOW)
    await service.consume(needs_help(2, ParticipantRole.MENTEE), now=NOW)

    assert service.deliveries.kinds_to()[2:] == [("hr_help_alert", HR), ("hr_help_alert", HR)]
    alerts = [
        planned.notification.content
        for planned in service.deliveries.planned()
        if planned.notification.kind is NotificationKind.HR_HELP_ALERT
    ]
    assert all(isinstance(alert, HrHelpAlertContent) for alert in alerts)
    assert [(a.pulse_number, a.side) for a in alerts if isinstance(a, HrHelpAlertContent)] == [
        (1, ParticipantRole.MENTOR),
        (2, ParticipantRole.MENTEE),
    ]


async def test_a_redelivered_question_sends_nothing_more_and_opt_outs_apply() -> None:
    service = await known_pair()
    opted_out = make.envelope(
        SetNotificationPreferences(
            participant_id=make.MENTEE, opt_outs=[OptOut(kind="pulse_check")]
        ),
        source="/hr/test-platform",
    )
    await service.consume(opted_out, now=NOW)

    await service.consume(pulse_requested(), pulse_requested(), now=NOW)
    await service.consume(needs_help(), now=NOW)

    assert service.deliveries.kinds_to()[2:] == [
        ("pulse_check", make.MENTOR),
        ("hr_help_alert", HR),
    ]


async def test_hr_webhooks_get_the_help_alert_with_its_facts_and_no_names() -> None:
    service = Service(receivers=[ReceiverSubscription(receiver_id="hr-tool")])
    await service.consume(make.define_programme(), *make.enrol_pair(), make.pair_formed(), now=NOW)

    await service.consume(needs_help(3, ParticipantRole.MENTEE), now=NOW)

    [webhook] = [
        planned.notification
        for planned in service.deliveries.planned()
        if planned.notification.channel is Channel.WEBHOOK
    ]
    body = RENDERER.render_webhook(webhook).body.decode()
    assert '"kind":"hr_help_alert"' in body
    assert '"facts":{"pulse_number":3,"raised_by":"mentee"}' in body
