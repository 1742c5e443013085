"""One tenant's programme for life-cycle tests: its people, rules, session plan and texts.

Two tenants built here may share the programme id and the participant ids (ids are namespaced
by tenant), while everything a person reads differs: each tenant's people, HR contact,
programme and free text carry a surname of the tenant's own (its ``marker``), so that any
e-mail, row or event naming the other tenant's people is found by a plain substring search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from binome_devstack.cohort_generator import benchmark_rules, generate_cohort
from binome_shared.contracts.hr_commands import DefineProgramme, ProgrammeContact
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import ApprovalMode, ProgrammeRules
from binome_shared.contracts.session_plan import PlannedSession, SessionPlan
from binome_shared.contracts.values import Language, LocalisedText

STARTS_ON = date(2028, 3, 6)
"""A Monday after the machine's real time: a simulated clock only moves forward."""
START = datetime(2028, 3, 6, 8, 0, tzinfo=UTC)


def mentor_id(number: int) -> str:
    return f"Y{number}"


def mentee_id(number: int) -> str:
    return f"M{number}"


@dataclass(frozen=True, kw_only=True)
class TenantCast:
    """Everything one tenant sends that differs from another tenant's."""

    tenant_id: str
    marker: str
    """A surname no other tenant uses: in every name and free text of this tenant."""
    domain: str
    """Every e-mail address of this tenant ends with ``@<domain>``."""
    language: Language
    pairs: int
    approval: ApprovalMode
    session_keys: tuple[str, ...]
    session_minutes: int
    reminder_hours: int
    seed: int = 3
    """Of the generated cohort: with seed 3, 2, 5 and 6 pairs' worth of people all pair up
    under the benchmark rules (the offline solver says so)."""

    # --- people -------------------------------------------------------------------------

    def name_of(self, participant_id: str) -> str:
        first = {"Y": "Yanis", "M": "Martine"}[participant_id[0]]
        return f"{first} {self.marker}-{participant_id}"

    def email_of(self, participant_id: str) -> str:
        return f"{participant_id.lower()}.{self.marker.lower()}@{self.domain}"

    @property
    def hr_name(self) -> str:
        return f"Hélène {self.marker}-RH"

    @property
    def hr_email(self) -> str:
        return f"rh.{self.marker.lower()}@{self.domain}"

    @property
    def participant_ids(self) -> list[str]:
        numbers = range(1, self.pairs + 1)
        return [mentor_id(n) for n in numbers] + [mentee_id(n) for n in numbers]

    @property
    def addresses(self) -> dict[str, str]:
        """Every address this tenant's e-mails may go to, by participant id (and ``hr``)."""
        return {**{p: self.email_of(p) for p in self.participant_ids}, "hr": self.hr_email}

    def rules(self) -> ProgrammeRules:
        return benchmark_rules().model_copy(
            update={"starts_on": STARTS_ON, "approval_mode": self.approval}
        )

    def profiles(self) -> list[ParticipantProfile]:
        """A generated cohort that pairs up, renamed: ids ``Y<n>``/``M<n>``, this tenant's
        names, addresses and language; no manager links (nobody outside the cast)."""
        cohort = generate_cohort(
            mentees=self.pairs, mentors=self.pairs, seed=self.seed, rules=self.rules()
        )
        counters = {ParticipantRole.MENTOR: 0, ParticipantRole.MENTEE: 0}
        profiles = []
        for profile in cohort.participants:
            counters[profile.role] += 1
            number = counters[profile.role]
            ident = (mentor_id if profile.role is ParticipantRole.MENTOR else mentee_id)(number)
            profiles.append(
                profile.model_copy(
                    update={
                        "participant_id": ident,
                        "full_name": self.name_of(ident),
                        "email": self.email_of(ident),
                        "preferred_language": self.language,
                        "manager_id": None,
                        "mentor_training_completed": True,
                    }
                )
            )
        return profiles

    # --- programme ------------------------------------------------------------------------

    def plan(self) -> SessionPlan:
        return SessionPlan(
            sessions=tuple(
                PlannedSession(
                    key=key,
                    title=LocalisedText(
                        fr=f"Thème {self.marker} {number}", en=f"{self.marker} theme {number}"
                    ),
                    description=LocalisedText(
                        fr=f"Séance {number} du déroulé {self.marker}.",
                        en=f"Session {number} of the {self.marker} plan.",
                    ),
                    skippable=False,
                )
                for number, key in enumerate(self.session_keys, start=1)
            ),
            cadence_weeks=1,
            session_duration_minutes=self.session_minutes,
            stall_after_weeks=6,
            starts_on=STARTS_ON,
            ends_on=STARTS_ON + timedelta(weeks=26),
            time_zone="Europe/Paris",
        )

    def definition(self, *, name: str | None = None) -> DefineProgramme:
        return DefineProgramme(
            name=name or f"Mentorat inversé {self.marker}",
            organisation_name=f"Groupe {self.marker}",
            language=self.language,
            rules=self.rules(),
            session_plan=self.plan(),
            contact=ProgrammeContact(
                name=self.hr_name, email=self.hr_email, language=self.language
            ),
            reminder_hours_before=self.reminder_hours,
        )

    # --- free text (ASCII, so that it is found in JSON bytes however they escape) ----------

    def objective_title(self, mentee: str) -> str:
        return f"Objectif {self.marker} de {mentee}: publier un billet par mois"

    def comment(self, participant_id: str, session: int) -> str:
        return f"Remarque {self.marker} de {participant_id}, seance {session}: tres concret"


TENANT_A = TenantCast(
    tenant_id="tenant-aubepine",
    marker="Aubepinel",
    domain="aubepine.example",
    language=Language.FR,
    pairs=6,
    approval=ApprovalMode.AUTOMATIC,
    session_keys=("a-lancement", "a-bilan"),
    session_minutes=60,
    reminder_hours=24,
)
TENANT_B = TenantCast(
    tenant_id="tenant-bruyere",
    marker="Bruyerak",
    domain="bruyere.example",
    language=Language.EN,
    pairs=5,
    approval=ApprovalMode.HR_APPROVES,
    session_keys=("b-kickoff", "b-practice", "b-review"),
    session_minutes=90,
    reminder_hours=48,
)
