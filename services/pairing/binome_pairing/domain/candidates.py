"""Candidate pairs: which (mentee, mentor) edges the assignment solver gets to choose from.

Mentees are scored against mentors block by block, so no full matrix is ever held. A block's
values are, for every cell:

* the soft criteria that are linear in one-hot or weight vectors (needs coverage, same site,
  seniority gap through a grade table, shared interests), exactly, from one matrix product
  of per-person feature vectors;
* plus availability, capped at 1: exactly from quarter-hour vectors or, for very large
  cohorts, from a rank-``AVAILABILITY_RANK`` approximation of two-hour-block vectors (both
  in :mod:`binome_pairing.domain.block_features`);
* and, beside the values, a feasibility mask: categorical constraints (age, language,
  gender, department, business unit, organisation, working hours) are exact boolean tables
  over the mentees' distinct values × mentors, gathered per block; pairs excluded one by one
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
from typing import TypeVar

import numpy as np

from binome_pairing.domain.assignment import Assignment
from binome_pairing.domain.block_features import (
    AllowedTable,
    build_features,
    constraint_tables,
    distinct_keys,
    excluded_in_block,
)
from binome_pairing.domain.encoding import (
    BoolArray,
    EncodedCohort,
    Float32Array,
    IntArray,
)
from binome_pairing.domain.evaluation import (
    normalised_weights,
)
from binome_pairing.domain.mentor_classes import MentorClasses
from binome_pairing.domain.results import CandidateStrategy, SolverTuning
from binome_pairing.domain.top_k import (
    TopPerColumn,
    first_k_per_group,
    nonzero_cells,
    top_per_row,
)
from binome_shared.contracts.programme import Criterion

TIE_BREAK_DIMENSIONS = 16
TIE_BREAK_WEIGHT = np.float32(2.0**-13)
"""Size of the ranking-only noise that sets apart people whose values tie (see ``_Scorer``)."""
TIE_BREAK_SEED = 13
SCORING_THREADS = 2

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
    per_column = TopPerColumn(width, mentor_k) if mentor_k > 0 else None
    priced_k = 0 if keep_all else min(tuning.mentee_priced_top_k, width)
    prices = scorer.demand_prices(tuning.price_sample_rows) if priced_k else None

    def best(block: Float32Array, is_feasible: BoolArray, k: int) -> tuple[IntArray, IntArray]:
        if classes is None:
            return top_per_row(block, is_feasible, k)
        # A row's k best mentors lie in its k best classes.
        class_rows, class_columns = top_per_row(block, is_feasible, min(k, block.shape[1]))
        return classes.expand(class_rows, class_columns, k)

    def block_edges(first: int) -> _BlockEdges:
        block, is_feasible = scorer.block(first)
        if keep_all:
            local_rows, local_columns = nonzero_cells(is_feasible)
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
        local_keys = distinct_keys(local_keys)
    return CandidateGraph(
        mentee=rows[local_keys // width],
        mentor=columns[local_keys % width],
        feasible_per_mentee=feasible_per_mentee,
        feasible_per_mentor=feasible_per_mentor,
        strategy=strategy,
    )


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
        local_rows, local_columns = nonzero_cells((reduced < -tolerance) & is_feasible)
        if not local_rows.size:
            return local_rows, local_columns
        values = -reduced[local_rows, local_columns].astype(np.float32)
        kept_columns, kept_rows = first_k_per_group(
            local_rows, local_columns, values, tuning.pricing_top_k
        )
        return kept_rows + first, kept_columns

    found = list(_in_parallel(negative_edges, scorer.block_starts()))
    found_rows = np.concatenate([part[0] for part in found]).astype(np.int64)
    found_columns = np.concatenate([part[1] for part in found]).astype(np.int64)
    return rows[found_rows], columns[found_columns]
