"""Re-pairing with minimal disruption: kept pairs stay, only the affected are re-solved."""

from __future__ import annotations

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.domain import excluded_pairs, preview, solve
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import HardConstraint, ProgrammeRules
from tests.unit.pairing.pairing_builders import START, mentee, mentor, need, rules, skill

pytestmark = pytest.mark.unit


def test_kept_pairs_stay_and_use_their_mentors_places() -> None:
    # Alone, E2 would take Y1 (better skills); Y1's only place is kept for E1.
    people = [
        mentee("E1", learning_needs=[need("data", 1)]),
        mentee("E2", learning_needs=[need("data", 5)]),
        mentor("Y1", skills=[skill("data", 5)]),
        mentor("Y2", skills=[skill("data", 2)]),
    ]

    result = solve(rules=rules(), participants=people, locked_pairs=[("Y1", "E1")])

    assert [(p.mentor_id, p.mentee_id, p.locked) for p in result.pairs] == [
        ("Y1", "E1", True),
        ("Y2", "E2", False),
    ]
    assert result.stats.kept_pairs == 1
    assert result.stats.new_pairs == 1


def test_a_withdrawal_re_pairs_only_the_partner_left_alone() -> None:
    cohort = generate_cohort(mentees=40, mentors=44, seed=3)
    first = solve(
        rules=cohort.rules, participants=cohort.participants, reporting_lines=cohort.reporting_lines
    )
    withdrawn = first.pairs[0].mentor_id
    alone = sorted(p.mentee_id for p in first.pairs if p.mentor_id == withdrawn)
    kept = [(p.mentor_id, p.mentee_id) for p in first.pairs if p.mentor_id != withdrawn]
    remaining = [p for p in cohort.participants if p.participant_id != withdrawn]

    second = solve(
        rules=cohort.rules,
        participants=remaining,
        reporting_lines=cohort.reporting_lines,
        locked_pairs=kept,
        forbidden_pairs=excluded_pairs(
            rules=cohort.rules, previous_pairs=[(withdrawn, mentee_id) for mentee_id in alone]
        ),
    )

    second_pairs = {(p.mentor_id, p.mentee_id) for p in second.pairs}
    assert set(kept) <= second_pairs
    new = [p for p in second.pairs if not p.locked]
    assert {p.mentee_id for p in new} <= set(alone)
    assert len(new) + len(kept) == len(first.pairs)  # enough free mentors: all re-paired
    assert all(p.mentor_id != withdrawn for p in second.pairs)


def test_a_rejected_pair_is_never_proposed_again_even_when_repeats_are_allowed() -> None:
    allowing = ProgrammeRules(starts_on=START).model_copy(
        update={"constraints": rules().constraints.model_copy(update={"never_repeat_pairs": False})}
    )

    forbidden = excluded_pairs(
        rules=allowing, previous_pairs=[("Y1", "E1")], rejected_pairs=[("Y2", "E1")]
    )

    assert forbidden == {("Y2", "E1")}
    assert excluded_pairs(rules=ProgrammeRules(starts_on=START), previous_pairs=[("Y1", "E1")]) == {
        ("Y1", "E1")
    }


def test_kept_pair_that_now_breaks_a_rule_is_kept_and_flagged() -> None:
    people = [mentee("E", department="Data"), mentor("Y", department="Data")]

    result = solve(
        rules=rules(different_department=True), participants=people, locked_pairs=[("Y", "E")]
    )

    (pair,) = result.pairs
    assert pair.locked
    assert pair.constraints_violated == [HardConstraint.DIFFERENT_DEPARTMENT]
    assert "Règles qui ne tiennent plus" in pair.explanation.fr


def test_kept_pairs_that_cannot_hold_are_reported() -> None:
    people = [mentee("E1"), mentee("E2"), mentor("Y")]

    result = solve(
        rules=rules(),
        participants=people,
        locked_pairs=[("Y", "E1"), ("Y", "E2"), ("NOBODY", "E2")],
    )

    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [("Y", "E1")]
    assert [(p.location, p.code) for p in result.problems if p.collection == "locked_pairs"] == [
        ('locked_pairs[1] (id "E2")', "mentor_over_capacity"),
        ('locked_pairs[2] (id "E2")', "unknown_participant"),
    ]


def test_preview_is_the_same_pure_call() -> None:
    cohort = generate_cohort(mentees=20, mentors=22, seed=9)

    previewed = preview(
        rules=cohort.rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
    )
    solved = solve(
        rules=cohort.rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
    )

    assert previewed == solved
    assert sum(p.role is ParticipantRole.MENTEE for p in cohort.participants) == 20
