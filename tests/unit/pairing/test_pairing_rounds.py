"""A round as a job for the worker: stored text in, the engine's answer out, pairs kept from
earlier rounds not sent back."""

from __future__ import annotations

import pickle

import pytest

from binome_pairing.domain import solve
from binome_pairing.rounds import PairMember, RoundProblem, solve_round
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill

pytestmark = pytest.mark.unit

PEOPLE = [
    mentee("E1", learning_needs=[need("data", 1)]),
    mentee("E2", learning_needs=[need("data", 5)]),
    mentor("Y1", skills=[skill("data", 5)]),
    mentor("Y2", skills=[skill("data", 2)]),
]


def problem(locked: list[tuple[str, str]]) -> RoundProblem:
    return RoundProblem(
        rules=rules(),
        profiles_json=[person.model_dump_json() for person in PEOPLE],
        reporting_lines=[],
        locked_pairs=locked,
        forbidden_pairs=set(),
    )


def test_a_round_from_stored_profiles_is_the_engines_round() -> None:
    solved = solve_round(problem([]))

    engine = solve(rules=rules(), participants=PEOPLE)
    assert solved.new_pairs(0, 10) == engine.pairs
    assert solved.report == engine.model_copy(update={"pairs": []})


def test_only_new_pairs_and_their_members_come_back() -> None:
    solved = solve_round(problem([("Y1", "E1")]))

    assert [(pair.mentor_id, pair.mentee_id) for pair in solved.new_pairs(0, 10)] == [("Y2", "E2")]
    assert solved.report.stats.kept_pairs == 1
    assert solved.members == {
        "Y2": PairMember(
            "Y2",
            PEOPLE[3].business_unit,
            PEOPLE[3].mentor_training_completed,
            PEOPLE[3].job_grade,
        ),
        "E2": PairMember(
            "E2",
            PEOPLE[1].business_unit,
            PEOPLE[1].mentor_training_completed,
            PEOPLE[1].job_grade,
        ),
    }


def test_the_job_and_its_answer_cross_a_process_boundary() -> None:
    job = problem([("Y1", "E1")])
    solved = solve_round(job)

    assert pickle.loads(pickle.dumps(job)) == job  # noqa: S301 - our own bytes
    assert pickle.loads(pickle.dumps(solved)) == solved  # noqa: S301
