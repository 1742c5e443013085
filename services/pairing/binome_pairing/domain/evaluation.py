"""Exact evaluation of hard constraints and soft criteria for many pairs at once.

Every function takes index arrays ``mentee`` and ``mentor`` that broadcast against each
other: two 1-D arrays of equal length evaluate a list of pairs, a column ``(k, 1)`` against
a row ``(n,)`` evaluates k mentees against n mentors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binome_pairing.domain.encoding import (
    SLOT_MINUTES,
    BoolArray,
    EncodedCohort,
    FloatArray,
    IntArray,
    popcount,
)
from binome_shared.contracts.programme import AgeBands, Criterion, HardConstraint, MinimumAgeGap

MINUTES_PER_DAY = 24 * 60


def active_constraints(cohort: EncodedCohort) -> list[HardConstraint]:
    """The pair-level hard constraints the programme switches on, in a stable order.

    ``NOT_EXCLUDED_PAIR`` is always on (HR rejections hold whatever the rules);
    ``MENTOR_CAPACITY`` is global and always holds.
    """
    rules = cohort.rules.constraints
    switched_on = {
        HardConstraint.MENTOR_YOUNGER: rules.mentor_younger is not None,
        HardConstraint.NOT_IN_MANAGEMENT_CHAIN: rules.not_in_management_chain,
        HardConstraint.DIFFERENT_DEPARTMENT: rules.different_department,
        HardConstraint.DIFFERENT_BUSINESS_UNIT: rules.different_business_unit,
        HardConstraint.DIFFERENT_ORGANISATION: rules.different_organisation,
        HardConstraint.SHARED_LANGUAGE: rules.shared_language,
        HardConstraint.MENTOR_TRAINED: rules.mentor_trained,
        HardConstraint.SAME_GENDER: rules.same_gender,
        HardConstraint.WORKING_HOURS_OVERLAP: rules.min_working_hours_overlap_minutes is not None,
        HardConstraint.NOT_EXCLUDED_PAIR: True,
    }
    return [constraint for constraint, on in switched_on.items() if on]


def circular_overlap_minutes(
    start_a: IntArray, length_a: IntArray, start_b: IntArray, length_b: IntArray
) -> IntArray:
    """Daily overlap of two windows given by UTC start minute and length (≤ one day)."""
    total = np.zeros(np.broadcast_shapes(start_a.shape, start_b.shape), dtype=np.int64)
    for shift in (-MINUTES_PER_DAY, 0, MINUTES_PER_DAY):
        shifted = start_b + shift
        overlap = np.minimum(start_a + length_a, shifted + length_b) - np.maximum(start_a, shifted)
        total += np.maximum(overlap, 0)
    return total


def _not_in(keys: IntArray, sorted_keys: IntArray) -> BoolArray:
    if sorted_keys.size == 0:
        return np.ones(keys.shape, dtype=np.bool_)
    positions = np.searchsorted(sorted_keys, keys).clip(max=sorted_keys.size - 1)
    return np.asarray(sorted_keys[positions] != keys)


def _age_rule_holds(cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> BoolArray:
    rule = cohort.rules.constraints.mentor_younger
    e, m = cohort.mentees, cohort.mentors
    if isinstance(rule, MinimumAgeGap):
        return np.asarray(m.birth_year[mentor] - e.birth_year[mentee] >= rule.years)
    if isinstance(rule, AgeBands):
        return np.asarray(m.in_age_band[mentor] & e.in_age_band[mentee])
    return np.ones(np.broadcast_shapes(mentee.shape, mentor.shape), dtype=np.bool_)


def _working_hours_hold(cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> BoolArray:
    e, m = cohort.mentees, cohort.mentors
    overlap = circular_overlap_minutes(
        e.work_start_utc[mentee],
        e.work_minutes[mentee],
        m.work_start_utc[mentor],
        m.work_minutes[mentor],
    )
    return np.asarray(overlap >= (cohort.rules.constraints.min_working_hours_overlap_minutes or 0))


def _same_gender(cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> BoolArray:
    mentee_gender = cohort.mentees.gender[mentee]
    return np.asarray((mentee_gender == cohort.mentors.gender[mentor]) & (mentee_gender >= 0))


_CHECKS: dict[HardConstraint, Callable[[EncodedCohort, IntArray, IntArray], BoolArray]] = {
    HardConstraint.MENTOR_YOUNGER: _age_rule_holds,
    HardConstraint.NOT_IN_MANAGEMENT_CHAIN: lambda c, e, m: _not_in(
        c.pair_keys(e, m), c.chain_keys
    ),
    HardConstraint.DIFFERENT_DEPARTMENT: lambda c, e, m: np.asarray(
        c.mentees.department[e] != c.mentors.department[m]
    ),
    HardConstraint.DIFFERENT_BUSINESS_UNIT: lambda c, e, m: np.asarray(
        c.mentees.business_unit[e] != c.mentors.business_unit[m]
    ),
    HardConstraint.DIFFERENT_ORGANISATION: lambda c, e, m: np.asarray(
        c.mentees.organisation[e] != c.mentors.organisation[m]
    ),
    HardConstraint.SHARED_LANGUAGE: lambda c, e, m: np.asarray(
        popcount(c.mentees.languages[e] & c.mentors.languages[m]) > 0
    ),
    HardConstraint.MENTOR_TRAINED: lambda c, e, m: np.asarray(c.mentors.trained[m] & (e >= 0)),
    HardConstraint.SAME_GENDER: _same_gender,
    HardConstraint.WORKING_HOURS_OVERLAP: _working_hours_hold,
    HardConstraint.NOT_EXCLUDED_PAIR: lambda c, e, m: _not_in(c.pair_keys(e, m), c.excluded_keys),
}


PAIR_BY_PAIR: dict[HardConstraint, Callable[[EncodedCohort], IntArray]] = {
    HardConstraint.NOT_IN_MANAGEMENT_CHAIN: lambda c: c.chain_keys,
    HardConstraint.NOT_EXCLUDED_PAIR: lambda c: c.excluded_keys,
}
"""Constraints held as sorted pair keys rather than decided by each person's attributes."""


def deciding_attributes(
    cohort: EncodedCohort, constraint: HardConstraint, *, mentor_side: bool
) -> IntArray:
    """One row per person of that side: the attributes ``constraint`` reads on that side.

    People with equal rows are treated alike by ``constraint`` against anyone, so it can be
    evaluated once per distinct row. Keep in step with ``_CHECKS``. Not for the
    constraints in ``PAIR_BY_PAIR``.
    """
    side = cohort.mentors if mentor_side else cohort.mentees
    count = len(side)
    columns: dict[HardConstraint, list[NDArray[Any]]] = {
        HardConstraint.MENTOR_YOUNGER: [side.birth_year, side.in_age_band],
        HardConstraint.DIFFERENT_DEPARTMENT: [side.department],
        HardConstraint.DIFFERENT_BUSINESS_UNIT: [side.business_unit],
        HardConstraint.DIFFERENT_ORGANISATION: [side.organisation],
        HardConstraint.SHARED_LANGUAGE: list(side.languages.view(np.int64).T),
        HardConstraint.MENTOR_TRAINED: [side.trained if mentor_side else np.zeros(count)],
        HardConstraint.SAME_GENDER: [side.gender],
        HardConstraint.WORKING_HOURS_OVERLAP: [side.work_start_utc, side.work_minutes],
    }
    chosen = columns.get(constraint, [np.zeros(count)])
    return np.stack([np.asarray(column, dtype=np.int64) for column in chosen], axis=1)


def constraint_holds(
    cohort: EncodedCohort, constraint: HardConstraint, mentee: IntArray, mentor: IntArray
) -> BoolArray:
    """Where ``constraint`` holds for the (broadcast) pairs."""
    shape = np.broadcast_shapes(mentee.shape, mentor.shape)
    check = _CHECKS.get(constraint)
    if check is None:
        return np.ones(shape, dtype=np.bool_)
    return np.broadcast_to(check(cohort, mentee, mentor), shape)


def feasible(cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> BoolArray:
    """Where every active hard constraint holds."""
    shape = np.broadcast_shapes(mentee.shape, mentor.shape)
    result = np.ones(shape, dtype=np.bool_)
    for constraint in active_constraints(cohort):
        result &= constraint_holds(cohort, constraint, mentee, mentor)
    return result


def shared_availability_minutes(
    cohort: EncodedCohort, mentee: IntArray, mentor: IntArray
) -> IntArray:
    """Weekly minutes both are available (UTC quarter-hours in common)."""
    common = cohort.mentees.availability_words[mentee] & cohort.mentors.availability_words[mentor]
    return popcount(common) * SLOT_MINUTES


def criterion_scores(
    cohort: EncodedCohort, mentee: IntArray, mentor: IntArray
) -> dict[Criterion, FloatArray]:
    """Each soft criterion's score in [0, 1] for the (broadcast) pairs."""
    e, m = cohort.mentees, cohort.mentors
    rules = cohort.rules
    # Converting the small per-person tables before gathering, not the gathered pairs.
    coverage = np.einsum(
        "...t,...t->...",
        e.topics.astype(np.float64)[mentee],
        m.topics.astype(np.float64)[mentor],
    )
    availability = np.minimum(
        1.0,
        shared_availability_minutes(cohort, mentee, mentor) / rules.desired_weekly_overlap_minutes,
    )
    same_site = (e.site[mentee] == m.site[mentor]).astype(np.float64)
    seniority = np.clip(
        (e.grade[mentee] - m.grade[mentor]) / rules.target_grade_gap, 0.0, 1.0
    ).astype(np.float64)
    shared = popcount(e.interests[mentee] & m.interests[mentor])
    interests = shared / np.maximum(e.interest_count[mentee], 1)
    return {
        Criterion.NEEDS_COVERAGE: np.minimum(coverage, 1.0),
        Criterion.AVAILABILITY: availability,
        Criterion.SAME_SITE: same_site,
        Criterion.SENIORITY_GAP: seniority,
        Criterion.SHARED_INTERESTS: interests.astype(np.float64),
    }


def normalised_weights(cohort: EncodedCohort) -> dict[Criterion, float]:
    """Criteria weights scaled to sum to 1."""
    weights = cohort.rules.weights.as_mapping()
    total = sum(weights.values())
    return {criterion: weight / total for criterion, weight in weights.items()}


def pair_scores(cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> FloatArray:
    """Weighted mean of the criteria, in [0, 1], for the (broadcast) pairs."""
    scores = criterion_scores(cohort, mentee, mentor)
    total = np.zeros(np.broadcast_shapes(mentee.shape, mentor.shape), dtype=np.float64)
    for criterion, weight in normalised_weights(cohort).items():
        if weight:
            total += weight * scores[criterion]
    return np.clip(total, 0.0, 1.0)


def score_edges(
    cohort: EncodedCohort, mentee: IntArray, mentor: IntArray, *, batch: int = 500_000
) -> FloatArray:
    """Exact scores of a list of pairs, in batches to bound memory."""
    scores: FloatArray = _in_batches(
        pair_scores, cohort, mentee, mentor, dtype=np.float64, batch=batch
    )
    return scores


def feasible_edges(
    cohort: EncodedCohort, mentee: IntArray, mentor: IntArray, *, batch: int = 500_000
) -> BoolArray:
    """Exact feasibility of a list of pairs, in batches."""
    holds: BoolArray = _in_batches(feasible, cohort, mentee, mentor, dtype=np.bool_, batch=batch)
    return holds


def _in_batches(
    of_pairs: Callable[[EncodedCohort, IntArray, IntArray], NDArray[Any]],
    cohort: EncodedCohort,
    mentee: IntArray,
    mentor: IntArray,
    *,
    dtype: type[np.generic],
    batch: int,
) -> NDArray[Any]:
    result = np.empty(mentee.shape[0], dtype=dtype)
    for start in range(0, mentee.shape[0], batch):
        stop = start + batch
        result[start:stop] = of_pairs(cohort, mentee[start:stop], mentor[start:stop])
    return result
