"""What a session's triggers say to the pair: invitations with their calendar invites,
reminders, cancellations, feedback requests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from binome_notifications.domain.calendar import session_uid
from binome_notifications.domain.content import (
    ActionLink,
    Attendee,
    CalendarInvite,
    CalendarMethod,
    FeedbackRequestContent,
    NotificationContent,
    SessionContent,
)
from binome_notifications.domain.model import (
    Notification,
    NotificationKind,
    composed_text,
)
from binome_notifications.domain.recipients import (
    PairSide,
    notification_about,
    pair_sides,
    path,
    person_recipient,
    to_pair,
)
from binome_notifications.domain.triggers import (
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
)
from binome_shared.contracts import action_names


def _session_actions(
    trigger: SessionScheduled | SessionCompleted, side: PairSide, *names: str
) -> tuple[ActionLink, ...]:
    """The one-click links of one reader about one session (none without its number)."""
    if trigger.session_number is None:
        return ()
    target = (
        ("programme_id", trigger.programme.programme_id),
        ("pair_id", trigger.pair_id),
        ("session_number", trigger.session_number),
        ("side", side.role.value),
    )
    return tuple(
        ActionLink(
            name=name.removeprefix("session."),
            owner=action_names.SESSIONS,
            action=name,
            target=target,
        )
        for name in names
    )


def _session_invite(
    trigger: SessionScheduled | SessionCancelled, method: CalendarMethod
) -> CalendarInvite:
    mentor, mentee, theme = trigger.mentor, trigger.mentee, trigger.theme
    number = f" {trigger.session_number}" if trigger.session_number is not None else ""
    return CalendarInvite(
        uid=session_uid(trigger.session_id),
        sequence=trigger.sequence,
        method=method,
        starts_at=trigger.starts_at,
        ends_at=trigger.ends_at,
        summary=composed_text(
            fr=f"Binôme — séance{number} : {theme.fr}",
            en=f"Binôme — session{number}: {theme.en}",
        ),
        description=composed_text(
            fr=(
                f"Séance de mentorat inversé entre {mentor.display_name} (mentor) et "
                f"{mentee.display_name} (mentoré·e), programme {trigger.programme.name}."
            ),
            en=(
                f"Reverse mentoring session between {mentor.display_name} (mentor) and "
                f"{mentee.display_name} (mentee), {trigger.programme.name} programme."
            ),
        ),
        location=trigger.location if isinstance(trigger, SessionScheduled) else None,
        attendees=(
            Attendee(display_name=mentor.display_name, email=mentor.email),
            Attendee(display_name=mentee.display_name, email=mentee.email),
        ),
        stamped_at=trigger.occurred_at,
    )


def _scheduled_content(
    trigger: SessionScheduled, side: PairSide, calendar: CalendarInvite | None
) -> SessionContent:
    return SessionContent(
        **side.names(trigger.programme),
        theme=trigger.theme,
        session_number=trigger.session_number,
        starts_at=trigger.starts_at,
        ends_at=trigger.ends_at,
        location=trigger.location,
        is_update=trigger.sequence > 0,
        cancellation_reason=None,
        link_path=path("sessions", trigger.session_id),
        calendar=calendar,
        actions=_session_actions(
            trigger, side, action_names.SESSION_HELD, action_names.SESSION_MISSED
        ),
    )


def session_scheduled(trigger: SessionScheduled) -> Iterator[Notification]:
    programme = trigger.programme
    revision = f"{trigger.session_id}#{trigger.sequence}"
    invite = _session_invite(trigger, CalendarMethod.REQUEST)
    reminder_at = trigger.starts_at - programme.reminder_lead
    # A session booked inside the reminder window is announced by its confirmation alone.
    send_reminder = reminder_at > trigger.occurred_at
    for side in pair_sides(trigger):
        recipient = person_recipient(side.person, programme)
        invitation = notification_about(
            trigger,
            kind=NotificationKind.SESSION_INVITATION,
            recipient=recipient,
            subject_id=revision,
            content=_scheduled_content(trigger, side, invite),
        )
        yield invitation
        if send_reminder:
            # The same message about the same revision, later and without the invite.
            yield replace(
                invitation,
                kind=NotificationKind.SESSION_REMINDER,
                send_at=reminder_at,
                content=_scheduled_content(trigger, side, None),
            )


def session_cancelled(trigger: SessionCancelled) -> Iterator[Notification]:
    invite = _session_invite(trigger, CalendarMethod.CANCEL)

    def cancellation(side: PairSide) -> NotificationContent:
        return SessionContent(
            **side.names(trigger.programme),
            theme=trigger.theme,
            session_number=trigger.session_number,
            starts_at=trigger.starts_at,
            ends_at=trigger.ends_at,
            location=None,
            is_update=False,
            cancellation_reason=trigger.reason,
            link_path=path("pairs", trigger.pair_id),
            calendar=invite,
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.SESSION_CANCELLATION,
        subject_id=f"{trigger.session_id}#{trigger.sequence}",
        content_for=cancellation,
    )


def feedback_requests(trigger: SessionCompleted) -> Iterator[Notification]:
    def feedback_request(side: PairSide) -> NotificationContent:
        return FeedbackRequestContent(
            **side.names(trigger.programme),
            theme=trigger.theme,
            held_at=trigger.held_at,
            link_path=path("sessions", trigger.session_id, "feedback"),
            actions=_session_actions(trigger, side, action_names.SESSION_FEEDBACK),
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.FEEDBACK_REQUEST,
        subject_id=trigger.session_id,
        content_for=feedback_request,
    )
