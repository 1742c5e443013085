"""The best few cells of each row or column of a scored block, found without sorting it.

Used by :mod:`binome_pairing.domain.candidates` to keep each mentee's best mentors (rows)
and each mentor's best mentees (columns, across row blocks).
"""

from __future__ import annotations

import numpy as np

from binome_pairing.domain.encoding import BoolArray, Float32Array, IntArray

FEASIBLE_ABOVE = np.float32(-1.0)
"""Block values of infeasible cells are below this."""
TOP_K_SAMPLE_COST = 32
"""How many times dearer a cell left after the sample threshold is than a sampled one."""


class TopPerColumn:
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
        local_rows, local_columns = nonzero_cells(block >= threshold)
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
        return first_k_per_group(columns, rows, values, self.k)


def first_k_per_group(
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


def nonzero_cells(mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Row and column of each true cell, row by row (2-D ``nonzero`` is far slower)."""
    flat = np.flatnonzero(mask)
    return flat // mask.shape[1], flat % mask.shape[1]


def top_per_row(block: Float32Array, is_feasible: BoolArray, k: int) -> tuple[IntArray, IntArray]:
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
        local_rows, local_columns = nonzero_cells((block >= threshold[:, None]) & is_feasible)
    else:
        local_rows, local_columns = nonzero_cells(is_feasible)
    values = block[local_rows, local_columns]
    kept_columns, kept_rows = first_k_per_group(local_rows, local_columns, values, k)
    return kept_rows, kept_columns
