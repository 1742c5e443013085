"""Realistic, reproducible cohorts of a large French group, for benchmarks, tests and demos.

Mentees are managers and executives (45–62 years old, senior grades, a reporting tree);
mentors are young employees (23–32, junior grades, digital skills at various levels) whose
team leads report into that tree. Most people work in France, some in London, Madrid,
Montréal, Casablanca or Singapore, so languages and time zones vary. A quarter of the mentors
are seconded by partner companies, as in a cross-company programme: their ``organisation``
names the partner (the group's own people have none) and they report to a team lead of the
group. Skills and needs name the programme's taxonomy (the default digital
topics). The same seed always gives the same cohort.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time

from binome_shared.contracts.participants import (
    Gender,
    LearningNeed,
    ParticipantProfile,
    ParticipantRole,
    ReportingLine,
    Skill,
    Weekday,
    WeeklySlot,
    WorkingHours,
)
from binome_shared.contracts.programme import (
    DEFAULT_TOPICS,
    ApprovalMode,
    HardConstraints,
    MinimumAgeGap,
    ProgrammeRules,
)
from binome_shared.contracts.values import Language

PROGRAMME_START = date(2027, 1, 11)

BUSINESS_UNITS: dict[str, tuple[str, ...]] = {
    "Grand Public": ("Ventes", "Marketing", "Service client", "Boutiques", "Fidélisation"),
    "Entreprises": ("Grands comptes", "PME", "Solutions cloud", "Avant-vente", "Partenariats"),
    "Réseaux": ("Déploiement fibre", "Exploitation", "Ingénierie radio", "Supervision"),
    "Technologie & Innovation": ("Architecture", "Data & IA", "Cybersécurité", "Produits"),
    "Finance": ("Contrôle de gestion", "Trésorerie", "Achats", "Audit interne"),
    "Ressources humaines": ("Talents", "Formation", "Rémunération", "Relations sociales"),
    "International": ("Afrique", "Europe", "Amériques", "Asie"),
    "Juridique & Conformité": ("Juridique", "Conformité", "Affaires publiques"),
}

# (site, time zone, weight, languages always spoken, optional languages and their odds)
SITES: tuple[tuple[str, str, float, tuple[str, ...], tuple[tuple[str, float], ...]], ...] = (
    ("Paris La Défense", "Europe/Paris", 0.36, ("fr",), (("en", 0.7), ("es", 0.08), ("de", 0.05))),
    ("Lyon", "Europe/Paris", 0.10, ("fr",), (("en", 0.55), ("it", 0.05))),
    ("Lille", "Europe/Paris", 0.07, ("fr",), (("en", 0.5), ("nl", 0.05))),
    ("Marseille", "Europe/Paris", 0.06, ("fr",), (("en", 0.5), ("ar", 0.06))),
    ("Toulouse", "Europe/Paris", 0.06, ("fr",), (("en", 0.6), ("es", 0.1))),
    ("Nantes", "Europe/Paris", 0.05, ("fr",), (("en", 0.5),)),
    ("Rennes", "Europe/Paris", 0.05, ("fr",), (("en", 0.55),)),
    ("Bordeaux", "Europe/Paris", 0.05, ("fr",), (("en", 0.5), ("es", 0.08))),
    ("Londres", "Europe/London", 0.05, ("en",), (("fr", 0.45),)),
    ("Madrid", "Europe/Madrid", 0.04, ("es", "en"), (("fr", 0.3),)),
    ("Montréal", "America/Toronto", 0.04, ("fr", "en"), ()),
    ("Casablanca", "Africa/Casablanca", 0.04, ("fr", "ar"), (("en", 0.5),)),
    ("Singapour", "Asia/Singapore", 0.03, ("en",), (("zh", 0.4), ("fr", 0.15))),
)

NEED_TOPICS: tuple[tuple[str, float], ...] = (
    ("generative_ai", 0.9),
    ("linkedin", 0.7),
    ("collaborative_tools", 0.6),
    ("cybersecurity", 0.45),
    ("data", 0.5),
    ("social_networks", 0.5),
    ("personal_branding", 0.3),
    ("remote_work", 0.25),
    ("video_content", 0.2),
    ("no_code", 0.2),
    ("mobile_apps", 0.15),
    ("green_it", 0.2),
)

PARTNER_ORGANISATIONS: tuple[str, ...] = (
    "Nova Numérique",
    "Atelier Lumen",
    "Kairos Conseil",
    "Studio Mistral",
)
"""Partner companies of the cross-company programme (fictional)."""
PARTNER_SHARE = 0.25
"""Share of mentors seconded by partner companies; mentees are the group's own executives."""

INTERESTS = (
    "photography",
    "running",
    "cooking",
    "sustainability",
    "music",
    "travel",
    "cinema",
    "reading",
    "volunteering",
    "cycling",
    "gaming",
    "theatre",
    "hiking",
    "football",
    "startups",
    "design",
    "podcasts",
    "gardening",
    "sailing",
    "chess",
)

AVAILABILITY_MENU: tuple[tuple[Weekday, time, time], ...] = (
    (Weekday.MONDAY, time(8, 30), time(10, 0)),
    (Weekday.MONDAY, time(12, 30), time(14, 0)),
    (Weekday.TUESDAY, time(8, 0), time(9, 30)),
    (Weekday.TUESDAY, time(17, 30), time(19, 0)),
    (Weekday.WEDNESDAY, time(12, 0), time(13, 30)),
    (Weekday.WEDNESDAY, time(16, 0), time(18, 0)),
    (Weekday.THURSDAY, time(8, 30), time(10, 0)),
    (Weekday.THURSDAY, time(18, 0), time(19, 30)),
    (Weekday.FRIDAY, time(9, 0), time(10, 30)),
    (Weekday.FRIDAY, time(12, 30), time(14, 0)),
)

FIRST_NAMES = (
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Hugo",
    "Lucas",
    "Thomas",
    "Nathan",
    "Théo",
    "Louis",
    "Karim",
    "Mehdi",
    "Julien",
    "Antoine",
    "Sophie",
    "Isabelle",
    "Nathalie",
    "Catherine",
    "Valérie",
    "Philippe",
    "Laurent",
    "Olivier",
    "Éric",
    "Pascal",
)
FEMALE_NAMES = frozenset(FIRST_NAMES[:10] + FIRST_NAMES[20:25])
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Benali",
    "Nguyen",
    "Da Silva",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class GeneratedCohort:
    """A programme's rules, its participants and the reporting lines of team leads."""

    rules: ProgrammeRules
    participants: list[ParticipantProfile]
    reporting_lines: list[ReportingLine]

    @property
    def mentors(self) -> list[ParticipantProfile]:
        """The mentors, in generation order."""
        return [p for p in self.participants if p.role is ParticipantRole.MENTOR]

    @property
    def mentees(self) -> list[ParticipantProfile]:
        """The mentees, in generation order."""
        return [p for p in self.participants if p.role is ParticipantRole.MENTEE]


def benchmark_rules() -> ProgrammeRules:
    """Rules of a typical group-wide programme: most constraints on."""
    return ProgrammeRules(
        starts_on=PROGRAMME_START,
        approval_mode=ApprovalMode.HR_APPROVES,
        topics=list(DEFAULT_TOPICS),
        constraints=HardConstraints(
            mentor_younger=MinimumAgeGap(years=12),
            not_in_management_chain=True,
            different_department=True,
            shared_language=True,
            mentor_trained=True,
            min_working_hours_overlap_minutes=120,
        ),
    )


class _Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        # Organisations are drawn apart, so that every other draw (and therefore every cohort
        # generated before organisations existed) stays as it was for a given seed.
        self.organisation_random = random.Random(f"{seed}/organisations")
        self.site_weights = [site[2] for site in SITES]
        self.departments = [
            (unit, department)
            for unit, departments in BUSINESS_UNITS.items()
            for department in departments
        ]

    def site(self) -> tuple[str, str, list[str]]:
        name, zone, _, always, optional = self.random.choices(SITES, self.site_weights)[0]
        spoken = list(always)
        spoken += [code for code, odds in optional if self.random.random() < odds]
        return name, zone, spoken

    def identity(self, prefix: str, number: int) -> tuple[str, str, str, Gender]:
        first = self.random.choice(FIRST_NAMES)
        last = self.random.choice(LAST_NAMES)
        gender = Gender.FEMALE if first in FEMALE_NAMES else Gender.MALE
        email_local = f"{first}.{last}.{number}".lower().replace(" ", "-")
        email = (
            email_local.replace("é", "e").replace("è", "e").replace("ï", "i").replace("ç", "c")
            + "@groupe.example"
        )
        return f"{prefix}{number:06d}", f"{first} {last}", email, gender

    def availability(self) -> list[WeeklySlot]:
        picks = self.random.sample(AVAILABILITY_MENU, self.random.randint(2, 4))
        return [WeeklySlot(weekday=day, start=start, end=end) for day, start, end in picks]

    def working_hours(self) -> WorkingHours:
        start = self.random.choice((time(8, 30), time(9), time(9, 30)))
        return WorkingHours(start=start, end=time(start.hour + 9, start.minute))

    def organisation(self, partner_share: float) -> str | None:
        """A partner company for ``partner_share`` of people; None is the group itself."""
        if self.organisation_random.random() >= partner_share:
            return None
        return self.organisation_random.choice(PARTNER_ORGANISATIONS)

    def interests(self) -> list[str]:
        return self.random.sample(INTERESTS, self.random.randint(1, 5))

    def needs(self) -> list[LearningNeed]:
        topics = [topic for topic, odds in NEED_TOPICS if self.random.random() < odds * 0.6]
        if not topics:
            topics = [self.random.choice(NEED_TOPICS)[0]]
        topics = topics[:4]
        return [
            LearningNeed(topic=topic, priority=self.random.choice((2, 3, 4, 4, 5, 5)))
            for topic in topics
        ]

    def skills(self) -> list[Skill]:
        count = self.random.randint(2, 6)
        topics = self.random.sample([topic for topic, _ in NEED_TOPICS], count)
        return [
            Skill(topic=topic, level=self.random.choice((2, 3, 3, 4, 4, 5))) for topic in topics
        ]


def generate_cohort(
    *, mentees: int, mentors: int, seed: int = 2027, rules: ProgrammeRules | None = None
) -> GeneratedCohort:
    """A cohort of ``mentees`` managers and ``mentors`` young employees, reproducible by seed."""
    generator = _Generator(seed)
    chosen_rules = rules or benchmark_rules()
    year = chosen_rules.starts_on.year
    participants: list[ParticipantProfile] = []
    mentee_units: dict[str, list[tuple[str, str]]] = {}
    for number in range(mentees):
        person_id, name, email, gender = generator.identity("M", number)
        unit, department = generator.random.choice(generator.departments)
        same_unit = mentee_units.setdefault(unit, [])
        if number == 0:
            manager = None
        elif same_unit:
            manager = generator.random.choice(same_unit[: max(1, len(same_unit) // 4 + 1)])[0]
        else:
            manager = "M000000"
        same_unit.append((person_id, department))
        site, zone, languages = generator.site()
        participants.append(
            ParticipantProfile(
                participant_id=person_id,
                role=ParticipantRole.MENTEE,
                full_name=name,
                email=email,
                preferred_language=Language.FR if "fr" in languages else Language.EN,
                birth_year=year - generator.random.randint(45, 62),
                department=department,
                business_unit=unit,
                job_grade=generator.random.randint(12, 18),
                manager_id=manager,
                site=site,
                time_zone=zone,
                languages=languages,
                learning_needs=generator.needs(),
                availability=generator.availability(),
                working_hours=generator.working_hours(),
                interests=generator.interests(),
                gender=gender,
            )
        )
    reporting_lines: list[ReportingLine] = []
    team_leads = max(1, mentors // 8)
    leads: list[tuple[str, str, str]] = []
    for number in range(team_leads):
        unit, department = generator.random.choice(generator.departments)
        candidates = mentee_units.get(unit, [])
        boss = generator.random.choice(candidates)[0] if candidates else None
        lead_id = f"T{number:06d}"
        leads.append((lead_id, unit, department))
        if boss is not None:
            reporting_lines.append(ReportingLine(employee_id=lead_id, manager_id=boss))
    for number in range(mentors):
        person_id, name, email, gender = generator.identity("Y", number)
        lead_id, unit, department = generator.random.choice(leads)
        site, zone, languages = generator.site()
        if "en" not in languages and generator.random.random() < 0.5:
            languages.append("en")
        capacity_draw = generator.random.random()
        organisation = generator.organisation(PARTNER_SHARE)
        participants.append(
            ParticipantProfile(
                participant_id=person_id,
                role=ParticipantRole.MENTOR,
                full_name=name,
                email=email,
                preferred_language=Language.FR if "fr" in languages else Language.EN,
                birth_year=year - generator.random.randint(23, 32),
                department=department,
                business_unit=unit,
                organisation=organisation,
                job_grade=generator.random.randint(3, 8),
                manager_id=lead_id,
                site=site,
                time_zone=zone,
                languages=languages,
                skills=generator.skills(),
                availability=generator.availability(),
                working_hours=generator.working_hours(),
                interests=generator.interests(),
                mentor_training_completed=generator.random.random() < 0.85,
                gender=gender,
                capacity=2 if capacity_draw < 0.15 else (3 if capacity_draw < 0.2 else None),
            )
        )
    return GeneratedCohort(
        rules=chosen_rules, participants=participants, reporting_lines=reporting_lines
    )
