"""From a trigger to the notifications it causes: who is told what, when, in which language.

Session messages are in :mod:`.session_messages`, pulse check-ins in :mod:`.pulse_messages`,
the readers in :mod:`.recipients`.
"""

from __future__ import annotations

from collections.abc import Iterator

from binome_notifications.domain.consent_messages import consent_requests, pairing_called_off
from binome_notifications.domain.content import (
    HrFitAlertContent,
    HrStallAlertContent,
    IntroductionContent,
    MatchingSummaryContent,
    NotificationContent,
    PairThanksContent,
    ProgressReportContent,
    StallNudgeContent,
)
from binome_notifications.domain.model import Notification, NotificationKind
from binome_notifications.domain.pulse_messages import help_alerts, pulse_checks
from binome_notifications.domain.recipients import PairSide, hr_pair_alert, path, to_hr, to_pair
from binome_notifications.domain.session_messages import (
    feedback_requests,
    session_cancelled,
    session_scheduled,
)
from binome_notifications.domain.triggers import (
    MatchingCompleted,
    PairCalledOff,
    PairCompleted,
    PairConsentRequested,
    PairFitConcern,
    PairFormed,
    PairNeedsHelp,
    PairStalled,
    ProgressReportDue,
    PulseCheckRequested,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
    Trigger,
)
from binome_shared.contracts.values import LocalisedText

DEFAULT_FIRST_STEP = LocalisedText(
    fr="Proposez un premier créneau d'une heure à votre binôme dans les deux semaines à venir.",
    en="Suggest a first one-hour slot to your partner within the next two weeks.",
)


def plan_notifications(trigger: Trigger) -> list[Notification]:
    """Every notification ``trigger`` causes, in a stable order, before preferences apply."""
    planned: Iterator[Notification]
    match trigger:
        case PairFormed():
            planned = _introductions(trigger)
        case SessionScheduled():
            planned = session_scheduled(trigger)
        case SessionCancelled():
            planned = session_cancelled(trigger)
        case SessionCompleted():
            planned = feedback_requests(trigger)
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
        case _:
            planned = _asking_the_pair(trigger)
    return list(planned)


def _asking_the_pair(
    trigger: PairConsentRequested | PairCalledOff | PulseCheckRequested | PairNeedsHelp,
) -> Iterator[Notification]:
    """The notifications of the triggers that ask the pair something (consent, pulse)."""
    match trigger:
        case PairConsentRequested():
            return consent_requests(trigger)
        case PairCalledOff():
            return pairing_called_off(trigger)
        case PulseCheckRequested():
            return pulse_checks(trigger)
        case PairNeedsHelp():
            return help_alerts(trigger)


def _introductions(trigger: PairFormed) -> Iterator[Notification]:
    def introduction(side: PairSide) -> NotificationContent:
        return IntroductionContent(
            **side.names(trigger.programme),
            recipient_role=side.role,
            partner_role=side.partner_role,
            partner_job_title=side.partner.job_title,
            explanation=trigger.explanation,
            first_step=trigger.first_step or DEFAULT_FIRST_STEP,
            link_path=path("pairs", trigger.pair_id),
        )

    yield from to_pair(
        trigger,
        kind=NotificationKind.INTRODUCTION,
        subject_id=trigger.pair_id,
        content_for=introduction,
    )


def _stall_notifications(trigger: PairStalled) -> Iterator[Notification]:
    programme = trigger.programme
    # A pair may stall again after resuming, and be nudged again as weeks pass: each is a
    # reason of its own.
    since = trigger.last_session_at.isoformat() if trigger.last_session_at else "start"
    stall_id = f"{trigger.pair_id}#{since}#{trigger.weeks_silent}w"

    def nudge(side: PairSide) -> NotificationContent:
        return StallNudgeContent(
            **side.names(programme),
            weeks_silent=trigger.weeks_silent,
            last_session_at=trigger.last_session_at,
            link_path=path("pairs", trigger.pair_id, "schedule"),
        )

    def alert(recipient_name: str) -> NotificationContent:
        return HrStallAlertContent(
            **hr_pair_alert(trigger, recipient_name),
            weeks_silent=trigger.weeks_silent,
            last_session_at=trigger.last_session_at,
        )

    yield from to_pair(
        trigger, kind=NotificationKind.STALL_NUDGE, subject_id=stall_id, content_for=nudge
    )
    yield from to_hr(
        trigger, kind=NotificationKind.HR_STALL_ALERT, subject_id=stall_id, content_for=alert
    )


def _fit_alerts(trigger: PairFitConcern) -> Iterator[Notification]:
    # Each side answers the fit question once: the pair, the side and the session name the
    # concern, so a redelivered event finds the same keys and sends nothing more.
    session = str(trigger.session_number) if trigger.session_number is not None else "unknown"
    concern_id = f"{trigger.pair_id}#fit#{trigger.side.value}#{session}"

    def alert(recipient_name: str) -> NotificationContent:
        return HrFitAlertContent(
            **hr_pair_alert(trigger, recipient_name),
            side=trigger.side,
            session_number=trigger.session_number,
        )

    yield from to_hr(
        trigger, kind=NotificationKind.HR_FIT_ALERT, subject_id=concern_id, content_for=alert
    )


def _matching_summaries(trigger: MatchingCompleted) -> Iterator[Notification]:
    programme = trigger.programme

    def summary(recipient_name: str) -> NotificationContent:
        return MatchingSummaryContent(
            recipient_name=recipient_name,
            programme_name=programme.name,
            pairs=trigger.pairs,
            participants_unmatched=trigger.participants_unmatched,
            unmatched_reasons=trigger.unmatched_reasons,
            average_score=trigger.average_score,
            link_path=path("programmes", programme.programme_id, "rounds", trigger.round_id),
        )

    # Round and report ids are chosen per programme: the programme keeps their keys apart.
    preview = "#preview" if trigger.preview else ""
    yield from to_hr(
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
            progress=trigger.progress,
            link_path=path("programmes", programme.programme_id, "progress"),
        )

    yield from to_hr(
        trigger,
        kind=NotificationKind.PROGRESS_REPORT,
        subject_id=f"{programme.programme_id}/{trigger.report_id}",
        content_for=report,
    )


def _thanks(trigger: PairCompleted) -> Iterator[Notification]:
    def thanks(side: PairSide) -> NotificationContent:
        return PairThanksContent(
            **side.names(trigger.programme),
            sessions_held=trigger.sessions_held,
            link_path=path("pairs", trigger.pair_id, "survey"),
        )

    yield from to_pair(
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
