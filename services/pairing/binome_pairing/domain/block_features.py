"""What a block of mentees × mentors is scored and filtered from.

Per-person feature vectors whose products give a block's values (the linear criteria, then
availability, exact or low-rank), and the exact feasibility of the categorical constraints as
boolean tables over the mentees' distinct values × mentors, plus the pairs excluded one by
one. :mod:`binome_pairing.domain.candidates` scores blocks from them;
:mod:`binome_pairing.domain.augmenting` reads the same tables over the whole feasible graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from binome_pairing.domain.encoding import (
    BLOCK_SLOTS,
    SLOT_MINUTES,
    SLOTS_PER_WEEK,
    BoolArray,
    EncodedCohort,
    Float32Array,
    IntArray,
    popcount,
)
from binome_pairing.domain.evaluation import circular_overlap_minutes, normalised_weights
from binome_shared.contracts.programme import AgeBands, Criterion, MinimumAgeGap

AVAILABILITY_RANK = 24
TABLE_CODES_PER_STEP = 256


def _one_hot(codes: IntArray, width: int) -> Float32Array:
    matrix = np.zeros((codes.shape[0], width), dtype=np.float32)
    if codes.shape[0]:
        matrix[np.arange(codes.shape[0]), codes] = 1.0
    return matrix


def _table_block(
    mentee_values: NDArray[Any],
    mentor_values: NDArray[Any],
    value: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]],
) -> tuple[Float32Array, Float32Array]:
    """Features whose product is ``value(mentee_value, mentor_value)``.

    The mentor side is one-hot over the mentors' distinct values; the mentee side is the
    table row of its value against each distinct mentor value.
    """
    distinct, inverse = np.unique(mentor_values, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    mentor_side = _one_hot(inverse.astype(np.int64), distinct.shape[0])
    expanded = mentee_values.reshape(mentee_values.shape[0], 1, *mentee_values.shape[1:])
    mentee_side = np.asarray(value(expanded, distinct[np.newaxis]), dtype=np.float32)
    return mentee_side, mentor_side


@dataclass(frozen=True, kw_only=True, slots=True)
class AllowedTable:
    """``allowed[code_of_row[r], column]``: whether a categorical constraint holds."""

    code_of_row: IntArray
    allowed: BoolArray


def _allowed_table(
    mentee_values: NDArray[Any],
    mentor_values: NDArray[Any],
    allowed: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]],
) -> AllowedTable:
    distinct, inverse = np.unique(mentee_values, axis=0, return_inverse=True)
    table = np.empty((distinct.shape[0], mentor_values.shape[0]), dtype=np.bool_)
    right = mentor_values[np.newaxis]
    for first in range(0, distinct.shape[0], TABLE_CODES_PER_STEP):
        part = distinct[first : first + TABLE_CODES_PER_STEP]
        left = part.reshape(part.shape[0], 1, *part.shape[1:])
        table[first : first + part.shape[0]] = allowed(left, right)
    return AllowedTable(code_of_row=inverse.reshape(-1).astype(np.int64), allowed=table)


def build_features(
    cohort: EncodedCohort, rows: IntArray, columns: IntArray, *, exact_availability: bool
) -> tuple[Float32Array, Float32Array, Float32Array, Float32Array]:
    """Mentee and mentor features: linear part (X, Y) and availability part (A, B).

    ``X @ Y.T + w · min(1, A @ B.T)`` is a block's score, as
    :mod:`binome_pairing.domain.candidates` describes it.
    """
    e, m = cohort.mentees, cohort.mentors
    rules = cohort.rules
    weights = normalised_weights(cohort)
    blocks: list[tuple[Float32Array, Float32Array]] = [
        (np.zeros((rows.shape[0], 1), np.float32), np.zeros((columns.shape[0], 1), np.float32))
    ]
    if weights[Criterion.NEEDS_COVERAGE] and cohort.topics:
        blocks.append((e.topics[rows] * weights[Criterion.NEEDS_COVERAGE], m.topics[columns]))
    if weights[Criterion.SAME_SITE]:
        mentee_side, mentor_side = _table_block(
            e.site[rows], m.site[columns], lambda left, right: left == right
        )
        blocks.append((mentee_side * weights[Criterion.SAME_SITE], mentor_side))
    if weights[Criterion.SENIORITY_GAP]:
        target = rules.target_grade_gap
        mentee_side, mentor_side = _table_block(
            e.grade[rows],
            m.grade[columns],
            lambda left, right: np.clip((left - right) / target, 0.0, 1.0),
        )
        blocks.append((mentee_side * weights[Criterion.SENIORITY_GAP], mentor_side))
    if weights[Criterion.SHARED_INTERESTS]:
        bits = np.unpackbits(e.interests[rows].view(np.uint8), axis=1, bitorder="little").astype(
            np.float32
        )
        mentor_bits = np.unpackbits(
            m.interests[columns].view(np.uint8), axis=1, bitorder="little"
        ).astype(np.float32)
        used = mentor_bits.any(axis=0) & bits.any(axis=0)
        share = weights[Criterion.SHARED_INTERESTS] / np.maximum(e.interest_count[rows], 1)
        blocks.append(((bits[:, used] * share[:, None]).astype(np.float32), mentor_bits[:, used]))
    linear_mentee = np.ascontiguousarray(np.hstack([block[0] for block in blocks]))
    linear_mentor = np.ascontiguousarray(np.hstack([block[1] for block in blocks]))
    scale = np.float32(SLOT_MINUTES / rules.desired_weekly_overlap_minutes)
    availability_mentee: Float32Array
    availability_mentor: Float32Array
    if exact_availability:
        # Only quarter-hours someone on each side is free in can add to an overlap.
        used = e.availability[rows].any(axis=0) & m.availability[columns].any(axis=0)
        availability_mentee = (e.availability[rows][:, used] * scale).astype(np.float32)
        availability_mentor = m.availability[columns][:, used].astype(np.float32)
    else:
        availability_mentee, availability_mentor = _low_rank_availability(
            cohort, rows, columns, scale
        )
    return linear_mentee, linear_mentor, availability_mentee, availability_mentor


def _low_rank_availability(
    cohort: EncodedCohort, rows: IntArray, columns: IntArray, scale: np.float32
) -> tuple[Float32Array, Float32Array]:
    """Two-hour-block shares projected on their main directions (weekly patterns repeat)."""
    blocks_of = SLOTS_PER_WEEK // BLOCK_SLOTS
    mentee_blocks = cohort.mentees.availability[rows].reshape(-1, blocks_of, BLOCK_SLOTS).mean(2)
    mentor_blocks = cohort.mentors.availability[columns].reshape(-1, blocks_of, BLOCK_SLOTS)
    mentor_shares = mentor_blocks.mean(axis=2)
    # Expected common quarter-hours if both are spread evenly within each block.
    mentee_side = mentee_blocks * BLOCK_SLOTS * float(scale)
    gram = mentee_side.T @ mentee_side + mentor_shares.T @ mentor_shares
    _, vectors = np.linalg.eigh(gram)
    basis = vectors[:, -AVAILABILITY_RANK:]
    return (
        np.ascontiguousarray(mentee_side @ basis, dtype=np.float32),
        np.ascontiguousarray(mentor_shares @ basis, dtype=np.float32),
    )


def constraint_tables(
    cohort: EncodedCohort, rows: IntArray, columns: IntArray
) -> tuple[list[AllowedTable], BoolArray, BoolArray]:
    """Tables of the categorical constraints, and rows and columns valid on their own."""
    e, m = cohort.mentees, cohort.mentors
    constraints = cohort.rules.constraints
    tables: list[AllowedTable] = []
    column_valid = np.ones(columns.shape[0], dtype=np.bool_)
    row_valid = np.ones(rows.shape[0], dtype=np.bool_)
    age_rule = constraints.mentor_younger
    if isinstance(age_rule, MinimumAgeGap):
        gap = age_rule.years
        tables.append(
            _allowed_table(
                e.birth_year[rows], m.birth_year[columns], lambda left, right: right - left >= gap
            )
        )
    elif isinstance(age_rule, AgeBands):
        column_valid &= m.in_age_band[columns]
        row_valid &= e.in_age_band[rows]
    if constraints.mentor_trained:
        column_valid &= m.trained[columns]
    for switched_on, mentee_codes, mentor_codes in (
        (constraints.different_department, e.department, m.department),
        (constraints.different_business_unit, e.business_unit, m.business_unit),
        (constraints.different_organisation, e.organisation, m.organisation),
    ):
        if switched_on:
            tables.append(_allowed_table(mentee_codes[rows], mentor_codes[columns], np.not_equal))
    if constraints.shared_language:
        tables.append(
            _allowed_table(
                e.languages[rows],
                m.languages[columns],
                lambda left, right: popcount(left & right) > 0,
            )
        )
    if constraints.same_gender:
        tables.append(
            _allowed_table(
                e.gender[rows],
                m.gender[columns],
                lambda left, right: (left == right) & (left >= 0),
            )
        )
    minimum = constraints.min_working_hours_overlap_minutes
    if minimum is not None:
        mentee_windows = np.stack([e.work_start_utc[rows], e.work_minutes[rows]], axis=1)
        mentor_windows = np.stack([m.work_start_utc[columns], m.work_minutes[columns]], axis=1)
        tables.append(
            _allowed_table(
                mentee_windows,
                mentor_windows,
                lambda left, right: (
                    circular_overlap_minutes(
                        left[..., 0], left[..., 1], right[..., 0], right[..., 1]
                    )
                    >= minimum
                ),
            )
        )
    return tables, row_valid, column_valid


def excluded_in_block(cohort: EncodedCohort, rows: IntArray, columns: IntArray) -> IntArray:
    """Keys ``row_position * len(columns) + column_position`` excluded one by one."""
    keys = np.concatenate([cohort.chain_keys, cohort.excluded_keys])
    if keys.size == 0:
        return keys
    mentor_count = len(cohort.mentors)
    row_position = np.full(len(cohort.mentees), -1, dtype=np.int64)
    row_position[rows] = np.arange(rows.shape[0])
    column_position = np.full(mentor_count, -1, dtype=np.int64)
    column_position[columns] = np.arange(columns.shape[0])
    local_rows = row_position[keys // mentor_count]
    local_columns = column_position[keys % mentor_count]
    inside = (local_rows >= 0) & (local_columns >= 0)
    return distinct_keys(local_rows[inside] * columns.shape[0] + local_columns[inside])


def distinct_keys(keys: IntArray) -> IntArray:
    ordered = np.sort(keys)
    keep = np.ones(ordered.shape[0], dtype=np.bool_)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]
