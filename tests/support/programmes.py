"""HR commands for tests: programmes, participants and rounds, as an HR platform sends them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import DefineProgramme, ProgrammeContact
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.session_plan import SessionPlan, default_planned_sessions

HR_SOURCE = "/hr/test-platform"
TENANT = "groupe-exemple"
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def programme_definition(
    rules: ProgrammeRules, *, name: str = "Mentorat inversé 2027"
) -> DefineProgramme:
    starts: date = rules.starts_on
    return DefineProgramme(
        name=name,
        organisation_name="Groupe Exemple",
        rules=rules,
        session_plan=SessionPlan(
            sessions=default_planned_sessions(),
            cadence_weeks=3,
            session_duration_minutes=60,
            stall_after_weeks=6,
            starts_on=starts,
            ends_on=starts + timedelta(weeks=26),
            time_zone="Europe/Paris",
        ),
        contact=ProgrammeContact(name="Claire Dubois", email="claire.dubois@example.com"),
    )


def hr_command(data: Message, *, programme_id: str, time: datetime = NOW) -> Envelope[Any]:
    return Envelope.new(
        data, source=HR_SOURCE, time=time, tenant_id=TENANT, programme_id=programme_id
    )
