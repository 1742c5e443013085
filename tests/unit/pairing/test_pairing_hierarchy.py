"""Management chains are followed to their end, loops are reported once, at any depth."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binome_pairing.domain import Severity, solve, validate_cohort
from binome_pairing.domain.hierarchy import chain_pair_keys, reporting_loops
from binome_shared.contracts.participants import ReportingLine
from tests.unit.pairing.pairing_builders import mentee, mentor, naive_above, rules

pytestmark = pytest.mark.unit


@st.composite
def reporting_links(draw: st.DrawFn) -> tuple[dict[str, str], list[str], list[str]]:
    """Any functional graph over up to 40 people (trees, chains, loops), and who enrols."""
    size = draw(st.integers(1, 40))
    people = [f"P{index}" for index in range(size)]
    managers: dict[str, str] = {}
    for person in people:
        boss = draw(st.one_of(st.none(), st.sampled_from(people)))
        if boss is not None and boss != person:
            managers[person] = boss
    roles = draw(st.lists(st.sampled_from("emx"), min_size=size, max_size=size))
    mentees = [person for person, role in zip(people, roles, strict=True) if role == "e"]
    mentors = [person for person, role in zip(people, roles, strict=True) if role == "m"]
    return managers, mentees, mentors


@settings(max_examples=300, deadline=None)
@given(links=reporting_links())
def test_chain_pairs_are_exactly_those_a_naive_walk_finds(
    links: tuple[dict[str, str], list[str], list[str]],
) -> None:
    managers, mentees, mentors = links

    keys = chain_pair_keys(managers=managers, mentee_ids=mentees, mentor_ids=mentors)

    expected = {
        row * len(mentors) + column
        for row, e in enumerate(mentees)
        for column, m in enumerate(mentors)
        if naive_above(e, m, managers) or naive_above(m, e, managers)
    }
    assert keys.tolist() == sorted(expected)


@settings(max_examples=300, deadline=None)
@given(links=reporting_links())
def test_loops_are_found_once_each_in_chain_order(
    links: tuple[dict[str, str], list[str], list[str]],
) -> None:
    managers, _, _ = links

    loops = reporting_loops(managers)

    # A loop member is reached again from its own manager.
    in_a_loop = {person for person in managers if naive_above(person, managers[person], managers)}
    assert sorted(member for loop in loops for member in loop) == sorted(in_a_loop)
    for loop in loops:
        for position, member in enumerate(loop):
            assert managers[member] == loop[(position + 1) % len(loop)]


def test_a_mentee_ten_thousand_levels_above_a_mentor_is_never_paired_with_them() -> None:
    # Team leads T1…T10000 between them: far past any recursion or depth limit.
    lines = [
        ReportingLine(employee_id=f"T{level}", manager_id=f"T{level + 1}")
        for level in range(1, 10_000)
    ]
    lines.append(ReportingLine(employee_id="T10000", manager_id="BOSS"))
    people = [
        mentee("BOSS"),
        mentor("Y", manager_id="T1"),
        mentee("E"),
        mentor("Z"),
    ]

    result = solve(
        rules=rules(not_in_management_chain=True), participants=people, reporting_lines=lines
    )

    pairs = {(pair.mentor_id, pair.mentee_id) for pair in result.pairs}
    assert ("Y", "BOSS") not in pairs
    assert pairs == {("Y", "E"), ("Z", "BOSS")}


def test_a_long_reporting_loop_is_one_warning_naming_its_people_and_breaks_no_rule() -> None:
    # E → T1 → … → T200 → Y → E: each is above the other, whatever the length.
    lines = [
        ReportingLine(employee_id=f"T{level}", manager_id=f"T{level + 1}")
        for level in range(1, 200)
    ]
    lines.append(ReportingLine(employee_id="T200", manager_id="Y"))
    people = [mentee("E", manager_id="T1"), mentor("Y", manager_id="E"), mentor("Z")]

    validation = validate_cohort(rules=rules(), participants=people, reporting_lines=lines)
    result = solve(
        rules=rules(not_in_management_chain=True), participants=people, reporting_lines=lines
    )

    (loop,) = [problem for problem in validation.problems if problem.code == "reporting_loop"]
    assert loop.severity is Severity.WARNING
    assert loop.location == 'participants[0] (id "E").manager_id'
    assert "reporting loop of 202 people: E → T1 → T2" in loop.message.en
    assert "(+190)" in loop.message.en
    assert [(pair.mentor_id, pair.mentee_id) for pair in result.pairs] == [("Z", "E")]
    assert [problem.code for problem in result.problems].count("reporting_loop") == 1


def test_a_loop_of_people_outside_the_programme_is_reported_on_its_reporting_line() -> None:
    lines = [
        ReportingLine(employee_id="T1", manager_id="T2"),
        ReportingLine(employee_id="T2", manager_id="T1"),
    ]

    validation = validate_cohort(
        rules=rules(), participants=[mentee("E", manager_id="T1")], reporting_lines=lines
    )

    (loop,) = [problem for problem in validation.problems if problem.code == "reporting_loop"]
    assert loop.location == 'reporting_lines[0] (id "T1").manager_id'
    assert "T1 → T2 → T1" in loop.message.fr
