"""Public messages (HR commands, pairing and sessions events) in the domain's words.

Pure: a message plus what the service remembers becomes a record to store or a trigger to
plan notifications from. No IO, no clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from binome_notifications.domain import triggers
from binome_notifications.domain.content import ProgrammeProgress, UnmatchedReason
from binome_notifications.domain.directory import PairRecord, ProgrammeRecord, SessionRecord
from binome_notifications.domain.model import (
    HR_KINDS,
    NotificationKind,
    Person,
    Programme,
    WebhookReceiver,
)
from binome_shared.contracts import hr_commands, pairing_events, sessions_messages
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.values import Language, LocalisedText


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiverSubscription:
    """A webhook receiver and the tenants, programmes and kinds it listens to (None: all)."""

    receiver_id: str
    programmes: frozenset[str] | None = None
    kinds: frozenset[NotificationKind] = HR_KINDS
    language: Language | None = None
    tenants: frozenset[str] | None = None
    """Programme ids are namespaced by tenant: a receiver that follows ``prog-2027`` of one
    tenant names that tenant, or it hears every tenant's ``prog-2027``."""

    def listens_to(self, tenant_id: str, programme_id: str) -> bool:
        """Whether this receiver subscribed to the tenant's ``programme_id``."""
        return (self.tenants is None or tenant_id in self.tenants) and (
            self.programmes is None or programme_id in self.programmes
        )


def programme_record(
    command: hr_commands.DefineProgramme, *, programme_id: str, tenant_id: str
) -> ProgrammeRecord:
    """What the service keeps of a programme definition."""
    plan = command.session_plan
    return ProgrammeRecord(
        programme_id=programme_id,
        tenant_id=tenant_id,
        name=command.name,
        language=command.language,
        time_zone=plan.time_zone,
        contact_name=command.contact.name,
        contact_email=command.contact.email,
        contact_language=command.contact.language,
        reminder_lead=timedelta(hours=command.reminder_hours_before),
        themes={session.key: session.title for session in plan.sessions},
        feedback_after_each_session=plan.feedback.after_each_session,
        feedback_delay=timedelta(hours=plan.feedback.request_delay_hours),
    )


def person_from_profile(profile: ParticipantProfile) -> Person:
    """Only what messages need: name, address, language, time zone."""
    return Person(
        person_id=profile.participant_id,
        display_name=profile.full_name,
        email=profile.email,
        language=profile.preferred_language,
        time_zone=profile.time_zone,
    )


def domain_programme(
    record: ProgrammeRecord, receivers: Sequence[ReceiverSubscription]
) -> Programme:
    """The programme as the planner sees it, with the receivers subscribed to it."""
    return Programme(
        programme_id=record.programme_id,
        name=record.name,
        tenant_id=record.tenant_id,
        language=record.language,
        time_zone=record.time_zone,
        hr_contact=record.hr_contact,
        reminder_lead=record.reminder_lead,
        webhook_receivers=tuple(
            WebhookReceiver(
                receiver_id=receiver.receiver_id, kinds=receiver.kinds, language=receiver.language
            )
            for receiver in receivers
            if receiver.listens_to(record.tenant_id, record.programme_id)
        ),
    )


class PairTriggerFields(TypedDict):
    """The fields every trigger about a pair has (see ``triggers.PairTrigger``)."""

    occurred_at: datetime
    programme: Programme
    pair_id: str
    mentor: Person
    mentee: Person


@dataclass(frozen=True, slots=True, kw_only=True)
class PairScene:
    """What a trigger about a pair is set in: when, in which programme, between whom."""

    occurred_at: datetime
    programme: Programme
    mentor: Person
    mentee: Person

    def about(self, pair_id: str) -> PairTriggerFields:
        """The common fields of a trigger about ``pair_id``."""
        return PairTriggerFields(
            occurred_at=self.occurred_at,
            programme=self.programme,
            pair_id=pair_id,
            mentor=self.mentor,
            mentee=self.mentee,
        )


def session_id(pair_id: str, session_number: int) -> str:
    """A session's id: stable across reschedules, so its calendar UID is too."""
    return f"{pair_id}-{session_number}"


def pair_record(
    event: pairing_events.PairFormed | pairing_events.PairConsentRequested,
    *,
    tenant_id: str,
    programme_id: str,
) -> PairRecord:
    """Who is in the new pair."""
    return PairRecord(
        tenant_id=tenant_id,
        pair_id=event.pair_id,
        programme_id=programme_id,
        mentor_id=event.mentor.participant_id,
        mentee_id=event.mentee.participant_id,
    )


def pair_formed(
    event: pairing_events.PairFormed,
    scene: PairScene,
) -> triggers.PairFormed:
    """Introductions: who, why (the pairing explanation), and the first step."""
    return triggers.PairFormed(
        **scene.about(event.pair_id),
        explanation=event.explanation.summary,
    )


def session_record(
    event: sessions_messages.SessionScheduled | sessions_messages.SessionRescheduled,
) -> SessionRecord:
    """The session's revision this event announces (a reschedule is a higher revision)."""
    duration = event.duration_minutes
    if event.ends_at is not None and event.ends_at > event.starts_at:
        duration = int((event.ends_at - event.starts_at).total_seconds() // 60)
    return SessionRecord(
        session_id=session_id(event.pair_id, event.session_number),
        pair_id=event.pair_id,
        session_number=event.session_number,
        theme_key=event.theme_key,
        starts_at=event.starts_at,
        duration_minutes=duration,
        location=event.location,
        sequence=event.sequence,
    )


def session_theme(
    event_theme: LocalisedText | None, *, theme_key: str, programme: ProgrammeRecord
) -> LocalisedText:
    """The title the event carries, else the programme plan's, else the key itself."""
    return event_theme if event_theme is not None else programme.theme(theme_key)


CANCELLATION_REASONS: dict[str, LocalisedText] = {
    "participant_unavailable": LocalisedText(
        fr="L'un de vous n'est pas disponible à cette date.",
        en="One of you is not available at that time.",
    ),
    "session_skipped": LocalisedText(
        fr="Cette séance a été retirée du parcours de votre binôme.",
        en="This session was taken out of your pair's plan.",
    ),
    "pair_dissolved": LocalisedText(
        fr="Votre binôme a pris fin.", en="Your pair has come to an end."
    ),
    "programme_ended": LocalisedText(fr="Le programme est terminé.", en="The programme has ended."),
}
"""SessionCancelled carries a reason code (never free text): what each one says to people."""


def cancelled_session(event: sessions_messages.SessionCancelled) -> SessionRecord | None:
    """The cancelled appointment as the event describes it, when it says when it was."""
    if event.cancelled_starts_at is None or event.theme_key is None:
        return None
    return SessionRecord(
        session_id=session_id(event.pair_id, event.session_number),
        pair_id=event.pair_id,
        session_number=event.session_number,
        theme_key=event.theme_key,
        starts_at=event.cancelled_starts_at,
        duration_minutes=60,
        location="",
        sequence=max(event.sequence - 1, 0),
    )


class AppointmentFields(TypedDict):
    """The fields of a ``triggers.SessionAppointment`` a stored session revision gives."""

    session_id: str
    theme: LocalisedText
    starts_at: datetime
    ends_at: datetime
    session_number: int


def _appointment(session: SessionRecord, theme: LocalisedText) -> AppointmentFields:
    return AppointmentFields(
        session_id=session.session_id,
        theme=theme,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        session_number=session.session_number,
    )


def session_scheduled(
    session: SessionRecord,
    scene: PairScene,
    *,
    theme: LocalisedText,
) -> triggers.SessionScheduled:
    """Confirmation with an invite, and a reminder before the session."""
    return triggers.SessionScheduled(
        **scene.about(session.pair_id),
        **_appointment(session, theme),
        sequence=session.sequence,
        location=session.location or None,
    )


def cancellation_sequence(event: sessions_messages.SessionCancelled, known: SessionRecord) -> int:
    """A CANCEL must carry a revision above the invite it cancels, or calendars ignore it."""
    return max(event.sequence, known.sequence + 1)


def session_cancelled(
    event: sessions_messages.SessionCancelled,
    session: SessionRecord,
    scene: PairScene,
    *,
    theme: LocalisedText,
) -> triggers.SessionCancelled:
    """A cancellation with a CANCEL invite for the session's latest revision."""
    reason = CANCELLATION_REASONS.get(event.reason)
    return triggers.SessionCancelled(
        **scene.about(session.pair_id),
        **_appointment(session, theme),
        sequence=cancellation_sequence(event, session),
        reason=reason,
    )


def session_completed(
    event: sessions_messages.SessionCompleted,
    scene: PairScene,
    *,
    theme: LocalisedText,
) -> triggers.SessionCompleted:
    """A feedback request for a session that took place."""
    return triggers.SessionCompleted(
        **scene.about(event.pair_id),
        session_id=session_id(event.pair_id, event.session_number),
        theme=theme,
        held_at=event.held_at,
        session_number=event.session_number,
    )


def pair_stalled(
    event: sessions_messages.PairStalled,
    scene: PairScene,
) -> triggers.PairStalled:
    """A nudge to the pair and a note to HR."""
    return triggers.PairStalled(
        **scene.about(event.pair_id),
        weeks_silent=event.weeks_silent,
        last_session_at=event.last_session_at,
    )


def pair_fit_concern(
    event: sessions_messages.PairFitConcernRaised,
    scene: PairScene,
) -> triggers.PairFitConcern:
    """A note to HR: which side finds the pair not a good fit, and after which session."""
    return triggers.PairFitConcern(
        **scene.about(event.pair_id),
        side=event.side,
        session_number=event.session_number,
    )


def pair_completed(
    event: sessions_messages.PairCompleted,
    scene: PairScene,
) -> triggers.PairCompleted:
    """Thanks and the closing survey."""
    return triggers.PairCompleted(
        **scene.about(event.pair_id),
        sessions_held=event.sessions_held,
    )


def pulse_check_requested(
    event: sessions_messages.PulseCheckRequested,
    scene: PairScene,
) -> triggers.PulseCheckRequested:
    """The pulse question to both members (the event names them; the pair's record too)."""
    return triggers.PulseCheckRequested(
        **scene.about(event.pair_id),
        pulse_number=event.pulse_number,
    )


def pair_needs_help(
    event: sessions_messages.PairNeedsHelp,
    scene: PairScene,
) -> triggers.PairNeedsHelp:
    """A note to HR: which side asked for help, in which pulse round."""
    return triggers.PairNeedsHelp(
        **scene.about(event.pair_id),
        pulse_number=event.pulse_number,
        side=event.side,
    )


def matching_completed(
    event: pairing_events.MatchingCompleted, occurred_at: datetime, programme: Programme
) -> triggers.MatchingCompleted:
    """The round's summary for HR: counts, average score, why people stayed unmatched."""
    counts = Counter(item.reason_code for item in event.unmatched)
    first_reason: dict[str, LocalisedText] = {}
    for item in event.unmatched:
        first_reason.setdefault(item.reason_code, item.reason)
    return triggers.MatchingCompleted(
        occurred_at=occurred_at,
        programme=programme,
        round_id=event.round_id,
        preview=event.preview,
        pairs=event.pairs,
        participants_unmatched=len(event.unmatched),
        unmatched_reasons=tuple(
            UnmatchedReason(reason=first_reason[code], count=count)
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ),
        average_score=event.score_quantiles.get("mean"),
    )


def progress_reported(
    event: sessions_messages.ProgrammeProgressReported,
    occurred_at: datetime,
    programme: Programme,
) -> triggers.ProgressReportDue:
    """The programme's progress for HR (the whole programme: business units stay in the
    sessions service's report, where small groups are suppressed)."""
    figures = event.total.figures
    period_end = event.reported_at.date()
    period_start = event.period_start.date() if event.period_start else period_end
    on_track = None
    if figures is not None and figures.objectives_set:
        on_track = round(100 * figures.objectives_met / figures.objectives_set)
    return triggers.ProgressReportDue(
        occurred_at=occurred_at,
        programme=programme,
        report_id=event.reported_at.isoformat(),
        progress=ProgrammeProgress(
            period_start=period_start,
            period_end=period_end,
            pairs_active=figures.pairs_active if figures else 0,
            pairs_stalled=figures.pairs_stalled if figures else 0,
            pairs_completed=figures.pairs_completed if figures else 0,
            sessions_held=figures.sessions_held if figures else 0,
            sessions_missed=figures.sessions_missed if figures else 0,
            objectives_on_track_percent=on_track,
        ),
    )


def pair_consent_requested(
    event: pairing_events.PairConsentRequested, scene: PairScene
) -> triggers.PairConsentRequested:
    """An accept / decline request to each member: who, why, by when."""
    return triggers.PairConsentRequested(
        **scene.about(event.pair_id),
        explanation=event.explanation.summary,
        respond_by=event.respond_by,
    )


def pair_called_off(
    event: pairing_events.PairCalledOff, scene: PairScene
) -> triggers.PairCalledOff:
    """The neutral notice to both members: the event's reason and declining side (HR's)
    are left behind on purpose."""
    return triggers.PairCalledOff(**scene.about(event.pair_id))
