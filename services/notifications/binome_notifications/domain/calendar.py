"""Calendar invites (iCalendar, RFC 5545/5546) for sessions."""

from __future__ import annotations

from datetime import UTC

import icalendar

from binome_notifications.domain.content import Attendee, CalendarInvite, CalendarMethod
from binome_shared.contracts.values import Language

PRODUCT_ID = "-//Binome//Notifications//FR"


def session_uid(session_id: str, *, domain: str = "binome") -> str:
    """The invite UID of a session: the same for every revision, so calendars update in place."""
    return f"session-{session_id}@{domain}"


def _address(email: str, display_name: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = display_name
    return address


def _attendee(attendee: Attendee, method: CalendarMethod) -> icalendar.vCalAddress:
    address = _address(attendee.email, attendee.display_name)
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["CUTYPE"] = "INDIVIDUAL"
    if method is CalendarMethod.REQUEST:
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
    return address


def render_ics(
    invite: CalendarInvite,
    *,
    language: Language,
    organizer_email: str,
    organizer_name: str,
) -> bytes:
    """The invite as an iCalendar object, its texts in ``language``, times in UTC.

    Times are written in UTC so that no VTIMEZONE block is needed; calendar clients show them
    in their user's own zone.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invite.method.value)

    event = icalendar.Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", invite.stamped_at.astimezone(UTC))
    event.add("dtstart", invite.starts_at.astimezone(UTC))
    event.add("dtend", invite.ends_at.astimezone(UTC))
    event.add("summary", invite.summary.in_language(language))
    event.add("description", invite.description.in_language(language))
    if invite.location:
        event.add("location", invite.location)
    event.add("organizer", _address(organizer_email, organizer_name))
    for attendee in invite.attendees:
        event.add("attendee", _attendee(attendee, invite.method))
    if invite.method is CalendarMethod.CANCEL:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
