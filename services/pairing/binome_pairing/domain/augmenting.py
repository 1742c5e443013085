"""The largest number of pairs over every feasible pair, not only over the candidates.

The candidates are a few edges per mentee; a maximum matching over them may have fewer
pairs than one over every feasible pair. Berge's theorem closes the gap: a matching is
maximum if and only if no *augmenting path* exists (free mentee → mentor → that mentor's
mentee → … → mentor with a free place, edges alternately outside and inside the matching).

:func:`augmenting_edges` searches for one breadth-first from every free mentee at once, over
the full feasible graph, without listing it: a layer's mentees are grouped by their codes in
the categorical constraint tables (identical profiles share one code, so a group of a
thousand identical people costs one table row), and the mentors they reach are one boolean
row per code, less the pairs excluded one by one. Each mentor is reached once and each
matched mentee is expanded once, so one search reads at most (distinct codes) × mentors
cells of the tables. If the search ends without reaching a place, the matching is proven
maximum. Otherwise the edges of the search tree (a few parents per reached mentor, spread
over the members of a group so that paths do not share them) join the candidates, and a
maximum matching over them has more pairs: each round adds at least one pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binome_pairing.domain.block_features import constraint_tables, excluded_in_block
from binome_pairing.domain.encoding import BoolArray, EncodedCohort, IntArray

PARENTS_PER_MENTOR = 4
"""Tree edges kept per reached mentor, from distinct members of the group that reached it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FeasibleGraph:
    """Every feasible pair of ``rows`` × ``columns``, held as tables, never as a list."""

    rows: IntArray
    """Mentees (cohort indices) that no constraint rules out on their own."""
    columns: IntArray
    """Mentors (cohort indices) likewise."""
    row_code: IntArray
    """Per row position: its combination of codes in the tables."""
    code_rows: list[IntArray]
    """Per table: the table row of each combination."""
    tables: list[BoolArray]
    excluded: IntArray
    """Sorted keys ``row_position * len(columns) + column_position`` excluded one by one."""
    chunk_cells: int
    mentee_count: int
    mentor_count: int

    @classmethod
    def build(
        cls, cohort: EncodedCohort, rows: IntArray, columns: IntArray, *, chunk_cells: int
    ) -> FeasibleGraph:
        """The graph of ``rows`` × ``columns`` (cohort indices)."""
        tables, row_valid, column_valid = constraint_tables(cohort, rows, columns)
        rows, columns = rows[row_valid], columns[column_valid]
        codes = np.stack(
            [table.code_of_row[row_valid] for table in tables]
            or [np.zeros(rows.shape[0], dtype=np.int64)],
            axis=1,
        )
        distinct, inverse = np.unique(codes, axis=0, return_inverse=True)
        return cls(
            rows=rows,
            columns=columns,
            row_code=inverse.reshape(-1).astype(np.int64),
            code_rows=[distinct[:, position] for position in range(len(tables))],
            tables=[np.ascontiguousarray(table.allowed[:, column_valid]) for table in tables],
            excluded=excluded_in_block(cohort, rows, columns),
            chunk_cells=chunk_cells,
            mentee_count=len(cohort.mentees),
            mentor_count=len(cohort.mentors),
        )

    def reach(self, frontier: IntArray, unvisited: BoolArray) -> tuple[IntArray, IntArray]:
        """Tree edges from the ``frontier`` rows to the unvisited columns they reach.

        Returns (row positions, column positions): every reached column at least once, with
        up to ``PARENTS_PER_MENTOR`` distinct rows of the group that reached it.
        """
        open_columns = np.flatnonzero(unvisited)
        empty = np.zeros(0, dtype=np.int64)
        if frontier.size == 0 or open_columns.size == 0:
            return empty, empty
        groups = _Groups.of(self.row_code[frontier], frontier)
        blocked = self._blocked(groups, open_columns)
        parent_group = np.full(open_columns.shape[0], -1, dtype=np.int64)
        step = max(1, self.chunk_cells // open_columns.shape[0])
        for first in range(0, groups.codes.shape[0], step):
            part = groups.codes[first : first + step]
            allowed = np.ones((part.shape[0], open_columns.shape[0]), dtype=np.bool_)
            for table, code_row in zip(self.tables, self.code_rows, strict=True):
                allowed &= table[code_row[part]][:, open_columns]
            if blocked.size:
                group_of_cell = blocked // open_columns.shape[0]
                inside = (group_of_cell >= first) & (group_of_cell < first + part.shape[0])
                local = blocked[inside]
                allowed[group_of_cell[inside] - first, local % open_columns.shape[0]] = False
            newly = allowed.any(axis=0) & (parent_group < 0)
            parent_group[newly] = first + allowed.argmax(axis=0)[newly]
        reached = np.flatnonzero(parent_group >= 0)
        return self._parents(groups, parent_group[reached], open_columns[reached])

    def _blocked(self, groups: _Groups, open_columns: IntArray) -> IntArray:
        """Cells ``group * len(open_columns) + open position`` excluded for every member."""
        if self.excluded.size == 0:
            return self.excluded
        width = self.columns.shape[0]
        group_of_row = np.full(self.rows.shape[0], -1, dtype=np.int64)
        group_of_row[groups.members] = groups.group_of_member
        open_position = np.full(width, -1, dtype=np.int64)
        open_position[open_columns] = np.arange(open_columns.shape[0])
        group = group_of_row[self.excluded // width]
        column = open_position[self.excluded % width]
        inside = (group >= 0) & (column >= 0)
        cells, counts = np.unique(
            group[inside] * open_columns.shape[0] + column[inside], return_counts=True
        )
        full = counts == groups.sizes[cells // open_columns.shape[0]]
        blocked: IntArray = cells[full]
        return blocked

    def _parents(
        self, groups: _Groups, group: IntArray, column: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Rows of each column's group, spread: the j-th column of a group starts at member j."""
        order = np.argsort(group, kind="stable")
        group, column = group[order], column[order]
        starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        rank = np.arange(group.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, group.shape[0]]))
        size = groups.sizes[group]
        rows: list[IntArray] = []
        columns: list[IntArray] = []
        for shift in range(PARENTS_PER_MENTOR):
            take = shift < size
            member = groups.first[group[take]] + (rank[take] + shift) % size[take]
            rows.append(groups.members[member])
            columns.append(column[take])
        row, col = np.concatenate(rows), np.concatenate(columns)
        allowed = ~np.isin(row * self.columns.shape[0] + col, self.excluded)
        row, col = row[allowed], col[allowed]
        # A column whose spread parents are all excluded still has an allowed member (its
        # group reached it), found one by one: only exclusions can cause this, and they are few.
        orphan = ~np.isin(column, col)
        extra = [
            self._any_member(groups, int(g), int(c))
            for g, c in zip(group[orphan], column[orphan], strict=True)
        ]
        return (
            np.concatenate([row, np.array(extra, dtype=np.int64)]),
            np.concatenate([col, column[orphan]]),
        )

    def _any_member(self, groups: _Groups, group: int, column: int) -> int:
        width = self.columns.shape[0]
        members = groups.members[groups.first[group] : groups.first[group] + groups.sizes[group]]
        allowed = ~np.isin(members * width + column, self.excluded)
        return int(members[np.argmax(allowed)])


@dataclass(frozen=True, kw_only=True, slots=True)
class _Groups:
    """Frontier rows grouped by code: ``members[first[g] : first[g] + sizes[g]]``."""

    codes: IntArray
    members: IntArray
    group_of_member: IntArray
    first: IntArray
    sizes: IntArray

    @classmethod
    def of(cls, codes: IntArray, rows: IntArray) -> _Groups:
        distinct, inverse, sizes = np.unique(codes, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        return cls(
            codes=distinct,
            members=rows[order],
            group_of_member=inverse[order],
            first=np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64),
            sizes=sizes.astype(np.int64),
        )


def augmenting_edges(
    graph: FeasibleGraph,
    *,
    matched_mentee: IntArray,
    matched_mentor: IntArray,
    places: IntArray,
) -> tuple[IntArray, IntArray] | None:
    """Edges (cohort indices) holding augmenting paths of the matching, or None if none exists.

    ``matched_mentee``/``matched_mentor`` are the matching's pairs, ``places`` each mentor's
    places in the round (cohort index). None proves the matching maximum over every
    feasible pair of the graph.
    """
    rows, columns = graph.rows, graph.columns
    row_position = np.full(graph.mentee_count, -1, dtype=np.int64)
    row_position[rows] = np.arange(rows.shape[0])
    column_position = np.full(graph.mentor_count, -1, dtype=np.int64)
    column_position[columns] = np.arange(columns.shape[0])
    pair_row = row_position[matched_mentee]
    pair_column = column_position[matched_mentor]
    # Candidate edges lie inside the graph; the guard keeps the search sound regardless.
    inside = (pair_row >= 0) & (pair_column >= 0)
    pair_row, pair_column = pair_row[inside], pair_column[inside]
    used = np.bincount(pair_column, minlength=columns.shape[0])
    has_place = places[columns] > used
    # The matched rows of each column, column by column (a mentor may have several).
    order = np.argsort(pair_column, kind="stable")
    pair_row, pair_column = pair_row[order], pair_column[order]
    matched = np.zeros(rows.shape[0], dtype=np.bool_)
    matched[pair_row] = True
    frontier = np.flatnonzero(~matched)
    unvisited = np.ones(columns.shape[0], dtype=np.bool_)
    found_rows: list[IntArray] = []
    found_columns: list[IntArray] = []
    while frontier.size:
        tree_rows, tree_columns = graph.reach(frontier, unvisited)
        if tree_columns.size == 0:
            return None
        found_rows.append(tree_rows)
        found_columns.append(tree_columns)
        reached = np.unique(tree_columns)
        unvisited[reached] = False
        if has_place[reached].any():
            return rows[np.concatenate(found_rows)], columns[np.concatenate(found_columns)]
        low = np.searchsorted(pair_column, reached, side="left")
        high = np.searchsorted(pair_column, reached, side="right")
        frontier = pair_row[_ranges(low, high)]
    return None


def _ranges(low: IntArray, high: IntArray) -> IntArray:
    """Concatenation of ``arange(low[i], high[i])`` for every i."""
    counts = high - low
    starts = np.repeat(low - np.cumsum(counts) + counts, counts)
    return starts + np.arange(int(counts.sum()))
