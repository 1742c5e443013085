"""Globally optimal assignment of mentees to mentor places over a set of candidate edges.

The objective is lexicographic: first the largest number of pairs, then either the best
total score (``MAX_TOTAL``) or the best worst pair and then the best total (``FAIREST``).

Method. A mentor with capacity k becomes k identical places (columns). A maximum matching
(Hopcroft–Karp, ``maximum_bipartite_matching``) gives the largest number of pairs ν. If every
mentee with an edge can be matched, a minimum-cost full matching of the mentees
(``min_weight_full_bipartite_matching``, LAPJVsp) with cost ``2 − score`` is the optimum.
Otherwise each mentee that some maximum matching leaves out (found by alternating search
from the unmatched ones) gets a private "unmatched" column of cost M. An optimal solution
that used more unmatched columns than ``n − ν`` would contain an augmenting path whose
r new edges gain at most r + 1 < M, so with M above the longest such path the count is ν;
the count is checked against ν and M raised until it holds (M > 2n + 2 always suffices).
For ``FAIREST`` the best threshold θ such that edges with score ≥ θ still allow ν pairs is
found by binary search over the distinct scores, then the total is maximised above θ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from binome_pairing.domain.encoding import BoolArray, FloatArray, IntArray
from binome_shared.contracts.programme import Objective

INITIAL_UNMATCHED_COST = 64.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Assignment:
    """Chosen edges, as positions into the candidate edge arrays, and the optimum's duals."""

    chosen: IntArray
    maximum_pairs: int
    """ν: the largest number of pairs the candidate edges allow."""
    mentee_potential: FloatArray | None = None
    """Shortest-path potential of each mentee (cohort index) in the optimum's residual graph."""
    mentor_potential: FloatArray | None = None
    """Highest potential among each mentor's places; 0 for mentors with a place unused."""

    def reduced_costs(self, mentee: IntArray, mentor: IntArray, score: FloatArray) -> FloatArray:
        """Reduced cost of adding edges; a negative one could improve the optimum."""
        if self.mentee_potential is None or self.mentor_potential is None:
            return np.zeros(score.shape, dtype=np.float64)
        return (2.0 - score) + self.mentee_potential[mentee] - self.mentor_potential[mentor]


@dataclass(frozen=True, kw_only=True, slots=True)
class _SlotGraph:
    row_of_edge: IntArray
    slot_of_edge: IntArray
    edge_of_slot_edge: IntArray
    rows: int
    slots: int
    mentee_ids: IntArray
    mentor_ids: IntArray
    first_slot: IntArray
    places: IntArray


def compress(values: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct values (sorted) and each value's position among them, in linear time."""
    if values.size == 0:
        return values.astype(np.int64), values.astype(np.int64)
    present = np.zeros(int(values.max()) + 1, dtype=np.bool_)
    present[values] = True
    distinct = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return distinct, position[values]


def _slot_graph(
    edge_mentee: IntArray, edge_mentor: IntArray, capacity: IntArray, keep: BoolArray
) -> _SlotGraph:
    """Replicate each edge once per place of its mentor (only as many places as it has edges)."""
    edges = np.flatnonzero(keep)
    mentee_ids, rows = compress(edge_mentee[edges])
    mentor_ids, columns = compress(edge_mentor[edges])
    degree = np.bincount(columns, minlength=mentor_ids.shape[0])
    places = np.minimum(capacity[mentor_ids], degree)
    first_slot = np.concatenate([[0], np.cumsum(places)[:-1]])
    copies = places[columns]
    total = int(copies.sum())
    edge_positions = np.repeat(np.arange(edges.shape[0]), copies)
    within = np.arange(total) - np.repeat(np.cumsum(copies) - copies, copies)
    return _SlotGraph(
        row_of_edge=rows[edge_positions].astype(np.int64),
        slot_of_edge=(first_slot[columns][edge_positions] + within).astype(np.int64),
        edge_of_slot_edge=edges[edge_positions],
        rows=mentee_ids.shape[0],
        slots=int(places.sum()),
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        first_slot=first_slot.astype(np.int64),
        places=places.astype(np.int64),
    )


def _biadjacency(graph: _SlotGraph, values: FloatArray | None = None) -> sp.csr_array:
    data = np.ones(graph.row_of_edge.shape[0]) if values is None else values
    return sp.csr_array(
        (data, (graph.row_of_edge, graph.slot_of_edge)), shape=(graph.rows, graph.slots)
    )


def _maximum_matching(graph: _SlotGraph) -> IntArray:
    if graph.rows == 0 or graph.slots == 0:
        return np.full(graph.rows, -1, dtype=np.int64)
    matched = maximum_bipartite_matching(_biadjacency(graph), perm_type="column")
    return np.asarray(matched, dtype=np.int64)


def _sometimes_unmatched(graph: _SlotGraph, slot_of_row: IntArray) -> BoolArray:
    """Rows that some maximum matching leaves unmatched (alternating search from free rows)."""
    adjacency = _biadjacency(graph)
    row_of_slot = np.full(graph.slots, -1, dtype=np.int64)
    matched_rows = np.flatnonzero(slot_of_row >= 0)
    row_of_slot[slot_of_row[matched_rows]] = matched_rows
    reached = slot_of_row < 0
    frontier = np.flatnonzero(reached)
    while frontier.size:
        next_rows = row_of_slot[adjacency[frontier].indices]
        next_rows = next_rows[next_rows >= 0]
        next_rows = next_rows[~reached[next_rows]]
        reached[next_rows] = True
        frontier = np.flatnonzero(np.bincount(next_rows, minlength=graph.rows))
    return reached


@dataclass(frozen=True, kw_only=True, slots=True)
class _Solved:
    slot_of_row: IntArray
    """Real place per row, -1 when the row stays unmatched."""
    column_of_row: IntArray
    """Column per row in the solved problem, unmatched columns included."""
    edge_row: IntArray
    edge_column: IntArray
    edge_cost: FloatArray
    columns: int


def _min_cost(graph: _SlotGraph, cost: FloatArray, maximum_pairs: int) -> _Solved:
    """A minimum-cost assignment with ``maximum_pairs`` real pairs."""
    slot_of_row = _maximum_matching(graph)
    if maximum_pairs == graph.rows:
        _, slots = min_weight_full_bipartite_matching(_biadjacency(graph, cost))
        slots = np.asarray(slots, dtype=np.int64)
        return _Solved(
            slot_of_row=slots,
            column_of_row=slots,
            edge_row=graph.row_of_edge,
            edge_column=graph.slot_of_edge,
            edge_cost=cost,
            columns=graph.slots,
        )
    optional = np.flatnonzero(_sometimes_unmatched(graph, slot_of_row))
    unmatched_cost = INITIAL_UNMATCHED_COST
    rows = np.concatenate([graph.row_of_edge, optional])
    columns = np.concatenate([graph.slot_of_edge, graph.slots + np.arange(optional.shape[0])])
    width = graph.slots + optional.shape[0]
    while True:
        values = np.concatenate([cost, np.full(optional.shape[0], unmatched_cost)])
        adjacency = sp.csr_array((values, (rows, columns)), shape=(graph.rows, width))
        _, slots = min_weight_full_bipartite_matching(adjacency)
        slots = np.asarray(slots, dtype=np.int64)
        if int((slots < graph.slots).sum()) == maximum_pairs:
            return _Solved(
                slot_of_row=np.where(slots < graph.slots, slots, -1),
                column_of_row=slots,
                edge_row=rows,
                edge_column=columns,
                edge_cost=values,
                columns=width,
            )
        if unmatched_cost > 2.0 * graph.rows + 2.0:
            raise AssertionError("unmatched cost above 2n + 2 must give a maximum matching")
        unmatched_cost *= 8.0


def _potentials(
    solved: _Solved, rows: int, max_rounds: int
) -> tuple[FloatArray, FloatArray] | None:
    """Bellman–Ford potentials of the optimum's residual graph, or None if too slow to settle.

    Nodes are rows, columns and a sink; unused edges run row → column at their cost, used
    ones column → row at minus their cost; free columns reach the sink, the sink reaches used
    columns. At an optimum there is no negative cycle, so distances from a virtual source
    joined to every node settle.
    """
    used = solved.column_of_row[solved.edge_row] == solved.edge_column
    sink = rows + solved.columns
    column_used = np.zeros(solved.columns, dtype=np.bool_)
    column_used[solved.column_of_row] = True
    column_nodes = rows + np.arange(solved.columns)
    source = np.concatenate(
        [
            np.where(used, rows + solved.edge_column, solved.edge_row),
            np.where(column_used, sink, column_nodes),
        ]
    )
    target = np.concatenate(
        [
            np.where(used, solved.edge_row, rows + solved.edge_column),
            np.where(column_used, column_nodes, sink),
        ]
    )
    weight = np.concatenate(
        [np.where(used, -solved.edge_cost, solved.edge_cost), np.zeros(solved.columns)]
    )
    order = np.argsort(target, kind="stable")
    source, target, weight = source[order], target[order], weight[order]
    targets, starts = np.unique(target, return_index=True)
    distance = np.zeros(sink + 1, dtype=np.float64)
    for _ in range(max_rounds):
        best = np.minimum.reduceat(distance[source] + weight, starts)
        improved = best < distance[targets] - 1e-12
        if not improved.any():
            return distance[:rows], distance[rows : rows + solved.columns]
        distance[targets[improved]] = best[improved]
    return None


def _edges_chosen(graph: _SlotGraph, slot_of_row: IntArray) -> IntArray:
    key_of_slot_edge = graph.row_of_edge * max(graph.slots, 1) + graph.slot_of_edge
    matched = np.flatnonzero(slot_of_row >= 0)
    wanted = matched * max(graph.slots, 1) + slot_of_row[matched]
    order = np.argsort(key_of_slot_edge, kind="stable")
    positions = order[np.searchsorted(key_of_slot_edge, wanted, sorter=order)]
    return np.sort(graph.edge_of_slot_edge[positions])


def maximum_pair_count(
    edge_mentee: IntArray, edge_mentor: IntArray, capacity: IntArray
) -> tuple[int, IntArray]:
    """ν and the edges of one maximum matching (positions into the edge arrays)."""
    keep = np.ones(edge_mentee.shape[0], dtype=np.bool_)
    if not keep.size:
        return 0, np.zeros(0, dtype=np.int64)
    graph = _slot_graph(edge_mentee, edge_mentor, capacity, keep)
    slot_of_row = _maximum_matching(graph)
    return int((slot_of_row >= 0).sum()), _edges_chosen(graph, slot_of_row)


def assign(
    *,
    edge_mentee: IntArray,
    edge_mentor: IntArray,
    edge_score: FloatArray,
    capacity: IntArray,
    objective: Objective,
    mentee_count: int,
    potential_rounds: int = 0,
) -> Assignment:
    """Optimal edges for ``objective``; ``capacity`` is indexed by mentor (cohort index).

    With ``potential_rounds`` > 0 the optimum's dual potentials are computed too (for
    pricing edges left out of the candidates); they are absent when they did not settle.
    """
    if edge_mentee.shape[0] == 0:
        return Assignment(chosen=np.zeros(0, dtype=np.int64), maximum_pairs=0)
    keep = np.ones(edge_mentee.shape[0], dtype=np.bool_)
    graph = _slot_graph(edge_mentee, edge_mentor, capacity, keep)
    maximum_pairs = int((_maximum_matching(graph) >= 0).sum())
    if objective is Objective.FAIREST:
        threshold = _best_threshold(edge_mentee, edge_mentor, edge_score, capacity, maximum_pairs)
        keep = edge_score >= threshold
        graph = _slot_graph(edge_mentee, edge_mentor, capacity, keep)
    cost = 2.0 - edge_score[graph.edge_of_slot_edge]
    solved = _min_cost(graph, cost, maximum_pairs)
    chosen = _edges_chosen(graph, solved.slot_of_row)
    if potential_rounds <= 0:
        return Assignment(chosen=chosen, maximum_pairs=maximum_pairs)
    potentials = _potentials(solved, graph.rows, potential_rounds)
    if potentials is None:
        return Assignment(chosen=chosen, maximum_pairs=maximum_pairs)
    row_distance, column_distance = potentials
    mentee_potential = np.zeros(mentee_count, dtype=np.float64)
    mentee_potential[graph.mentee_ids] = row_distance
    mentor_potential = np.zeros(capacity.shape[0], dtype=np.float64)
    slot_mentor = np.repeat(np.arange(graph.mentor_ids.shape[0]), graph.places)
    highest = np.full(graph.mentor_ids.shape[0], -np.inf)
    np.maximum.at(highest, slot_mentor, column_distance[: graph.slots])
    # A place left out of the graph (capacity above degree) is free: potential 0.
    highest[capacity[graph.mentor_ids] > graph.places] = 0.0
    mentor_potential[graph.mentor_ids] = highest
    return Assignment(
        chosen=chosen,
        maximum_pairs=maximum_pairs,
        mentee_potential=mentee_potential,
        mentor_potential=mentor_potential,
    )


def _best_threshold(
    edge_mentee: IntArray,
    edge_mentor: IntArray,
    edge_score: FloatArray,
    capacity: IntArray,
    maximum_pairs: int,
) -> float:
    thresholds = np.unique(edge_score)
    low, high = 0, thresholds.shape[0] - 1
    while low < high:
        middle = (low + high + 1) // 2
        graph = _slot_graph(edge_mentee, edge_mentor, capacity, edge_score >= thresholds[middle])
        if int((_maximum_matching(graph) >= 0).sum()) == maximum_pairs:
            low = middle
        else:
            high = middle - 1
    return float(thresholds[low])
