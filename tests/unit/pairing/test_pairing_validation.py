"""Invalid records are reported per record and field, in French and English."""

from __future__ import annotations

from typing import Any

import pytest

from binome_pairing.domain import Severity, parse_participants, solve, validate_cohort
from binome_pairing.domain.results import RecordProblem, errors_of
from tests.unit.pairing.pairing_builders import mentee, mentor, rules

pytestmark = pytest.mark.unit


def raw_mentor(person_id: str, **fields: Any) -> dict[str, Any]:
    return mentor(person_id).model_dump(mode="json") | fields


def test_capacity_zero_is_refused_with_the_record_and_field() -> None:
    records = [raw_mentor("Y1"), raw_mentor("E1234", capacity=0)]

    profiles, problems = parse_participants(records)

    assert [index for index, _ in profiles] == [0]
    (problem,) = problems
    assert problem.describe("en") == (
        'participants[1] (id "E1234").capacity: Input should be greater than or equal to 1'
    )
    assert problem.describe("fr") == (
        'participants[1] (id "E1234").capacity: doit être supérieur ou égal à 1'
    )


def test_nested_fields_and_unknown_fields_are_located() -> None:
    records = [
        raw_mentor("Y1", skills=[{"topic": "data", "level": 9}]),
        raw_mentor("Y2", shoe_size=44),
        raw_mentor("Y3", time_zone="Mars/Olympus"),
    ]

    _, problems = parse_participants(records)

    assert [(p.location, p.code) for p in problems] == [
        ('participants[0] (id "Y1").skills[0].level', "less_than_equal"),
        ('participants[1] (id "Y2").shoe_size', "extra_forbidden"),
        ('participants[2] (id "Y3").time_zone', "value_error"),
    ]
    assert "Mars/Olympus" in problems[2].message.en


def test_duplicate_ids_are_errors_and_the_rest_is_still_solved() -> None:
    people = [mentee("E"), mentor("Y"), mentor("Y", site="Lyon")]

    validation = validate_cohort(rules=rules(), participants=people)
    result = solve(rules=rules(), participants=people)

    assert [p.participant_id for p in validation.accepted] == ["E", "Y"]
    (duplicate,) = validation.errors
    assert duplicate.location == 'participants[2] (id "Y").participant_id'
    assert duplicate.severity is Severity.ERROR
    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [("Y", "E")]
    assert result.stats.rejected_records == 1


def test_a_reporting_loop_is_one_warning_naming_its_members() -> None:
    people = [mentee("E", manager_id="Y"), mentor("Y", manager_id="E")]

    validation = validate_cohort(rules=rules(), participants=people)

    (loop,) = [p for p in validation.problems if p.code == "reporting_loop"]
    assert loop.location == 'participants[0] (id "E").manager_id'
    assert loop.severity is Severity.WARNING
    assert "E → Y → E" in loop.message.en
    assert "E → Y → E" in loop.message.fr


def test_errors_of_keeps_the_problems_that_leave_a_record_out() -> None:
    def problem(code: str, severity: Severity) -> RecordProblem:
        return RecordProblem.of(
            collection="participants", code=code, fr=code, en=code, severity=severity
        )

    problems = [
        problem("duplicate_id", Severity.ERROR),
        problem("reporting_loop", Severity.WARNING),
        problem("greater_than_equal", Severity.ERROR),
    ]

    assert [item.code for item in errors_of(problems)] == ["duplicate_id", "greater_than_equal"]
    assert errors_of(item for item in problems if item.severity is Severity.WARNING) == []
