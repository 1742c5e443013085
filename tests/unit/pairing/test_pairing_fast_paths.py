"""The shortcuts that make large cohorts fast give the same answers as the plain computation."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linear_sum_assignment

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.domain import solve
from binome_pairing.domain.assignment import assign
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import active_constraints, constraint_holds, feasible
from binome_pairing.domain.top_k import top_per_row
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.programme import AgeBands, Objective

pytestmark = pytest.mark.unit

LONE_MENTEE = 119
"""A manager low in the generated reporting tree (the first one heads the company)."""


def top_by_sorting(block: np.ndarray, feasible: np.ndarray, k: int) -> set[tuple[int, int]]:
    """Each row's k best feasible cells, leftmost first among equal values."""
    chosen: set[tuple[int, int]] = set()
    for row in range(block.shape[0]):
        columns = [int(c) for c in np.flatnonzero(feasible[row])]
        columns.sort(key=lambda column: (-float(block[row, column]), column))
        chosen.update((row, column) for column in columns[:k])
    return chosen


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(1, 6), st.integers(1, 300)),
    k=st.integers(1, 30),
    data=st.data(),
)
def test_sampled_threshold_keeps_exactly_the_best_cells_of_each_row(
    shape: tuple[int, int], k: int, data: st.DataObject
) -> None:
    # Few distinct values, so that ties at the k-th place are common.
    block = data.draw(
        hnp.arrays(np.float32, shape, elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]))
    )
    feasible = data.draw(hnp.arrays(np.bool_, shape))

    rows, columns = top_per_row(block, feasible, k)

    pairs = list(zip(rows.tolist(), columns.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == top_by_sorting(block, feasible, k)


@pytest.mark.parametrize("age_rule", ["gap", "bands"])
def test_unmatched_counts_per_constraint_match_pair_by_pair_evaluation(age_rule: str) -> None:
    cohort = generate_cohort(mentees=120, mentors=150, seed=11)
    rules = cohort.rules
    if age_rule == "bands":
        bands = AgeBands(mentor_max_age=27, mentee_min_age=50)
        rules = rules.model_copy(
            update={
                "constraints": rules.constraints.model_copy(
                    update={
                        "mentor_younger": bands,
                        "different_business_unit": True,
                        "different_organisation": True,
                    }
                )
            }
        )
    mentors = [p for p in cohort.participants if p.role is ParticipantRole.MENTOR]
    mentees = [p for p in cohort.participants if p.role is ParticipantRole.MENTEE]
    draw = random.Random(3)
    forbidden = {
        (draw.choice(mentors).participant_id, draw.choice(mentees).participant_id)
        for _ in range(400)
    }
    # One mentee loses exactly the mentors every other rule allows: only the joint count
    # (less pairs excluded one by one) sees that none is left.
    plain = encode_cohort(rules=rules, mentees=mentees, mentors=mentors)
    allowed = feasible(plain, np.array([LONE_MENTEE]), np.arange(len(mentors)))
    forbidden |= {
        (mentors[c].participant_id, mentees[LONE_MENTEE].participant_id)
        for c in np.flatnonzero(allowed)
    }

    result = solve(
        rules=rules,
        participants=cohort.participants,
        reporting_lines=cohort.reporting_lines,
        forbidden_pairs=forbidden,
    )

    encoded = encode_cohort(
        rules=rules,
        mentees=mentees,
        mentors=mentors,
        reporting_lines=cohort.reporting_lines,
        forbidden_pairs=forbidden,
    )
    mentee_row = {p.participant_id: i for i, p in enumerate(mentees)}
    mentor_column = {p.participant_id: i for i, p in enumerate(mentors)}
    isolated = {item.participant_id for item in result.unmatched if item.feasible_candidates == 0}
    assert mentees[LONE_MENTEE].participant_id in isolated
    for item in result.unmatched:
        if item.role is ParticipantRole.MENTEE:
            mentee = np.array([mentee_row[item.participant_id]])
            mentor = np.arange(len(mentors))
        else:
            mentee = np.arange(len(mentees))
            mentor = np.array([mentor_column[item.participant_id]])
        holds = {
            c: constraint_holds(encoded, c, mentee, mentor) for c in active_constraints(encoded)
        }
        every = np.logical_and.reduce(list(holds.values()))
        assert item.feasible_candidates == int(every.sum())
        if item.feasible_candidates == 0:
            expected = {c: int((~h).sum()) for c, h in holds.items() if (~h).any()}
            assert item.eliminated_by == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), density=st.floats(0.05, 0.6))
def test_min_cost_flow_matches_a_dense_assignment_with_replicated_places(
    seed: int, density: float
) -> None:
    generator = np.random.default_rng(seed)
    mentees, mentors = 40, 30
    capacity = generator.integers(1, 4, size=mentors)
    present = generator.random((mentees, mentors)) < density
    edge_mentee, edge_mentor = np.nonzero(present)
    # Scores on a coarse grid, so that many optima tie.
    edge_score = generator.integers(0, 9, size=edge_mentee.shape[0]) / 8.0

    result = assign(
        edge_mentee=edge_mentee.astype(np.int64),
        edge_mentor=edge_mentor.astype(np.int64),
        edge_score=edge_score,
        capacity=capacity.astype(np.int64),
        objective=Objective.MAX_TOTAL,
        mentee_count=mentees,
    )

    places = np.repeat(np.arange(mentors), capacity)
    missing = 4.0 * mentees + 4.0  # above any gain in score: the count comes first
    cost = np.full((mentees, places.shape[0]), missing)
    score_of = np.full((mentees, mentors), np.nan)
    score_of[edge_mentee, edge_mentor] = edge_score
    real = ~np.isnan(score_of[:, places])
    cost[real] = 2.0 - score_of[:, places][real]
    rows, columns = linear_sum_assignment(cost)
    taken = cost[rows, columns] < missing
    chosen_mentee = edge_mentee[result.chosen]
    chosen_mentor = edge_mentor[result.chosen]
    assert result.maximum_pairs == int(taken.sum()) == result.chosen.shape[0]
    assert len(set(chosen_mentee.tolist())) == chosen_mentee.shape[0]
    assert (np.bincount(chosen_mentor, minlength=mentors) <= capacity).all()
    assert edge_score[result.chosen].sum() == pytest.approx(
        (2.0 - cost[rows, columns][taken]).sum(), abs=1e-6
    )
