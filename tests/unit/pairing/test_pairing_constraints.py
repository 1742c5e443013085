"""Each hard constraint: the engine never forms a pair that breaks it, and says why."""

from __future__ import annotations

from typing import Any

import pytest

from binome_pairing.domain import UnmatchedReason, solve
from binome_shared.contracts.participants import Gender, ReportingLine
from binome_shared.contracts.programme import AgeBands, HardConstraint, MinimumAgeGap
from tests.unit.pairing.pairing_builders import hours, mentee, mentor, need, rules, skill

pytestmark = pytest.mark.unit

# (constraint, rules switch, mentee fields, fields of a mentor that breaks it)
CASES: list[tuple[HardConstraint, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        HardConstraint.MENTOR_YOUNGER,
        {"mentor_younger": MinimumAgeGap(years=10)},
        {"birth_year": 1975},
        {"birth_year": 1980},
    ),
    (
        HardConstraint.MENTOR_YOUNGER,
        {
            "mentor_younger": AgeBands(
                mentor_min_age=25, mentor_max_age=35, mentee_min_age=50, mentee_max_age=None
            )
        },
        {"birth_year": 1970},
        {"birth_year": 2005},
    ),
    (
        HardConstraint.DIFFERENT_DEPARTMENT,
        {"different_department": True},
        {"department": "Marketing"},
        {"department": "Marketing"},
    ),
    (
        HardConstraint.DIFFERENT_BUSINESS_UNIT,
        {"different_business_unit": True},
        {"business_unit": "Retail"},
        {"business_unit": "Retail"},
    ),
    (
        HardConstraint.DIFFERENT_ORGANISATION,
        {"different_organisation": True},
        {"organisation": "Nova Numérique"},
        {"organisation": "Nova Numérique"},
    ),
    (
        # No organisation on either side: both are the programme's own people.
        HardConstraint.DIFFERENT_ORGANISATION,
        {"different_organisation": True},
        {},
        {},
    ),
    (
        HardConstraint.SHARED_LANGUAGE,
        {"shared_language": True},
        {"languages": ["de", "en"]},
        {"languages": ["fr", "es"]},
    ),
    (
        HardConstraint.MENTOR_TRAINED,
        {"mentor_trained": True},
        {},
        {"mentor_training_completed": False},
    ),
    (
        HardConstraint.SAME_GENDER,
        {"same_gender": True},
        {"gender": Gender.FEMALE},
        {"gender": Gender.MALE},
    ),
    (
        HardConstraint.WORKING_HOURS_OVERLAP,
        {"min_working_hours_overlap_minutes": 120},
        {"time_zone": "Europe/Paris", "working_hours": hours("09:00", "18:00")},
        # 09:00-18:00 in Los Angeles is 18:00-03:00 in Paris in January: no hour in common.
        {"time_zone": "America/Los_Angeles", "working_hours": hours("09:00", "18:00")},
    ),
    (
        HardConstraint.NOT_IN_MANAGEMENT_CHAIN,
        {"not_in_management_chain": True},
        {},
        {"manager_id": "E"},
    ),
]


GOOD_MENTOR: dict[HardConstraint, dict[str, Any]] = {
    HardConstraint.SHARED_LANGUAGE: {"languages": ["de"]},
    HardConstraint.SAME_GENDER: {"gender": Gender.FEMALE},
    HardConstraint.DIFFERENT_ORGANISATION: {"organisation": "Atelier Lumen"},
}
GOOD_MENTOR = {constraint: GOOD_MENTOR.get(constraint, {}) for constraint, *_ in CASES}


@pytest.mark.parametrize(("constraint", "switch", "mentee_fields", "breaking"), CASES)
def test_pair_breaking_a_constraint_is_never_formed(
    constraint: HardConstraint,
    switch: dict[str, Any],
    mentee_fields: dict[str, Any],
    breaking: dict[str, Any],
) -> None:
    # The breaking mentor is the better pair on soft criteria (same site, more skills).
    people = [
        mentee("E", learning_needs=[need("linkedin", 5)], **mentee_fields),
        mentor("BAD", skills=[skill("linkedin", 5)], **breaking),
        mentor("GOOD", site="Lyon", birth_year=2000, **GOOD_MENTOR[constraint]),
    ]
    result = solve(rules=rules(**switch), participants=people)

    assert [(pair.mentor_id, pair.mentee_id) for pair in result.pairs] == [("GOOD", "E")]
    assert constraint in result.pairs[0].constraints_checked


@pytest.mark.parametrize(("constraint", "switch", "mentee_fields", "breaking"), CASES)
def test_only_a_breaking_mentor_leaves_the_mentee_unmatched_with_the_reason(
    constraint: HardConstraint,
    switch: dict[str, Any],
    mentee_fields: dict[str, Any],
    breaking: dict[str, Any],
) -> None:
    people = [mentee("E", **mentee_fields), mentor("BAD", **breaking)]
    result = solve(rules=rules(**switch), participants=people)

    assert result.pairs == []
    unmatched = {item.participant_id: item for item in result.unmatched}
    assert unmatched["E"].reason_code is UnmatchedReason.NO_FEASIBLE_MENTOR
    assert unmatched["E"].eliminated_by == {constraint: 1}
    assert unmatched["E"].eliminated_everyone == [constraint]
    assert unmatched["BAD"].reason_code is UnmatchedReason.NO_FEASIBLE_MENTEE


def test_management_chain_is_followed_through_people_outside_the_programme() -> None:
    # Y reports to a team lead T who reports to the mentee E: E is in Y's chain.
    people = [mentee("E"), mentor("Y", manager_id="T")]
    lines = [ReportingLine(employee_id="T", manager_id="E")]

    blocked = solve(
        rules=rules(not_in_management_chain=True), participants=people, reporting_lines=lines
    )
    allowed = solve(rules=rules(not_in_management_chain=True), participants=people)

    assert blocked.pairs == []
    assert blocked.unmatched[0].eliminated_by == {HardConstraint.NOT_IN_MANAGEMENT_CHAIN: 1}
    assert [pair.mentor_id for pair in allowed.pairs] == ["Y"]


def test_the_mentee_being_the_mentors_manager_chain_is_refused_in_the_other_direction() -> None:
    # The mentor manages (through one level) the mentee: also refused.
    people = [mentee("E", manager_id="Y"), mentor("Y")]

    result = solve(rules=rules(not_in_management_chain=True), participants=people)

    assert result.pairs == []


def test_previous_and_rejected_pairs_are_never_formed_again() -> None:
    people = [mentee("E"), mentor("Y")]

    result = solve(rules=rules(), participants=people, forbidden_pairs={("Y", "E")})

    assert result.pairs == []
    assert result.unmatched[0].eliminated_by == {HardConstraint.NOT_EXCLUDED_PAIR: 1}


def test_capacity_limits_mentees_per_mentor_and_the_reason_says_capacity() -> None:
    people = [mentee("E1"), mentee("E2"), mentee("E3"), mentor("Y", capacity=2)]

    result = solve(rules=rules(), participants=people)

    assert len(result.pairs) == 2
    assert {pair.mentor_id for pair in result.pairs} == {"Y"}
    (unmatched,) = result.unmatched
    assert unmatched.reason_code is UnmatchedReason.MENTORS_NEEDED_ELSEWHERE
    assert unmatched.feasible_candidates == 1
    assert "capacité" in unmatched.reason.fr
    assert "capacity" in unmatched.reason.en


def test_unknown_gender_cannot_be_paired_in_a_single_gender_programme() -> None:
    people = [mentee("E"), mentor("Y", gender=Gender.FEMALE)]

    result = solve(rules=rules(same_gender=True), participants=people)

    assert result.pairs == []
    missing = [problem for problem in result.problems if problem.code == "gender_missing"]
    assert [problem.location for problem in missing] == ['participants[0] (id "E").gender']


def test_reason_names_every_blocking_rule_in_both_languages() -> None:
    people = [
        mentee("E", languages=["de"], birth_year=1990),
        mentor("Y1", languages=["fr"], mentor_training_completed=False, birth_year=1995),
        mentor("Y2", languages=["de"], birth_year=1985),
    ]
    result = solve(
        rules=rules(
            shared_language=True, mentor_trained=True, mentor_younger=MinimumAgeGap(years=3)
        ),
        participants=people,
    )

    reasons = {item.participant_id: item for item in result.unmatched}
    assert reasons["E"].eliminated_by == {
        HardConstraint.SHARED_LANGUAGE: 1,
        HardConstraint.MENTOR_TRAINED: 1,
        HardConstraint.MENTOR_YOUNGER: 1,
    }
    assert reasons["E"].eliminated_everyone == []
    assert "parle allemand" in reasons["E"].reason.fr
    assert "speaks German" in reasons["E"].reason.en
    assert "at least 3 year(s) younger" in reasons["E"].reason.en


def test_a_surplus_mentor_is_reported_as_not_needed() -> None:
    people = [
        mentee("E", learning_needs=[need("data", 5)]),
        mentor("BEST", skills=[skill("data", 5)]),
        mentor("SPARE", skills=[skill("data", 1)]),
    ]

    result = solve(rules=rules(), participants=people)

    assert [pair.mentor_id for pair in result.pairs] == ["BEST"]
    (spare,) = result.unmatched
    assert (spare.participant_id, spare.reason_code) == ("SPARE", UnmatchedReason.NOT_NEEDED)
    assert spare.feasible_candidates == 1


def test_places_taken_by_kept_pairs_count_as_capacity_not_infeasibility() -> None:
    people = [mentee("KEPT"), mentee("E"), mentor("Y")]

    result = solve(rules=rules(), participants=people, locked_pairs=[("Y", "KEPT")])

    (alone,) = result.unmatched
    assert alone.participant_id == "E"
    assert alone.reason_code is UnmatchedReason.MENTORS_NEEDED_ELSEWHERE
    assert alone.eliminated_by == {}
