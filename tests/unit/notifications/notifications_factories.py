"""Messages the notifications service consumes, as HR, pairing and sessions send them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import (
    DefineProgramme,
    EnrolParticipant,
    EraseParticipant,
    ProgrammeContact,
)
from binome_shared.contracts.pairing_events import (
    MatchingCompleted,
    PairExplanation,
    PairFormed,
    PairSide,
    UnmatchedParticipant,
)
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import (
    GroupFigures,
    PairFitConcernRaised,
    ProgrammeProgressReported,
    ProgressFigures,
    ProgressGrouping,
    RatingFigure,
    SessionCancelled,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
)
from binome_shared.contracts.values import Language, LocalisedText

TENANT = "groupe-exemple"
PROGRAMME = "prog-notif"
NOW = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)
MENTOR = "Y1"
MENTEE = "X1"


def envelope(
    data: Message, *, source: str, programme_id: str = PROGRAMME, time: datetime = NOW
) -> Envelope[Any]:
    return Envelope.new(data, source=source, time=time, tenant_id=TENANT, programme_id=programme_id)


def define_programme(
    *, reminder_hours_before: int = 24, contact_language: Language = Language.FR
) -> Envelope[Any]:
    starts = date(2027, 1, 11)
    return envelope(
        DefineProgramme(
            name="Mentorat inversé 2027",
            organisation_name="Groupe Exemple",
            rules=ProgrammeRules(starts_on=starts),
            session_plan=SessionPlan(starts_on=starts, ends_on=starts + timedelta(weeks=26)),
            contact=ProgrammeContact(
                name="Claire Dubois",
                email="claire.dubois@example.com",
                language=contact_language,
            ),
            reminder_hours_before=reminder_hours_before,
        ),
        source="/hr/test-platform",
    )


def enrol(
    participant_id: str,
    *,
    name: str,
    email: str,
    language: Language = Language.FR,
    role: ParticipantRole = ParticipantRole.MENTOR,
) -> Envelope[Any]:
    return envelope(
        EnrolParticipant(
            participant=ParticipantProfile(
                participant_id=participant_id,
                role=role,
                full_name=name,
                email=email,
                preferred_language=language,
                birth_year=1998 if role is ParticipantRole.MENTOR else 1968,
                department="Digital" if role is ParticipantRole.MENTOR else "Finance",
                business_unit="Groupe",
                job_grade=5 if role is ParticipantRole.MENTOR else 20,
                site="Paris",
                languages=["fr", "en"],
            )
        ),
        source="/hr/test-platform",
    )


def enrol_pair() -> list[Envelope[Any]]:
    """Inès (mentor, French) and Laurent (mentee, English)."""
    return [
        enrol(MENTOR, name="Inès Martin", email="ines.martin@example.com"),
        enrol(
            MENTEE,
            name="Laurent Girard",
            email="laurent.girard@example.com",
            language=Language.EN,
            role=ParticipantRole.MENTEE,
        ),
    ]


def erase(participant_id: str) -> Envelope[Any]:
    return envelope(EraseParticipant(participant_id=participant_id), source="/hr/test-platform")


def pair_formed(pair_id: str = "pair-1") -> Envelope[Any]:
    return envelope(
        PairFormed(
            pair_id=pair_id,
            round_id="round-1",
            mentor=PairSide(participant_id=MENTOR, business_unit="Digital"),
            mentee=PairSide(participant_id=MENTEE, business_unit="Finance"),
            explanation=PairExplanation(
                score=0.82,
                breakdown={"needs_coverage": 0.9},
                summary=LocalisedText(
                    fr="Ses compétences en IA générative couvrent vos besoins prioritaires.",
                    en="Their generative AI skills cover your top learning needs.",
                ),
            ),
        ),
        source="/binome/pairing",
    )


def session_scheduled(
    *, starts_at: datetime, pair_id: str = "pair-1", sequence: int = 0, time: datetime = NOW
) -> Envelope[Any]:
    return envelope(
        SessionScheduled(
            pair_id=pair_id,
            session_number=1,
            theme_key="kick-off",
            starts_at=starts_at,
            duration_minutes=60,
            location="Teams",
            sequence=sequence,
        ),
        source="/binome/sessions",
        time=time,
    )


def session_cancelled(*, pair_id: str = "pair-1", sequence: int = 0) -> Envelope[Any]:
    return envelope(
        SessionCancelled(
            pair_id=pair_id, session_number=1, reason="participant_unavailable", sequence=sequence
        ),
        source="/binome/sessions",
    )


def session_completed(*, pair_id: str = "pair-1", held_at: datetime = NOW) -> Envelope[Any]:
    return envelope(
        SessionCompleted(
            pair_id=pair_id,
            session_number=1,
            theme_key="kick-off",
            held_at=held_at,
            duration_minutes=60,
        ),
        source="/binome/sessions",
    )


def pair_fit_concern_raised(
    *,
    side: ParticipantRole = ParticipantRole.MENTEE,
    session_number: int | None = 1,
    pair_id: str = "pair-1",
) -> Envelope[Any]:
    return envelope(
        PairFitConcernRaised(pair_id=pair_id, side=side, session_number=session_number),
        source="/binome/sessions",
    )


def matching_completed(round_id: str = "round-1", *, preview: bool = False) -> Envelope[Any]:
    reason = LocalisedText(fr="Aucun mentor compatible", en="No compatible mentor")
    return envelope(
        MatchingCompleted(
            round_id=round_id,
            preview=preview,
            mentors=10,
            mentees=11,
            pairs=10,
            pairs_kept=0,
            score_quantiles={"mean": 0.71},
            unmatched=[
                UnmatchedParticipant(
                    participant_id="X99", role="mentee", reason_code="no_mentor", reason=reason
                )
            ],
        ),
        source="/binome/pairing",
    )


def session_rescheduled(
    *, previous: datetime, starts_at: datetime, sequence: int = 1, pair_id: str = "pair-1"
) -> Envelope[Any]:
    return envelope(
        SessionRescheduled(
            pair_id=pair_id,
            session_number=1,
            theme_key="kick-off",
            previous_starts_at=previous,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=90),
            duration_minutes=90,
            location="Teams",
            sequence=sequence,
            theme=LocalisedText(fr="Lancement", en="Kick-off"),
        ),
        source="/binome/sessions",
    )


def progress_reported() -> Envelope[Any]:
    rating = RatingFigure(value=4.2, raters=12, suppressed=False)
    figures = ProgressFigures(
        pairs_active=20,
        pairs_stalled=3,
        pairs_completed=2,
        pairs_dissolved=1,
        sessions_planned=150,
        sessions_scheduled=30,
        sessions_held=41,
        sessions_skipped=2,
        sessions_missed=4,
        objectives_set=40,
        objectives_met=10,
        objectives_not_met=2,
        fit_concerns=1,
        rating_from_mentees=rating,
        rating_from_mentors=rating,
    )
    return envelope(
        ProgrammeProgressReported(
            reported_at=NOW,
            period_start=NOW - timedelta(days=30),
            grouped_by=ProgressGrouping.MENTEE_BUSINESS_UNIT,
            suppression_threshold=5,
            total=GroupFigures(group="*", suppressed=False, people=50, figures=figures),
            groups=[],
        ),
        source="/binome/sessions",
    )
