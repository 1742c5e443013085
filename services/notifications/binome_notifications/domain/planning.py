"""From a trigger to the notifications it causes: who is told what, when, in which language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple
from urllib.parse import quote

from binome_notifications.domain.calendar import session_uid
from binome_notifications.domain.content import (
    Attendee,
    CalendarInvite,
    CalendarMethod,
    FeedbackRequestContent,
    HrFitAlertContent,
    HrStallAlertContent,
    IntroductionContent,
    MatchingSummaryContent,
    NotificationContent,
    PairThanksContent,
    ProgressReportContent,
    SessionContent,
    StallNudgeContent,
)
from binome_notifications.domain.model import (
    Channel,
    LocalizedText,
    Notification,
    NotificationKind,
    Person,
    Programme,
    Recipient,
    Role,
    resolve_language,
)
from binome_notifications.domain.triggers import (
    MatchingCompleted,
    PairCompleted,
    PairFitConcern,
    PairFormed,
    PairStalled,
    PairTrigger,
    ProgressReportDue,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
    Trigger,
)

DEFAULT_FIRST_STEP = LocalizedText(
    fr="Proposez un premier créneau d'une heure à votre binôme dans les deux semaines à venir.",
    en="Suggest a first one-hour slot to your partner within the next two weeks.",
)


def person_recipient(person: Person, programme: Programme) -> Recipient:
    """A person as an e-mail recipient: their language, else the programme's, else French."""
    return Recipient(
        recipient_id=person.person_id,
        display_name=person.display_name,
        address=person.email,
        language=resolve_language(person.language, programme.language),
        time_zone=person.time_zone or programme.time_zone,
    )


def path(*segments: str) -> str:
    """A link path from raw segments, each safely quoted."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def plan_notifications(trigger: Trigger) -> list[Notification]:
    """Every notification ``trigger`` causes, in a stable order, before preferences apply."""
    planned: Iterator[Notification]
    match trigger:
        case PairFormed():
            planned = _introductions(trigger)
        case SessionScheduled():
            planned = _session_scheduled(trigger)
        case SessionCancelled():
            planned = _session_cancelled(trigger)
        case SessionCompleted():
            planned = _feedback_requests(trigger)
        case PairStalled():
            planned = _stall_notifications(trigger)
        case PairFitConcern():
            planned = _fit_alerts(trigger)
        case MatchingCompleted():
            planned = _matching_summaries(trigger)
        case ProgressReportDue():
            planned = _progress_reports(trigger)
        case PairCompleted():
            planned = _thanks(trigger)
    return list(planned)


class _PairSide(NamedTuple):
    """One member of a pair, seen as the reader of a message about it."""

    person: Person
    role: Role
    partner: Person
    partner_role: Role


def _pair_sides(trigger: PairTrigger) -> tuple[_PairSide, _PairSide]:
    mentor, mentee = trigger.mentor, trigger.mentee
    return (
        _PairSide(mentor, Role.MENTOR, mentee, Role.MENTEE),
        _PairSide(mentee, Role.MENTEE, mentor, Role.MENTOR),
    )


def _to_pair(
    trigger: PairTrigger,
    *,
    kind: NotificationKind,
    subject_id: str,
    content_for: Callable[[_PairSide], NotificationContent],
) -> Iterator[Notification]:
    for side in _pair_sides(trigger):
        yield Notification(
            kind=kind,
            recipient=person_recipient(side.person, trigger.programme),
            programme_id=trigger.programme.programme_id,
            subject_id=subject_id,
            send_at=trigger.occurred_at,
            occurred_at=trigger.occurred_at,
            content=content_for(side),
        )


def _introductions(trigger: PairFormed) -> Iterator[Notification]:
    def introduction(side: _PairSide) -> NotificationContent:
        return IntroductionContent(
            recipient_name=side.person.display_name,
            recipient_role=side.role,
            partner_name=side.partner.display_name,
            partner_role=side.partner_role,
            partner_job_title=side.partner.job_title,
            programme_name=trigger.programme.name,
            explanation=trigger.explanation,
            first_step=trigger.first_step or DEFAULT_FIRST_STEP,
            link_path=path("pairs", trigger.pair_id),
        )

    yield from _to_pair(
        trigger,
        kind=NotificationKind.INTRODUCTION,
        subject_id=trigger.pair_id,
        content_for=introduction,
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
        summary=LocalizedText(
            fr=f"Binôme — séance{number} : {theme.fr}",
            en=f"Binôme — session{number}: {theme.en}",
        ),
        description=LocalizedText(
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
    trigger: SessionScheduled, person: Person, partner: Person, calendar: CalendarInvite | None
) -> SessionContent:
    return SessionContent(
        recipient_name=person.display_name,
        partner_name=partner.display_name,
        programme_name=trigger.programme.name,
        theme=trigger.theme,
        session_number=trigger.session_number,
        starts_at=trigger.starts_at,
        ends_at=trigger.ends_at,
        location=trigger.location,
        is_update=trigger.sequence > 0,
        cancellation_reason=None,
        link_path=path("sessions", trigger.session_id),
        calendar=calendar,
    )


def _session_scheduled(trigger: SessionScheduled) -> Iterator[Notification]:
    programme = trigger.programme
    revision = f"{trigger.session_id}#{trigger.sequence}"
    invite = _session_invite(trigger, CalendarMethod.REQUEST)
    reminder_at = trigger.starts_at - programme.reminder_lead
    # A session booked inside the reminder window is announced by its confirmation alone.
    send_reminder = reminder_at > trigger.occurred_at
    for person, _, partner, _ in _pair_sides(trigger):
        recipient = person_recipient(person, programme)
        yield Notification(
            kind=NotificationKind.SESSION_INVITATION,
            recipient=recipient,
            programme_id=programme.programme_id,
            subject_id=revision,
            send_at=trigger.occurred_at,
            occurred_at=trigger.occurred_at,
            content=_scheduled_content(trigger, person, partner, invite),
        )
        if send_reminder:
            yield Notification(
                kind=NotificationKind.SESSION_REMINDER,
                recipient=recipient,
                programme_id=programme.programme_id,
                subject_id=revision,
                send_at=reminder_at,
                occurred_at=trigger.occurred_at,
                content=_scheduled_content(trigger, person, partner, None),
            )


def _session_cancelled(trigger: SessionCancelled) -> Iterator[Notification]:
    invite = _session_invite(trigger, CalendarMethod.CANCEL)

    def cancellation(side: _PairSide) -> NotificationContent:
        return SessionContent(
            recipient_name=side.person.display_name,
            partner_name=side.partner.display_name,
            programme_name=trigger.programme.name,
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

    yield from _to_pair(
        trigger,
        kind=NotificationKind.SESSION_CANCELLATION,
        subject_id=f"{trigger.session_id}#{trigger.sequence}",
        content_for=cancellation,
    )


def _feedback_requests(trigger: SessionCompleted) -> Iterator[Notification]:
    def feedback_request(side: _PairSide) -> NotificationContent:
        return FeedbackRequestContent(
            recipient_name=side.person.display_name,
            partner_name=side.partner.display_name,
            programme_name=trigger.programme.name,
            theme=trigger.theme,
            completed_at=trigger.completed_at,
            link_path=path("sessions", trigger.session_id, "feedback"),
        )

    yield from _to_pair(
        trigger,
        kind=NotificationKind.FEEDBACK_REQUEST,
        subject_id=trigger.session_id,
        content_for=feedback_request,
    )


def _hr_recipients(programme: Programme, kind: NotificationKind) -> Iterator[Recipient]:
    if programme.hr_contact is not None:
        yield person_recipient(programme.hr_contact, programme)
    for receiver in programme.webhook_receivers:
        if kind in receiver.kinds:
            yield Recipient(
                recipient_id=receiver.receiver_id,
                display_name=receiver.receiver_id,
                address=receiver.receiver_id,
                language=resolve_language(receiver.language, programme.language),
                time_zone=programme.time_zone,
                channel=Channel.WEBHOOK,
            )


def _to_hr(
    trigger: PairStalled | PairFitConcern | MatchingCompleted | ProgressReportDue,
    *,
    kind: NotificationKind,
    subject_id: str,
    content_for: Callable[[str], NotificationContent],
) -> Iterator[Notification]:
    for recipient in _hr_recipients(trigger.programme, kind):
        yield Notification(
            kind=kind,
            recipient=recipient,
            programme_id=trigger.programme.programme_id,
            subject_id=subject_id,
            send_at=trigger.occurred_at,
            occurred_at=trigger.occurred_at,
            content=content_for(recipient.display_name),
        )


def _stall_notifications(trigger: PairStalled) -> Iterator[Notification]:
    programme = trigger.programme
    # A pair may stall again after resuming, and be nudged again as weeks pass: each is a
    # reason of its own.
    since = trigger.last_session_at.isoformat() if trigger.last_session_at else "start"
    stall_id = f"{trigger.pair_id}#{since}#{trigger.weeks_without_session}w"

    def nudge(side: _PairSide) -> NotificationContent:
        return StallNudgeContent(
            recipient_name=side.person.display_name,
            partner_name=side.partner.display_name,
            programme_name=programme.name,
            weeks_without_session=trigger.weeks_without_session,
            last_session_at=trigger.last_session_at,
            link_path=path("pairs", trigger.pair_id, "schedule"),
        )

    def alert(recipient_name: str) -> NotificationContent:
        return HrStallAlertContent(
            recipient_name=recipient_name,
            programme_name=programme.name,
            mentor_name=trigger.mentor.display_name,
            mentee_name=trigger.mentee.display_name,
            weeks_without_session=trigger.weeks_without_session,
            last_session_at=trigger.last_session_at,
            link_path=path("programmes", programme.programme_id, "pairs", trigger.pair_id),
        )

    yield from _to_pair(
        trigger, kind=NotificationKind.STALL_NUDGE, subject_id=stall_id, content_for=nudge
    )
    yield from _to_hr(
        trigger, kind=NotificationKind.HR_STALL_ALERT, subject_id=stall_id, content_for=alert
    )


def _fit_alerts(trigger: PairFitConcern) -> Iterator[Notification]:
    programme = trigger.programme
    # Each side answers the fit question once: the pair, the side and the session name the
    # concern, so a redelivered event finds the same keys and sends nothing more.
    session = str(trigger.session_number) if trigger.session_number is not None else "unknown"
    concern_id = f"{trigger.pair_id}#fit#{trigger.raised_by.value}#{session}"

    def alert(recipient_name: str) -> NotificationContent:
        return HrFitAlertContent(
            recipient_name=recipient_name,
            programme_name=programme.name,
            mentor_name=trigger.mentor.display_name,
            mentee_name=trigger.mentee.display_name,
            raised_by=trigger.raised_by,
            session_number=trigger.session_number,
            link_path=path("programmes", programme.programme_id, "pairs", trigger.pair_id),
        )

    yield from _to_hr(
        trigger, kind=NotificationKind.HR_FIT_ALERT, subject_id=concern_id, content_for=alert
    )


def _matching_summaries(trigger: MatchingCompleted) -> Iterator[Notification]:
    programme = trigger.programme

    def summary(recipient_name: str) -> NotificationContent:
        return MatchingSummaryContent(
            recipient_name=recipient_name,
            programme_name=programme.name,
            pairs_formed=trigger.pairs_formed,
            participants_unmatched=trigger.participants_unmatched,
            unmatched_reasons=trigger.unmatched_reasons,
            average_score=trigger.average_score,
            link_path=path("programmes", programme.programme_id, "rounds", trigger.round_id),
        )

    # Round and report ids are chosen per programme: the programme keeps their keys apart.
    preview = "#preview" if trigger.preview else ""
    yield from _to_hr(
        trigger,
        kind=NotificationKind.MATCHING_SUMMARY,
        subject_id=f"{programme.programme_id}/{trigger.round_id}{preview}",
        content_for=summary,
    )


def _progress_reports(trigger: ProgressReportDue) -> Iterator[Notification]:
    programme = trigger.programme

    def report(recipient_name: str) -> NotificationContent:
        return ProgressReportContent(
            recipient_name=recipient_name,
            programme_name=programme.name,
            period_start=trigger.period_start,
            period_end=trigger.period_end,
            active_pairs=trigger.active_pairs,
            stalled_pairs=trigger.stalled_pairs,
            completed_pairs=trigger.completed_pairs,
            sessions_completed=trigger.sessions_completed,
            sessions_missed=trigger.sessions_missed,
            objectives_on_track_percent=trigger.objectives_on_track_percent,
            link_path=path("programmes", programme.programme_id, "progress"),
        )

    yield from _to_hr(
        trigger,
        kind=NotificationKind.PROGRESS_REPORT,
        subject_id=f"{programme.programme_id}/{trigger.report_id}",
        content_for=report,
    )


def _thanks(trigger: PairCompleted) -> Iterator[Notification]:
    def thanks(side: _PairSide) -> NotificationContent:
        return PairThanksContent(
            recipient_name=side.person.display_name,
            partner_name=side.partner.display_name,
            programme_name=trigger.programme.name,
            sessions_completed=trigger.sessions_completed,
            link_path=path("pairs", trigger.pair_id, "survey"),
        )

    yield from _to_pair(
        trigger, kind=NotificationKind.PAIR_THANKS, subject_id=trigger.pair_id, content_for=thanks
    )


def supersedes_reminder(
    trigger: Trigger, *, pending_kind: NotificationKind, pending_subject_id: str
) -> bool:
    """Whether ``trigger`` makes a not-yet-sent reminder obsolete: the session moved to a later
    revision or was cancelled. The scheduler drops such reminders instead of sending them."""
    if pending_kind is not NotificationKind.SESSION_REMINDER:
        return False
    if not isinstance(trigger, SessionScheduled | SessionCancelled):
        return False
    session_id, separator, revision = pending_subject_id.rpartition("#")
    if not separator or session_id != trigger.session_id or not revision.isdigit():
        return False
    return int(revision) < trigger.sequence or isinstance(trigger, SessionCancelled)
