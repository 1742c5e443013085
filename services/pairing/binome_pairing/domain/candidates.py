"""Candidate pairs: which (mentee, mentor) edges the assignment solver gets to choose from.

Mentees are scored against mentors block by block, so no full matrix is ever held. A block's
values are, for every cell:

* the soft criteria that are linear in one-hot or weight vectors (needs coverage, same site,
  seniority gap through a grade table, shared interests), exactly, from one matrix product
  of per-person feature vectors;
* plus availability, capped at 1: exactly from quarter-hour vectors or, for very large
  cohorts, from a rank-``AVAILABILITY_RANK`` approximation of two-hour-block vectors;
* and, beside the values, a feasibility mask: categorical constraints (age, language,
  gender, department, business unit, working hours) are exact boolean tables over the
  mentees' distinct values × mentors, gathered per block; pairs excluded one by one
  (management chains, previous or rejected pairs) are cleared cell by cell. Mentors (or
  mentees) that a constraint rules out on their own (training, age bands) are not scored.

Blocks are independent: two are scored at once on two threads (numpy releases the GIL).

Below the all-feasible threshold every feasible cell becomes an edge. Above it, each
mentee keeps its best ``mentee_top_k`` mentors and its best ``mentee_priced_top_k`` once
each mentor's *demand price* (the mean value a sample of mentees sees in that mentor) is
taken off: when everybody ranks the same few mentors first, the optimum needs, for most
mentees, the mentors that suit them in particular, and the price surfaces those. Each
mentor may also keep its best ``mentor_top_k`` mentees. A row's k best are found without
sorting it: the k-th best of a sample of the row is a threshold that every one of them
passes. Edges are then re-scored exactly by :mod:`binome_pairing.domain.evaluation`.

People with identical profiles tie exactly; ranked by position, all of a group would name
the same few counterparts. Ranking therefore adds a tiny noise per (mentee, mentor) (the
dot product of unit vectors, ``TIE_BREAK_WEIGHT`` at most) that only orders equals, so
each member of a group gets its own short list. Pricing never sees it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from binome_pairing.domain.assignment import Assignment
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
from binome_pairing.domain.evaluation import (
    circular_overlap_minutes,
    normalised_weights,
)
from binome_pairing.domain.mentor_classes import MentorClasses
from binome_pairing.domain.results import CandidateStrategy, SolverTuning
from binome_shared.contracts.programme import AgeBands, Criterion, MinimumAgeGap

FEASIBLE_ABOVE = np.float32(-1.0)
AVAILABILITY_RANK = 24
TIE_BREAK_DIMENSIONS = 16
TIE_BREAK_WEIGHT = np.float32(2.0**-13)
"""Size of the ranking-only noise that sets apart people whose values tie (see ``_Scorer``)."""
TIE_BREAK_SEED = 13
TABLE_CODES_PER_STEP = 256
SCORING_THREADS = 2
TOP_K_SAMPLE_COST = 32
"""How many times dearer a cell left after the sample threshold is than a sampled one."""

_T = TypeVar("_T")


@dataclass(frozen=True, kw_only=True, slots=True)
class CandidateGraph:
    """Candidate edges in cohort indices, and per-person feasible counts in the block."""

    mentee: IntArray
    mentor: IntArray
    feasible_per_mentee: IntArray
    """Feasible mentors among the solved mentors, for every mentee of the cohort."""
    feasible_per_mentor: IntArray
    """Feasible mentees among the solved mentees, for every mentor of the cohort."""
    strategy: CandidateStrategy


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

    ``X @ Y.T + w · min(1, A @ B.T)`` is the score part of the module docstring.
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
    if constraints.different_department:
        tables.append(
            _allowed_table(
                e.department[rows], m.department[columns], lambda left, right: left != right
            )
        )
    if constraints.different_business_unit:
        tables.append(
            _allowed_table(
                e.business_unit[rows],
                m.business_unit[columns],
                lambda left, right: left != right,
            )
        )
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
    return _distinct(local_rows[inside] * columns.shape[0] + local_columns[inside])


class _TopPerColumn:
    """Keeps, over row blocks, each column's best ``k`` values with their rows."""

    def __init__(self, columns: int, k: int) -> None:
        self.k = k
        self.best = np.full((k, columns), -np.inf, dtype=np.float32)
        self.rows: list[IntArray] = []
        self.columns: list[IntArray] = []
        self.values: list[Float32Array] = []

    def add(self, block: Float32Array, first_row: int) -> None:
        height = block.shape[0]
        block_best = (
            block if height <= self.k else np.partition(block, height - self.k, axis=0)[-self.k :]
        )
        merged = np.concatenate([self.best, block_best], axis=0)
        self.best = np.partition(merged, merged.shape[0] - self.k, axis=0)[-self.k :]
        threshold = np.maximum(self.best.min(axis=0), FEASIBLE_ABOVE)
        local_rows, local_columns = _nonzero(block >= threshold)
        self.rows.append(local_rows + first_row)
        self.columns.append(local_columns)
        self.values.append(block[local_rows, local_columns])

    def edges(self) -> tuple[IntArray, IntArray]:
        if not self.rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows = np.concatenate(self.rows)
        columns = np.concatenate(self.columns)
        values = np.concatenate(self.values)
        keep = values >= np.maximum(self.best.min(axis=0), FEASIBLE_ABOVE)[columns]
        rows, columns, values = rows[keep], columns[keep], values[keep]
        return _first_k_per_group(columns, rows, values, self.k)


def _first_k_per_group(
    groups: IntArray, others: IntArray, values: Float32Array, k: int
) -> tuple[IntArray, IntArray]:
    """At most ``k`` best-valued entries per group (ties broken by position)."""
    order = np.lexsort((-values, groups))
    groups, others = groups[order], others[order]
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    counts = np.diff(np.r_[starts, groups.shape[0]])
    rank = np.arange(groups.shape[0]) - np.repeat(starts, counts)
    keep = rank < k
    return others[keep], groups[keep]


def _tie_break_vectors(cohort: EncodedCohort) -> tuple[Float32Array, Float32Array]:
    """Unit vectors per mentee and per mentor, the same for a cohort whatever the block."""
    generator = np.random.default_rng(TIE_BREAK_SEED)
    vectors = []
    for count in (len(cohort.mentees), len(cohort.mentors)):
        drawn = generator.standard_normal((count, TIE_BREAK_DIMENSIONS)).astype(np.float32)
        norms = np.maximum(np.linalg.norm(drawn, axis=1, keepdims=True), np.float32(1e-6))
        vectors.append((drawn / norms).astype(np.float32))
    return vectors[0], vectors[1]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Scorer:
    """Block values of ``rows`` × ``columns``, computed block by block.

    Only rows and columns that no constraint rules out on their own are scored (``rows``
    and ``columns`` are those); the others have no feasible cell at all.
    """

    rows: IntArray
    columns: IntArray
    mentee_features: Float32Array
    mentor_features: Float32Array
    mentee_availability: Float32Array
    mentor_availability: Float32Array
    """Already multiplied by the availability weight, so the cap is the weight itself."""
    availability_weight: np.float32
    excluded: IntArray
    block_rows: int
    tables: list[AllowedTable]

    @classmethod
    def build(
        cls,
        cohort: EncodedCohort,
        rows: IntArray,
        columns: IntArray,
        tuning: SolverTuning,
        *,
        tie_break: bool,
    ) -> _Scorer:
        """The scorer of ``rows`` × ``columns``; ``tie_break`` only when its values rank.

        HR exports are full of identical profiles, whose values tie exactly. Ranked by
        position, every mentee of a group of identical people would name the same few
        mentors of another group, and the candidates would hold only those: a few hundred
        pairs where thousands exist. A tiny noise of rank ``TIE_BREAK_DIMENSIONS`` (unit
        vectors per person, their dot product times ``TIE_BREAK_WEIGHT``) gives each mentee
        its own order among equals at the cost of a few more columns in the matrix product.
        Never for pricing: reduced costs must be exact.
        """
        exact = rows.shape[0] * columns.shape[0] <= tuning.exact_availability_max_cells
        tables, row_valid, column_valid = constraint_tables(cohort, rows, columns)
        rows, columns = rows[row_valid], columns[column_valid]
        tables = [
            AllowedTable(
                code_of_row=table.code_of_row[row_valid],
                allowed=np.ascontiguousarray(table.allowed[:, column_valid]),
            )
            for table in tables
        ]
        x, y, a, b = build_features(cohort, rows, columns, exact_availability=exact)
        if tie_break:
            mentee_noise, mentor_noise = _tie_break_vectors(cohort)
            x = np.ascontiguousarray(np.hstack([x, mentee_noise[rows] * TIE_BREAK_WEIGHT]))
            y = np.ascontiguousarray(np.hstack([y, mentor_noise[columns]]))
        weight = np.float32(normalised_weights(cohort)[Criterion.AVAILABILITY])
        return cls(
            rows=rows,
            columns=columns,
            mentee_features=x,
            mentor_features=y,
            mentee_availability=a,
            mentor_availability=np.ascontiguousarray(b * weight, dtype=np.float32),
            availability_weight=weight,
            excluded=excluded_in_block(cohort, rows, columns),
            block_rows=max(1, tuning.chunk_cells // max(columns.shape[0], 1)),
            tables=tables,
        )

    def values(self, first: int, last: int) -> tuple[Float32Array, BoolArray]:
        """Values and feasibility of rows ``first`` to ``last`` (positions in ``rows``).

        Values of infeasible cells are left as computed (masking them costs a full pass):
        every caller reads them through the feasibility mask.
        """
        return self._values(slice(first, last), np.arange(first, last))

    def _values(
        self, selection: slice | IntArray, positions: IntArray
    ) -> tuple[Float32Array, BoolArray]:
        width = self.columns.shape[0]
        block = self.mentee_features[selection] @ self.mentor_features.T
        if self.availability_weight:
            shared = self.mentee_availability[selection] @ self.mentor_availability.T
            np.minimum(shared, self.availability_weight, out=shared)
            block += shared
        allowed = np.ones(block.shape, dtype=np.bool_)
        for table in self.tables:
            allowed &= table.allowed[table.code_of_row[selection]]
        # Pairs excluded one by one: keys row_position * width + column_position, sorted.
        low = np.searchsorted(self.excluded, positions * width)
        high = np.searchsorted(self.excluded, (positions + 1) * width)
        counts = high - low
        if counts.any():
            local_rows = np.repeat(np.arange(positions.shape[0]), counts)
            starts = np.repeat(low - np.cumsum(counts) + counts, counts)
            keys = self.excluded[starts + np.arange(local_rows.shape[0])]
            allowed[local_rows, keys % width] = False
        return block, allowed

    def demand_prices(self, sample_rows: int) -> Float32Array:
        """How much each mentor is wanted: mean feasible value over evenly spread rows.

        Mentors everybody likes get a high price; ranking by value minus price points each
        mentee also to mentors that suit it in particular, which the optimum needs when the
        favourites are taken.
        """
        width = self.columns.shape[0]
        total = np.zeros(width, dtype=np.float64)
        count = np.zeros(width, dtype=np.int64)
        step = max(1, self.rows.shape[0] // max(sample_rows, 1))
        sampled = np.arange(0, self.rows.shape[0], step)
        for first in range(0, sampled.shape[0], self.block_rows):
            positions = sampled[first : first + self.block_rows]
            block, allowed = self._values(positions, positions)
            total += np.where(allowed, block, np.float32(0.0)).sum(axis=0, dtype=np.float64)
            count += allowed.sum(axis=0)
        prices = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        return (prices - prices[count > 0].mean() if (count > 0).any() else prices).astype(
            np.float32
        )

    def block_starts(self) -> range:
        """First row position of each block."""
        return range(0, self.rows.shape[0], self.block_rows)

    def block(self, first: int) -> tuple[Float32Array, BoolArray]:
        """Values and feasibility of the block starting at row position ``first``."""
        return self.values(first, min(first + self.block_rows, self.rows.shape[0]))


@dataclass(frozen=True, kw_only=True, slots=True)
class _BlockEdges:
    """What one block contributes: its rows' feasible counts, its columns', its edges."""

    first: int
    feasible_per_row: IntArray
    feasible_per_column: IntArray
    rows: IntArray
    columns: IntArray
    values: Float32Array | None
    """The block itself, only when per-column lists are kept (their merge is sequential)."""


def _in_parallel(work: Callable[[int], _T], items: Iterable[int]) -> Iterator[_T]:
    """``work`` over ``items``, in order, on ``SCORING_THREADS`` threads.

    Blocks are independent and numpy releases the GIL in its array loops and matrix
    products, so two blocks run at once on two cores. At most twice as many blocks as
    threads are in flight, which bounds memory.
    """
    pending: deque[Future[_T]] = deque()
    with ThreadPoolExecutor(max_workers=SCORING_THREADS) as pool:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= 2 * SCORING_THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _ranking_scorer(
    cohort: EncodedCohort,
    rows: IntArray,
    columns: IntArray,
    tuning: SolverTuning,
    *,
    keep_all: bool,
) -> tuple[_Scorer | None, MentorClasses | None]:
    """The scorer of the block, over one column per class of identical mentors when that
    saves work (short lists kept per mentee only), and those classes."""
    if rows.shape[0] * columns.shape[0] == 0:
        return None, None
    classes = (
        MentorClasses.of(cohort, columns) if not keep_all and tuning.mentor_top_k <= 0 else None
    )
    scored = columns if classes is None else classes.representative
    scorer = _Scorer.build(cohort, rows, scored, tuning, tie_break=not keep_all)
    # Classes whose mentors a constraint rules out on their own were left out.
    return scorer, None if classes is None else classes.restricted(scorer.columns)


def generate_candidates(
    cohort: EncodedCohort,
    *,
    rows: IntArray,
    columns: IntArray,
    tuning: SolverTuning,
) -> CandidateGraph:
    """Candidate edges between mentees ``rows`` and mentors ``columns`` (cohort indices)."""
    cells = rows.shape[0] * columns.shape[0]
    keep_all = cells <= tuning.all_feasible_max_cells
    feasible_per_mentee = np.zeros(len(cohort.mentees), dtype=np.int64)
    feasible_per_mentor = np.zeros(len(cohort.mentors), dtype=np.int64)
    strategy = CandidateStrategy.ALL_FEASIBLE if keep_all else CandidateStrategy.TOP_K
    scorer, classes = _ranking_scorer(cohort, rows, columns, tuning, keep_all=keep_all)
    if scorer is None or scorer.rows.shape[0] * scorer.columns.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return CandidateGraph(
            mentee=empty,
            mentor=empty,
            feasible_per_mentee=feasible_per_mentee,
            feasible_per_mentor=feasible_per_mentor,
            strategy=strategy,
        )
    rows = scorer.rows
    columns = scorer.columns if classes is None else classes.members
    width = columns.shape[0]
    mentee_k = min(tuning.mentee_top_k, width)
    mentor_k = min(tuning.mentor_top_k, rows.shape[0])
    per_column = _TopPerColumn(width, mentor_k) if mentor_k > 0 else None
    priced_k = 0 if keep_all else min(tuning.mentee_priced_top_k, width)
    prices = scorer.demand_prices(tuning.price_sample_rows) if priced_k else None

    def best(block: Float32Array, is_feasible: BoolArray, k: int) -> tuple[IntArray, IntArray]:
        if classes is None:
            return _top_per_row(block, is_feasible, k)
        # A row's k best mentors lie in its k best classes.
        class_rows, class_columns = _top_per_row(block, is_feasible, min(k, block.shape[1]))
        return classes.expand(class_rows, class_columns, k)

    def block_edges(first: int) -> _BlockEdges:
        block, is_feasible = scorer.block(first)
        if keep_all:
            local_rows, local_columns = _nonzero(is_feasible)
        else:
            local_rows, local_columns = best(block, is_feasible, mentee_k)
            if prices is not None:
                priced_rows, priced_columns = best(block - prices, is_feasible, priced_k)
                local_rows = np.concatenate([local_rows, priced_rows])
                local_columns = np.concatenate([local_columns, priced_columns])
        return _BlockEdges(
            first=first,
            feasible_per_row=(
                np.count_nonzero(is_feasible, axis=1)
                if classes is None
                else is_feasible.astype(np.int64) @ classes.size
            ),
            feasible_per_column=is_feasible.sum(axis=0, dtype=np.int64),
            rows=local_rows.astype(np.int64) + first,
            columns=local_columns.astype(np.int64),
            values=(
                np.where(is_feasible, block, np.float32(-np.inf))
                if per_column is not None
                else None
            ),
        )

    edge_rows: list[IntArray] = []
    edge_columns: list[IntArray] = []
    column_feasible = np.zeros(scorer.columns.shape[0], dtype=np.int64)
    for part in _in_parallel(block_edges, scorer.block_starts()):
        feasible_per_mentee[rows[part.first : part.first + part.feasible_per_row.shape[0]]] = (
            part.feasible_per_row
        )
        column_feasible += part.feasible_per_column
        edge_rows.append(part.rows)
        edge_columns.append(part.columns)
        if per_column is not None and part.values is not None:
            per_column.add(part.values, part.first)
    feasible_per_mentor[columns] = (
        column_feasible if classes is None else np.repeat(column_feasible, classes.size)
    )
    if per_column is not None:
        column_rows, column_columns = per_column.edges()
        edge_rows.append(column_rows)
        edge_columns.append(column_columns)
    local_keys = np.concatenate(edge_rows) * width + np.concatenate(edge_columns)
    if not keep_all:
        local_keys = _distinct(local_keys)
    return CandidateGraph(
        mentee=rows[local_keys // width],
        mentor=columns[local_keys % width],
        feasible_per_mentee=feasible_per_mentee,
        feasible_per_mentor=feasible_per_mentor,
        strategy=strategy,
    )


def _distinct(keys: IntArray) -> IntArray:
    ordered = np.sort(keys)
    keep = np.ones(ordered.shape[0], dtype=np.bool_)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def price_edges(
    cohort: EncodedCohort,
    *,
    rows: IntArray,
    columns: IntArray,
    assignment: Assignment,
    tuning: SolverTuning,
    tolerance: float = 1e-6,
) -> tuple[IntArray, IntArray]:
    """Feasible edges whose reduced cost is negative: only they could improve the optimum.

    With exact block values (exact availability), none left means the candidates' optimum
    is optimal over every feasible pair. At most ``pricing_top_k`` per mentee, most negative
    first, so that each round stays small.
    """
    if assignment.mentee_potential is None or assignment.mentor_potential is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    scorer = _Scorer.build(cohort, rows, columns, tuning, tie_break=False)
    rows, columns = scorer.rows, scorer.columns
    if rows.shape[0] * columns.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    row_potential = assignment.mentee_potential[rows]
    column_potential = assignment.mentor_potential[columns]

    def negative_edges(first: int) -> tuple[IntArray, IntArray]:
        block, is_feasible = scorer.block(first)
        last = first + block.shape[0]
        reduced = (2.0 - block) + row_potential[first:last, None] - column_potential[None, :]
        local_rows, local_columns = _nonzero((reduced < -tolerance) & is_feasible)
        if not local_rows.size:
            return local_rows, local_columns
        values = -reduced[local_rows, local_columns].astype(np.float32)
        kept_columns, kept_rows = _first_k_per_group(
            local_rows, local_columns, values, tuning.pricing_top_k
        )
        return kept_rows + first, kept_columns

    found = list(_in_parallel(negative_edges, scorer.block_starts()))
    found_rows = np.concatenate([part[0] for part in found]).astype(np.int64)
    found_columns = np.concatenate([part[1] for part in found]).astype(np.int64)
    return rows[found_rows], columns[found_columns]


def _nonzero(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Row and column of each true cell, row by row (2-D ``nonzero`` is far slower)."""
    flat = np.flatnonzero(mask)
    return flat // mask.shape[1], flat % mask.shape[1]


def _top_per_row(block: Float32Array, is_feasible: BoolArray, k: int) -> tuple[IntArray, IntArray]:
    """The ``k`` best feasible cells of each row (ties: leftmost first), as (rows, columns).

    A full partition of every row is the costly way. The k-th best feasible value of an
    evenly spaced sample of the row can only be lower than the row's own, so every feasible
    cell at or above it is a candidate and the row's k best are among them: one comparison
    pass then leaves a few cells per row to sort.
    """
    height, width = block.shape
    if k <= 0 or height == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    stride = max(1, int(np.sqrt(width / (TOP_K_SAMPLE_COST * k))))
    sample = np.where(is_feasible[:, ::stride], block[:, ::stride], np.float32(-np.inf))
    if sample.shape[1] > k:
        threshold = np.partition(sample, sample.shape[1] - k, axis=1)[:, sample.shape[1] - k]
        # Rows whose sample has fewer than k feasible cells keep every feasible cell.
        np.maximum(threshold, np.finfo(np.float32).min, out=threshold)
        local_rows, local_columns = _nonzero((block >= threshold[:, None]) & is_feasible)
    else:
        local_rows, local_columns = _nonzero(is_feasible)
    values = block[local_rows, local_columns]
    kept_columns, kept_rows = _first_k_per_group(local_rows, local_columns, values, k)
    return kept_rows, kept_columns
