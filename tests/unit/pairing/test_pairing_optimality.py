"""Optimality: brute force on small cohorts, and properties on random ones (hypothesis)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binome_pairing.domain import DEFAULT_TUNING, SolverTuning, solve
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import feasible, pair_scores
from binome_shared.contracts.participants import Gender, ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import (
    HardConstraints,
    MinimumAgeGap,
    Objective,
    ProgrammeRules,
)
from tests.unit.pairing.pairing_builders import START, mentee, mentor, need, skill

pytestmark = pytest.mark.unit

TOPICS = ("linkedin", "generative_ai", "data")
FORCED_TOP_K = SolverTuning(all_feasible_max_cells=0, mentee_top_k=1, mentor_top_k=1)


@dataclass(frozen=True)
class Optimum:
    pairs: int
    worst: float
    total: float


def brute_force(
    rules: ProgrammeRules,
    mentors: list[ParticipantProfile],
    mentees: list[ParticipantProfile],
    forbidden: set[tuple[str, str]],
) -> Optimum:
    """Every assignment of each mentee to a mentor or to nobody, capacities respected."""
    cohort = encode_cohort(rules=rules, mentees=mentees, mentors=mentors, forbidden_pairs=forbidden)
    rows = np.arange(len(mentees))[:, None]
    columns = np.arange(len(mentors))[None, :]
    allowed = feasible(cohort, rows, columns)
    scores = pair_scores(cohort, rows, columns)
    best = Optimum(0, 0.0, 0.0)
    best_fair = Optimum(0, 0.0, 0.0)
    for choice in itertools.product(range(-1, len(mentors)), repeat=len(mentees)):
        used = Counter(column for column in choice if column >= 0)
        if any(used[column] > cohort.mentors.capacity[column] for column in used):
            continue
        chosen = [(row, column) for row, column in enumerate(choice) if column >= 0]
        if not all(allowed[row, column] for row, column in chosen):
            continue
        values = [float(scores[row, column]) for row, column in chosen]
        candidate = Optimum(len(values), min(values, default=0.0), sum(values))
        if (candidate.pairs, candidate.total) > (best.pairs, best.total):
            best = candidate
        if (candidate.pairs, candidate.worst, candidate.total) > (
            best_fair.pairs,
            best_fair.worst,
            best_fair.total,
        ):
            best_fair = candidate
    return best if rules.objective is Objective.MAX_TOTAL else best_fair


def cohort_strategy() -> st.SearchStrategy[
    tuple[ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]]]
]:
    @st.composite
    def build(
        draw: st.DrawFn,
    ) -> tuple[ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]]]:
        mentee_count = draw(st.integers(1, 5))
        mentor_count = draw(st.integers(1, 4))
        ids = [f"E{i}" for i in range(mentee_count)] + [f"Y{i}" for i in range(mentor_count)]
        people: list[ParticipantProfile] = []
        for person_id in ids:
            is_mentor = person_id.startswith("Y")
            fields = {
                "birth_year": draw(st.integers(1960, 2004)),
                "department": draw(st.sampled_from(("A", "B", "C"))),
                "business_unit": draw(st.sampled_from(("U", "V"))),
                "job_grade": draw(st.integers(1, 16)),
                "site": draw(st.sampled_from(("Paris", "Lyon"))),
                "languages": draw(
                    st.lists(
                        st.sampled_from(("fr", "en", "de")), min_size=1, max_size=2, unique=True
                    )
                ),
                "gender": draw(st.sampled_from((Gender.FEMALE, Gender.MALE, None))),
                "organisation": draw(st.sampled_from((None, "Nova", "Lumen"))),
                "mentor_training_completed": draw(st.booleans()),
                "manager_id": draw(st.sampled_from([None, *[i for i in ids if i != person_id]])),
                "interests": draw(
                    st.lists(st.sampled_from(("chess", "music", "cinema")), max_size=3, unique=True)
                ),
            }
            if is_mentor:
                topics = draw(st.lists(st.sampled_from(TOPICS), max_size=3, unique=True))
                fields["skills"] = [skill(t, draw(st.integers(1, 5))) for t in topics]
                fields["capacity"] = draw(st.integers(1, 3))
                people.append(mentor(person_id, **fields))
            else:
                topics = draw(st.lists(st.sampled_from(TOPICS), max_size=3, unique=True))
                fields["learning_needs"] = [need(t, draw(st.integers(1, 5))) for t in topics]
                people.append(mentee(person_id, **fields))
        constraints = HardConstraints(
            mentor_younger=draw(st.sampled_from((None, MinimumAgeGap(years=5)))),
            not_in_management_chain=draw(st.booleans()),
            different_department=draw(st.booleans()),
            different_business_unit=draw(st.booleans()),
            different_organisation=draw(st.booleans()),
            shared_language=draw(st.booleans()),
            mentor_trained=draw(st.booleans()),
            same_gender=draw(st.booleans()),
        )
        rules = ProgrammeRules(
            starts_on=START,
            constraints=constraints,
            objective=draw(st.sampled_from(tuple(Objective))),
        )
        mentor_ids = [i for i in ids if i.startswith("Y")]
        mentee_ids = [i for i in ids if i.startswith("E")]
        forbidden = draw(
            st.sets(st.tuples(st.sampled_from(mentor_ids), st.sampled_from(mentee_ids)), max_size=3)
        )
        return rules, people, forbidden

    return build()


def check_against_brute_force(
    rules: ProgrammeRules,
    people: list[ParticipantProfile],
    forbidden: set[tuple[str, str]],
    tuning: SolverTuning | None = None,
) -> None:
    mentors = [p for p in people if p.role is ParticipantRole.MENTOR]
    mentees = [p for p in people if p.role is ParticipantRole.MENTEE]
    result = solve(
        rules=rules,
        participants=people,
        forbidden_pairs=forbidden,
        tuning=tuning or DEFAULT_TUNING,
    )
    optimum = brute_force(rules, mentors, mentees, forbidden)

    cohort = encode_cohort(rules=rules, mentees=mentees, mentors=mentors, forbidden_pairs=forbidden)
    mentee_row = {p.participant_id: i for i, p in enumerate(mentees)}
    mentor_column = {p.participant_id: i for i, p in enumerate(mentors)}
    rows = np.array([mentee_row[pair.mentee_id] for pair in result.pairs], dtype=np.int64)
    columns = np.array([mentor_column[pair.mentor_id] for pair in result.pairs], dtype=np.int64)
    # No hard constraint broken, no mentee twice, no mentor above capacity.
    assert feasible(cohort, rows, columns).all()
    assert len(set(rows.tolist())) == len(rows)
    load = Counter(columns.tolist())
    assert all(load[c] <= cohort.mentors.capacity[c] for c in load)
    # As many pairs as the constraints allow, then the best objective.
    assert len(result.pairs) == optimum.pairs
    scores = [pair.score for pair in result.pairs]
    assert sum(scores) == pytest.approx(optimum.total, abs=1e-5)
    if rules.objective is Objective.FAIREST:
        assert min(scores, default=0.0) == pytest.approx(optimum.worst, abs=1e-5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort_strategy())
def test_engine_matches_brute_force_on_random_small_cohorts(
    case: tuple[ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]]],
) -> None:
    check_against_brute_force(*case)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort_strategy())
def test_sparse_candidates_with_pricing_keep_the_exact_optimum(
    case: tuple[ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]]],
) -> None:
    rules, people, forbidden = case
    rules = rules.model_copy(update={"objective": Objective.MAX_TOTAL})
    check_against_brute_force(rules, people, forbidden, FORCED_TOP_K)


def test_capacity_two_is_used_when_it_gives_the_optimum() -> None:
    # Y1 is the best mentor of both mentees; with two places she takes both.
    people = [
        mentee("E1", learning_needs=[need("data", 5)]),
        mentee("E2", learning_needs=[need("data", 5)]),
        mentor("Y1", capacity=2, skills=[skill("data", 5)]),
        mentor("Y2", skills=[skill("data", 1)]),
    ]
    rules = ProgrammeRules(starts_on=START)

    result = solve(rules=rules, participants=people)

    assert sorted((p.mentee_id, p.mentor_id) for p in result.pairs) == [("E1", "Y1"), ("E2", "Y1")]
    check_against_brute_force(rules, people, set())


def test_greedy_would_lose_a_pair_the_optimum_keeps() -> None:
    # E1's best mentor is the only one E2 can have: greedy gives E1 Y1 and leaves E2 alone.
    people = [
        mentee("E1", learning_needs=[need("data", 5)], languages=["fr", "en"]),
        mentee("E2", learning_needs=[need("data", 5)], languages=["en"]),
        mentor("Y1", skills=[skill("data", 5)], languages=["en"]),
        mentor("Y2", skills=[skill("data", 1)], languages=["fr"]),
    ]
    rules = ProgrammeRules(starts_on=START)

    result = solve(rules=rules, participants=people)

    assert sorted((p.mentee_id, p.mentor_id) for p in result.pairs) == [("E1", "Y2"), ("E2", "Y1")]


def test_fairest_raises_the_worst_pair_at_some_cost_to_the_total() -> None:
    people = [
        mentee("E1", learning_needs=[need("data", 5), need("linkedin", 5)]),
        mentee("E2", learning_needs=[need("data", 5)]),
        mentor("Y1", skills=[skill("data", 5), skill("linkedin", 5)]),
        mentor("Y2", skills=[skill("data", 5)]),
    ]
    rules = ProgrammeRules(starts_on=START)

    total = solve(rules=rules, participants=people)
    fairest = solve(rules=rules, participants=people, objective=Objective.FAIREST)

    assert min(p.score for p in fairest.pairs) >= min(p.score for p in total.pairs)
    assert sum(p.score for p in fairest.pairs) <= sum(p.score for p in total.pairs) + 1e-9
    assert fairest.stats.objective is Objective.FAIREST
