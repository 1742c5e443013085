from datetime import UTC, datetime, timedelta
from typing import cast

import icalendar
import pytest

from binome_notifications.domain.calendar import render_ics, session_uid
from binome_notifications.domain.content import Attendee, CalendarInvite, CalendarMethod
from binome_shared.contracts.values import Language, LocalisedText

pytestmark = pytest.mark.unit

START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def _invite(method: CalendarMethod, sequence: int) -> CalendarInvite:
    return CalendarInvite(
        uid=session_uid("s-7"),
        sequence=sequence,
        method=method,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        summary=LocalisedText(fr="Séance : réseaux, outils", en="Session: networks, tools"),
        description=LocalisedText(fr="Description FR", en="Description EN"),
        location="https://visio.example.com/x",
        attendees=(
            Attendee(display_name="Inès Moreau", email="ines@example.com"),
            Attendee(display_name="Laurent Girard", email="laurent@example.com"),
        ),
        stamped_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
    )


def _event(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, cast(icalendar.Event, events[0])


def test_request_invite_has_uid_sequence_times_and_people() -> None:
    ics = render_ics(
        _invite(CalendarMethod.REQUEST, 0),
        language=Language.FR,
        organizer_email="noreply@binome.example.com",
        organizer_name="Binôme",
    )
    calendar, event = _event(ics)

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "session-s-7@binome"
    assert int(str(event["SEQUENCE"])) == 0
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=1)
    assert str(event["SUMMARY"]) == "Séance : réseaux, outils"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:noreply@binome.example.com"
    attendees = cast(list[icalendar.vCalAddress], event["ATTENDEE"])
    assert [str(a) for a in attendees] == ["mailto:ines@example.com", "mailto:laurent@example.com"]
    assert attendees[0].params["CN"] == "Inès Moreau"
    assert attendees[0].params["RSVP"] == "TRUE"
    assert b"DTSTART:20261203T130000Z" in ics


def test_cancel_invite_keeps_the_uid_and_marks_the_event_cancelled() -> None:
    ics = render_ics(
        _invite(CalendarMethod.CANCEL, 2),
        language=Language.EN,
        organizer_email="noreply@binome.example.com",
        organizer_name="Binôme",
    )
    calendar, event = _event(ics)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == "session-s-7@binome"
    assert int(str(event["SEQUENCE"])) == 2
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "Session: networks, tools"


def test_uid_is_stable_per_session() -> None:
    assert session_uid("s-7") == session_uid("s-7")
    assert session_uid("s-7") != session_uid("s-8")
