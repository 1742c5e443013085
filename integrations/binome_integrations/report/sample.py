"""A realistic, reproducible report, for tests, screenshots and ``binome-report sample``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from binome_integrations.report.model import (
    BusinessUnitProgress,
    ConsentFigures,
    DeadLetterCount,
    KindCount,
    ProgrammeFunnel,
    ProgrammeReport,
    PulseRound,
    SessionRatings,
    SessionsMonth,
    UnmatchedGroup,
)
from binome_shared.contracts.values import LocalisedText

_UNITS: tuple[tuple[str, int], ...] = (
    ("Grand Public", 46),
    ("Entreprises", 38),
    ("Réseaux", 30),
    ("Technologie & Innovation", 34),
    ("Finance", 18),
    ("Ressources humaines", 14),
    ("International", 12),
    ("Juridique & Conformité", 3),
)


def sample_report(*, seed: int = 2027) -> ProgrammeReport:
    """A 120-mentee programme near its end: most pairs completed, a few stalled."""
    generator = random.Random(seed)
    scores = [round(generator.betavariate(7, 2.6), 3) for _ in range(112)]
    months = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]
    sessions = [
        SessionsMonth(month=months[0], planned=0, held=96, missed=6, cancelled=4),
        SessionsMonth(month=months[1], planned=0, held=104, missed=5, cancelled=3),
        SessionsMonth(month=months[2], planned=0, held=99, missed=8, cancelled=6),
        SessionsMonth(month=months[3], planned=0, held=92, missed=7, cancelled=5),
        SessionsMonth(month=months[4], planned=6, held=88, missed=4, cancelled=2),
        SessionsMonth(month=months[5], planned=41, held=12, missed=0, cancelled=1),
    ]
    units = [
        BusinessUnitProgress.measured(
            business_unit=name,
            people=people,
            pairs=people // 2,
            sessions_planned=(people // 2) * 6,
            sessions_held=round((people // 2) * 6 * generator.uniform(0.68, 0.93)),
            completion_rate=round(generator.uniform(0.55, 0.9), 2),
            average_rating=round(generator.uniform(3.7, 4.7), 1),
        )
        for name, people in _UNITS
    ]
    return ProgrammeReport(
        programme_id="prog-2027-groupe",
        programme_name="Mentorat inversé 2027",
        organisation="Groupe Exemple",
        generated_at=datetime(2027, 6, 14, 18, 0, tzinfo=timezone(timedelta(hours=2))),
        mentors=126,
        mentees=120,
        pairs_formed=112,
        unmatched=[
            UnmatchedGroup(
                reason_code="no_feasible_mentor",
                role="mentee",
                reason=LocalisedText(
                    fr="Aucun mentor ne respecte toutes les règles (langue, âge, hiérarchie).",
                    en="No mentor meets every rule (language, age, reporting line).",
                ),
                count=5,
                examples=["M000017", "M000064", "M000101"],
            ),
            UnmatchedGroup(
                reason_code="mentors_needed_elsewhere",
                role="mentee",
                reason=LocalisedText(
                    fr="Les mentors possibles sont mieux employés ailleurs (capacité).",
                    en="Possible mentors are better used elsewhere (capacity).",
                ),
                count=3,
                examples=["M000042", "M000088"],
            ),
            UnmatchedGroup(
                reason_code="not_needed",
                role="mentor",
                reason=LocalisedText(
                    fr="Plus de mentors que de mentorés : en réserve.",
                    en="More mentors than mentees: kept in reserve.",
                ),
                count=14,
                examples=["Y000003", "Y000051", "Y000117"],
            ),
        ],
        pair_scores=scores,
        funnel=ProgrammeFunnel(
            enrolled_mentees=120, matched=114, formed=112, first_session_held=108, completed=86
        ),
        sessions_by_month=sessions,
        active_pairs=20,
        stalled_pairs=6,
        completed_pairs=86,
        progress_by_business_unit=units,
        notifications_by_kind=[
            KindCount(kind="introduction", count=224),
            KindCount(kind="session_invitation", count=1350),
            KindCount(kind="session_reminder", count=1298),
            KindCount(kind="feedback_request", count=982),
            KindCount(kind="session_cancellation", count=21),
            KindCount(kind="stall_nudge", count=12),
            KindCount(kind="hr_stall_alert", count=6),
            KindCount(kind="matching_summary", count=1),
            KindCount(kind="pair_thanks", count=172),
        ],
        dead_letters=[
            DeadLetterCount(topic="binome.hr.commands.dlq", count=0),
            DeadLetterCount(topic="binome.pairing.events.dlq", count=0),
            DeadLetterCount(topic="binome.sessions.events.dlq", count=0),
        ],
        emails_directory=".stack/demo/mail",
        emails_written=4065,
        imposed_pairs=9,
        imposed_overrides=1,
        consent=ConsentFigures(
            pairs_asked=40, accepted=31, declined=4, lapsed=3, left=1, pending=1
        ),
        pulse_rounds=[
            PulseRound(pulse_number=1, asked=224, answered=181, on_track=163, need_help=18),
            PulseRound(pulse_number=2, asked=218, answered=160, on_track=149, need_help=11),
            PulseRound(pulse_number=3, asked=4, suppressed=True),
        ],
        ratings_by_session=[
            SessionRatings(session_number=number, ratings=ratings, average_rating=average)
            for number, ratings, average in (
                (1, 198, 3.9),
                (2, 190, 4.1),
                (3, 176, 4.2),
                (4, 160, 4.3),
                (5, 131, 4.4),
            )
        ]
        + [SessionRatings(session_number=6, ratings=3, suppressed=True)],
    )
