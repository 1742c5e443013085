"""At the edges of the years contracts allow, notifications plan and render without overflow:
reminders two weeks before the first possible session, dates written in the time zones
furthest ahead of and behind UTC, calendar invites for the last possible session."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from binome_devstack.notifications.examples import example_trigger
from binome_notifications.adapters.rendering import NotificationRenderer
from binome_notifications.domain.model import Channel, NotificationKind
from binome_notifications.domain.planning import plan_notifications
from binome_notifications.domain.triggers import PairStalled, SessionScheduled
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

RENDERER = NotificationRenderer(
    public_base_url="https://binome.example.com", organizer_email="noreply@binome.example.com"
)
# The first and last instants a command may ask for, as the sessions service publishes them
# (in UTC, hence in the years 1999 and 2200), and the longest session.
FIRST_START = datetime(2000, 1, 1, tzinfo=timezone(timedelta(hours=14))).astimezone(UTC)
LAST_START = datetime(2199, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12))).astimezone(
    UTC
)
LONGEST = timedelta(minutes=480)
ZONES = ("Pacific/Kiritimati", "Etc/GMT+12")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("starts_at", [FIRST_START, LAST_START], ids=["first", "last"])
def test_invitations_and_reminders_at_the_edges(
    starts_at: datetime, language: Language, zone: str
) -> None:
    trigger = example_trigger(NotificationKind.SESSION_INVITATION, language=language)
    assert isinstance(trigger, SessionScheduled)
    edge = replace(
        trigger,
        occurred_at=starts_at - timedelta(days=30),
        starts_at=starts_at,
        ends_at=starts_at + LONGEST,
        programme=replace(trigger.programme, reminder_lead=timedelta(hours=24 * 14)),
        mentor=replace(trigger.mentor, time_zone=zone),
        mentee=replace(trigger.mentee, time_zone=zone),
    )
    planned = plan_notifications(edge)
    kinds = {notification.kind for notification in planned}
    assert {NotificationKind.SESSION_INVITATION, NotificationKind.SESSION_REMINDER} <= kinds
    for notification in planned:
        assert notification.send_at <= starts_at
        if notification.channel is Channel.EMAIL:
            outgoing = RENDERER.render_email(notification)
            assert outgoing.text
            if outgoing.calendar is not None:
                assert (
                    starts_at.strftime("DTSTART:%Y%m%dT%H%M%SZ").encode() in outgoing.calendar.ics
                )


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("last", [FIRST_START, LAST_START + LONGEST], ids=["first", "last"])
def test_a_stall_nudge_names_a_last_session_at_the_edges(last: datetime, zone: str) -> None:
    trigger = example_trigger(NotificationKind.STALL_NUDGE, language=Language.FR)
    assert isinstance(trigger, PairStalled)
    edge = replace(
        trigger,
        occurred_at=last + timedelta(weeks=52),
        last_session_at=last,
        weeks_silent=52,
        mentor=replace(trigger.mentor, time_zone=zone),
        mentee=replace(trigger.mentee, time_zone=zone),
    )
    for notification in plan_notifications(edge):
        if notification.channel is Channel.EMAIL:
            assert RENDERER.render_email(notification).text
