"""Small hand-made cohorts for the pairing engine's tests."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from binome_shared.contracts.participants import (
    LearningNeed,
    ParticipantProfile,
    ParticipantRole,
    Skill,
    Weekday,
    WeeklySlot,
    WorkingHours,
)
from binome_shared.contracts.programme import CriteriaWeights, HardConstraints, ProgrammeRules

START = date(2027, 1, 11)
NO_CONSTRAINTS = HardConstraints(
    mentor_younger=None,
    not_in_management_chain=False,
    shared_language=False,
    never_repeat_pairs=False,
)


def rules(
    *, weights: CriteriaWeights | None = None, capacity: int = 1, **constraints: Any
) -> ProgrammeRules:
    """Rules with every hard constraint off except those given."""
    return ProgrammeRules(
        starts_on=START,
        mentor_capacity=capacity,
        constraints=NO_CONSTRAINTS.model_copy(update=constraints),
        weights=weights or CriteriaWeights(),
    )


def _profile(
    role: ParticipantRole, person_id: str, overrides: dict[str, Any]
) -> ParticipantProfile:
    fields: dict[str, Any] = {
        "participant_id": person_id,
        "role": role,
        "full_name": f"Person {person_id}",
        "email": f"{person_id.lower()}@example.com",
        "birth_year": 1998 if role is ParticipantRole.MENTOR else 1970,
        "department": "Dept " + person_id,
        "business_unit": "Unit " + person_id,
        "job_grade": 5 if role is ParticipantRole.MENTOR else 15,
        "site": "Paris La Défense",
        "languages": ["fr"],
        "mentor_training_completed": True,
    }
    fields.update(overrides)
    return ParticipantProfile.model_validate(fields)


def mentor(person_id: str, **overrides: Any) -> ParticipantProfile:
    """A young, trained, French-speaking mentor in Paris, unless overridden."""
    return _profile(ParticipantRole.MENTOR, person_id, overrides)


def mentee(person_id: str, **overrides: Any) -> ParticipantProfile:
    """A senior French-speaking mentee in Paris, unless overridden."""
    return _profile(ParticipantRole.MENTEE, person_id, overrides)


def skill(topic: str, level: int) -> Skill:
    return Skill(topic=topic, level=level)


def need(topic: str, priority: int) -> LearningNeed:
    return LearningNeed(topic=topic, priority=priority)


def slot(day: Weekday, start: str, end: str) -> WeeklySlot:
    return WeeklySlot(weekday=day, start=time.fromisoformat(start), end=time.fromisoformat(end))


def hours(start: str, end: str) -> WorkingHours:
    return WorkingHours(start=time.fromisoformat(start), end=time.fromisoformat(end))


def naive_above(boss: str, person: str, managers: dict[str, str]) -> bool:
    """Whether following ``person``'s managers reaches ``boss``, walked one by one (a loop
    ends the walk): the plain reading of the chain rule, to check the engine against."""
    seen = {person}
    current = managers.get(person)
    while current is not None and current not in seen:
        if current == boss:
            return True
        seen.add(current)
        current = managers.get(current)
    return False
