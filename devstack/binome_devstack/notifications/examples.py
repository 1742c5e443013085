"""Realistic example triggers, for previews, documentation and tests (fictitious people)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from binome_notifications.domain.content import ProgrammeProgress, UnmatchedReason
from binome_notifications.domain.model import (
    NotificationKind,
    Person,
    Programme,
    WebhookReceiver,
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
from binome_notifications.translation import PairTriggerFields
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.values import Language, LocalisedText

EXAMPLE_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
EXAMPLE_SESSION_START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
"""Thursday 3 December 2026, 14:00 in Paris."""

EXAMPLE_HR = Person(
    person_id="hr-claire",
    display_name="Claire Fontaine",
    email="claire.fontaine@example.com",
    language=Language.FR,
)
EXAMPLE_PROGRAMME = Programme(
    programme_id="engie-comex-2026",
    name="Comex digital 2026",
    language=Language.FR,
    time_zone="Europe/Paris",
    hr_contact=EXAMPLE_HR,
    reminder_lead=timedelta(hours=24),
    webhook_receivers=(WebhookReceiver(receiver_id="hr-platform"),),
)
EXAMPLE_MENTOR = Person(
    person_id="p-ines",
    display_name="Inès Moreau",
    email="ines.moreau@example.com",
    language=Language.FR,
    time_zone="Europe/Paris",
    job_title="Community manager",
)
EXAMPLE_MENTEE = Person(
    person_id="p-laurent",
    display_name="Laurent Girard",
    email="laurent.girard@example.com",
    language=Language.FR,
    time_zone="Europe/Paris",
    job_title="Directeur financier",
)
EXAMPLE_EXPLANATION = LocalisedText(
    fr=(
        "Inès maîtrise LinkedIn et les outils collaboratifs, deux besoins prioritaires de "
        "Laurent ; vos disponibilités se recouvrent le jeudi après-midi."
    ),
    en=(
        "Inès masters LinkedIn and collaborative tools, two of Laurent's top needs; "
        "you are both available on Thursday afternoons."
    ),
)
EXAMPLE_THEME = LocalisedText(
    fr="Réseaux sociaux professionnels", en="Professional social networks"
)

_KIND_TRIGGERS: dict[NotificationKind, Trigger] = {}


def _build() -> dict[NotificationKind, Trigger]:
    programme, mentor, mentee = EXAMPLE_PROGRAMME, EXAMPLE_MENTOR, EXAMPLE_MENTEE
    about = PairTriggerFields(
        occurred_at=EXAMPLE_NOW,
        programme=programme,
        pair_id="pair-42",
        mentor=mentor,
        mentee=mentee,
    )
    scheduled = SessionScheduled(
        occurred_at=EXAMPLE_NOW,
        programme=programme,
        pair_id="pair-42",
        session_id="session-7",
        mentor=mentor,
        mentee=mentee,
        theme=EXAMPLE_THEME,
        starts_at=EXAMPLE_SESSION_START,
        ends_at=EXAMPLE_SESSION_START + timedelta(hours=1),
        session_number=2,
        location="https://visio.example.com/binome-42",
    )
    stalled = PairStalled(
        **about,
        weeks_silent=5,
        last_session_at=datetime(2026, 10, 22, 15, 30, tzinfo=UTC),
    )
    return {
        NotificationKind.INTRODUCTION: PairFormed(
            **about,
            explanation=EXAMPLE_EXPLANATION,
        ),
        NotificationKind.SESSION_INVITATION: scheduled,
        NotificationKind.SESSION_REMINDER: scheduled,
        NotificationKind.SESSION_CANCELLATION: SessionCancelled(
            occurred_at=EXAMPLE_NOW,
            programme=programme,
            pair_id="pair-42",
            session_id="session-7",
            mentor=mentor,
            mentee=mentee,
            theme=EXAMPLE_THEME,
            starts_at=EXAMPLE_SESSION_START,
            ends_at=EXAMPLE_SESSION_START + timedelta(hours=1),
            sequence=1,
            session_number=2,
            reason=LocalisedText(fr="Conflit d'agenda", en="Calendar conflict"),
        ),
        NotificationKind.FEEDBACK_REQUEST: SessionCompleted(
            occurred_at=EXAMPLE_NOW,
            programme=programme,
            pair_id="pair-42",
            session_id="session-7",
            mentor=mentor,
            mentee=mentee,
            theme=EXAMPLE_THEME,
            held_at=EXAMPLE_SESSION_START + timedelta(hours=1),
            session_number=1,
        ),
        NotificationKind.STALL_NUDGE: stalled,
        NotificationKind.HR_STALL_ALERT: stalled,
        NotificationKind.HR_FIT_ALERT: PairFitConcern(
            **about,
            side=ParticipantRole.MENTEE,
            session_number=1,
        ),
        NotificationKind.MATCHING_SUMMARY: MatchingCompleted(
            occurred_at=EXAMPLE_NOW,
            programme=programme,
            round_id="round-1",
            pairs=24,
            participants_unmatched=2,
            unmatched_reasons=(
                UnmatchedReason(
                    reason=LocalisedText(
                        fr="Aucun mentor ne partage sa langue",
                        en="No mentor shares their language",
                    ),
                    count=1,
                ),
                UnmatchedReason(
                    reason=LocalisedText(
                        fr="Capacité des mentors atteinte", en="Mentor capacity reached"
                    ),
                    count=1,
                ),
            ),
            average_score=0.82,
        ),
        NotificationKind.PROGRESS_REPORT: ProgressReportDue(
            occurred_at=EXAMPLE_NOW,
            programme=programme,
            report_id="2026-11",
            progress=ProgrammeProgress(
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                pairs_active=21,
                pairs_stalled=2,
                pairs_completed=1,
                sessions_held=48,
                sessions_missed=3,
                objectives_on_track_percent=76,
            ),
        ),
        NotificationKind.PAIR_THANKS: PairCompleted(
            **about,
            sessions_held=8,
        ),
        NotificationKind.CONSENT_REQUEST: PairConsentRequested(
            **about,
            explanation=EXAMPLE_EXPLANATION,
            respond_by=EXAMPLE_NOW + timedelta(days=7),
        ),
        NotificationKind.PAIRING_CALLED_OFF: PairCalledOff(
            **about,
        ),
        NotificationKind.PULSE_CHECK: PulseCheckRequested(
            **about,
            pulse_number=2,
        ),
        NotificationKind.HR_HELP_ALERT: PairNeedsHelp(
            **about,
            pulse_number=2,
            side=ParticipantRole.MENTOR,
        ),
    }


def example_trigger(kind: NotificationKind, *, language: Language | None = None) -> Trigger:
    """A trigger that causes ``kind``; with ``language``, everyone reads that language."""
    if not _KIND_TRIGGERS:
        _KIND_TRIGGERS.update(_build())
    trigger = _KIND_TRIGGERS[kind]
    if language is None:
        return trigger
    programme = trigger.programme
    hr_contact = programme.hr_contact and replace(programme.hr_contact, language=language)
    programme = replace(programme, language=language, hr_contact=hr_contact)
    if isinstance(trigger, MatchingCompleted | ProgressReportDue):
        return replace(trigger, programme=programme)
    return replace(
        trigger,
        programme=programme,
        mentor=replace(trigger.mentor, language=language),
        mentee=replace(trigger.mentee, language=language),
    )
