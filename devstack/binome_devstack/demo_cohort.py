"""The demo's programme: its size, its generated cohort, its definition and its HR export.

The cohort comes from :func:`binome_devstack.cohort_generator.generate_cohort` (a French
group: business units, sites in France and abroad, FR/EN speakers, reporting lines,
managers 45–62, young mentors 23–32 with digital skills), seeded and reproducible. The
export is the CSV an HR information system would produce, with a few broken rows added on
purpose so the import shows how it reports them (line numbers, field, reason) while the
good rows go in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from binome_devstack.cohort_generator import GeneratedCohort, benchmark_rules, generate_cohort
from binome_integrations.participants_csv import participants_csv_text
from binome_shared.contracts.hr_commands import DefineProgramme, ProgrammeContact
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.programme import ParticipantConsent
from binome_shared.contracts.session_plan import SessionPlan, default_planned_sessions
from binome_shared.contracts.values import LocalisedText

PROGRAMME_WEEKS = 26
REMINDER_HOURS_BEFORE = 120
"""Five days: the demo's clock moves a week at a time, and a reminder must fall due at a
tick before its session begins (sessions are booked a week ahead, Monday to Friday)."""
TENANT_ID = "groupe-demo"
ORGANISATION = "Groupe Démo"


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoSize:
    """How big the played programme is."""

    key: str
    mentees: int
    mentors: int
    rejections: int
    """Proposals HR turns down in the first round (re-paired in the second)."""
    declines: int
    """Executives asked to consent who decline their pair by the e-mail's link (each is
    re-paired by a repair round)."""
    label: LocalisedText


SIZES: dict[str, DemoSize] = {
    size.key: size
    for size in (
        DemoSize(
            key="committee",
            mentees=15,
            mentors=20,
            rejections=1,
            declines=1,
            label=LocalisedText(
                fr="un comité exécutif de 15 dirigeants", en="an executive committee of 15"
            ),
        ),
        DemoSize(
            key="axa",
            mentees=1000,
            mentors=1100,
            rejections=2,
            declines=2,
            label=LocalisedText(fr="1 000 managers", en="1,000 managers"),
        ),
        DemoSize(
            key="large",
            mentees=5000,
            mentors=5500,
            rejections=5,
            declines=3,
            label=LocalisedText(fr="5 000 managers", en="5,000 managers"),
        ),
    )
}
DEFAULT_SIZE = "axa"


EXECUTIVE_GRADE = 16
"""The generated mentees' grades run from 12 to 18: from 16 up, the executives (4 of the
committee's 15 with the default seed, about three in seven at the larger sizes)."""
DEMO_CONSENT = ParticipantConsent(respond_within_hours=72, from_mentee_job_grade=EXECUTIVE_GRADE)
"""Both members of an executive's pair are asked to accept it, within three days; the
managers' pairs are formed once HR approves them."""


def first_monday_after(day: date) -> date:
    """The Monday strictly after ``day`` (programmes start on a Monday)."""
    return day + timedelta(days=7 - day.weekday())


def demo_cohort(size: DemoSize, *, seed: int, starts_on: date) -> GeneratedCohort:
    """The cohort of a programme starting on ``starts_on`` (ages are taken that year)."""
    rules = benchmark_rules().model_copy(update={"starts_on": starts_on})
    return generate_cohort(mentees=size.mentees, mentors=size.mentors, seed=seed, rules=rules)


def programme_definition(cohort: GeneratedCohort, *, size: DemoSize) -> DefineProgramme:
    """The programme HR defines: rules, the default déroulé over six months, the contact."""
    starts_on = cohort.rules.starts_on
    return DefineProgramme(
        name=f"Mentorat inversé {starts_on.year} — {size.label.fr}",
        organisation_name=ORGANISATION,
        # Each executive and their mentor accept the proposed pair (the e-mail's link) before
        # it is formed: Engie's executives *accepted* to be mentored; managers are paired
        # directly.
        rules=cohort.rules.model_copy(update={"participant_consent": DEMO_CONSENT}),
        session_plan=SessionPlan(
            sessions=default_planned_sessions(),
            cadence_weeks=3,
            session_duration_minutes=60,
            stall_after_weeks=6,
            starts_on=starts_on,
            ends_on=starts_on + timedelta(weeks=PROGRAMME_WEEKS, days=-1),
            time_zone="Europe/Paris",
        ),
        contact=ProgrammeContact(name="Claire Dubois", email="claire.dubois@groupe.example"),
        reminder_hours_before=REMINDER_HOURS_BEFORE,
    )


def export_with_mistakes(participants: list[ParticipantProfile], path: Path) -> int:
    """Write the HR export (``;``, UTF-8 with BOM) with three broken rows at the end.

    The broken rows are copies of real rows under new ids, each with one mistake HR files
    really contain: an address without ``@``, a birth year with a typo, a skill level out
    of range. Returns how many broken rows were added.
    """
    text = participants_csv_text(participants, delimiter=";")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    mentee = next(row for row in rows[1:] if row[header.index("role")] == "mentee")
    mentor = next(row for row in rows[1:] if row[header.index("role")] == "mentor")
    mistakes: tuple[tuple[list[str], str, str, Callable[[str], str]], ...] = (
        (mentee, "X900001", "email", _without_at_sign),
        (mentee, "X900002", "birth_year", _with_a_typo),
        (mentor, "X900003", "skills", _level_out_of_range),
    )
    broken = []
    for source, new_id, column, spoil in mistakes:
        row = list(source)
        row[header.index("participant_id")] = new_id
        index = header.index(column)
        row[index] = spoil(row[index])
        broken.append(row)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(broken)
    path.write_text("\ufeff" + text + buffer.getvalue(), encoding="utf-8", newline="")
    return len(broken)


def _without_at_sign(cell: str) -> str:
    return cell.replace("@", ".at.")


def _with_a_typo(cell: str) -> str:
    return cell[:2] + "x" + cell[3:]


def _level_out_of_range(cell: str) -> str:
    return cell.split(":", 1)[0] + ":7"
