"""Globally optimal assignment of mentees to mentor places over a set of candidate edges.

The objective is lexicographic: first the largest number of pairs, then either the best
total score (``MAX_TOTAL``) or the best worst pair and then the best total (``FAIREST``).

Method. A minimum-cost maximum flow (OR-Tools' cost-scaling push-relabel,
``SimpleMinCostFlow.solve_max_flow_with_min_cost``) on source → mentee (capacity 1) →
mentor (capacity 1, cost −score) → sink (capacity: the mentor's places): the largest flow
is the largest number of pairs ν, and the cheapest such flow has the best total. Scores
are solved on a grid of 2⁻³⁰ (integers for the solver, exact sums for the duals).
For ``FAIREST`` the best threshold θ such that edges with score ≥ θ still allow ν pairs is
found by binary search over the distinct scores (Hopcroft–Karp on mentors replicated into
one column per place, ``maximum_bipartite_matching``), then the total is maximised above θ.

Dual prices (for pricing edges left out of the candidates) are Bellman–Ford potentials of
the optimum's residual graph on mentor places (cost 2 − score), where each mentee that
some maximum matching leaves out has a private "unmatched" column of cost 2n + 4: an
augmenting path of r new edges costs at most r + 1 and frees such a column, so the
optimum keeps its ν pairs there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from scipy.sparse.csgraph import maximum_bipartite_matching

from binome_pairing.domain.encoding import BoolArray, FloatArray, IntArray
from binome_shared.contracts.programme import Objective

SCORE_SCALE = float(1 << 30)
"""Scores are solved as integers of this many units: exact sums, negligible rounding."""


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


def _biadjacency(graph: _SlotGraph) -> sp.csr_array:
    return sp.csr_array(
        (np.ones(graph.row_of_edge.shape[0]), (graph.row_of_edge, graph.slot_of_edge)),
        shape=(graph.rows, graph.slots),
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


def _min_cost_flow(
    edge_mentee: IntArray,
    edge_mentor: IntArray,
    edge_score: FloatArray,
    capacity: IntArray,
    keep: BoolArray,
) -> IntArray:
    """Positions of the kept edges of a maximum matching of largest total score.

    Source → mentee (capacity 1) → mentor (capacity 1, cost −score) → sink (the mentor's
    capacity): the largest flow is the largest number of pairs, and among such flows the
    cheapest has the best total. Scores are scaled to integers (``SCORE_SCALE``): the total
    lost to rounding is below ``pairs / SCORE_SCALE``.
    """
    edges = np.flatnonzero(keep)
    if edges.size == 0:
        return edges.astype(np.int64)
    mentee_ids, rows = compress(edge_mentee[edges])
    mentor_ids, columns = compress(edge_mentor[edges])
    source = mentee_ids.shape[0] + mentor_ids.shape[0]
    sink = source + 1
    mentor_nodes = mentee_ids.shape[0] + np.arange(mentor_ids.shape[0])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([rows, np.full(mentee_ids.shape[0], source), mentor_nodes]).astype(np.int32),
        np.concatenate(
            [
                mentee_ids.shape[0] + columns,
                np.arange(mentee_ids.shape[0]),
                np.full(mentor_ids.shape[0], sink),
            ]
        ).astype(np.int32),
        np.concatenate(
            [np.ones(edges.shape[0] + mentee_ids.shape[0], dtype=np.int64), capacity[mentor_ids]]
        ).astype(np.int64),
        np.concatenate(
            [
                -np.rint(edge_score[edges] * SCORE_SCALE).astype(np.int64),
                np.zeros(mentee_ids.shape[0] + mentor_ids.shape[0], dtype=np.int64),
            ]
        ),
    )
    flow.set_node_supply(source, int(mentee_ids.shape[0]))
    flow.set_node_supply(sink, -int(mentee_ids.shape[0]))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise AssertionError(f"min-cost flow did not solve: {status}")
    used = np.asarray(flow.flows(np.arange(edges.shape[0], dtype=np.int32))) > 0
    return edges[used]


def _on_slots(
    graph: _SlotGraph,
    edge_mentee: IntArray,
    edge_mentor: IntArray,
    chosen: IntArray,
    cost: FloatArray,
) -> _Solved:
    """The chosen edges as rows assigned to places, in the graph whose residual gives duals.

    A mentor's chosen edges take its places in turn. Each row that some maximum matching
    leaves out gets a private column of cost ``2 rows + 4``. Edge costs are in [1, 2], so
    augmenting an assignment along a path of r new edges adds at most r + 1 and frees a
    private column: no assignment with fewer pairs is cheaper, the chosen edges are
    optimal in this graph too, and its residual graph has no negative cycle.
    """
    row = np.searchsorted(graph.mentee_ids, edge_mentee[chosen])
    column = np.searchsorted(graph.mentor_ids, edge_mentor[chosen])
    order = np.argsort(column, kind="stable")
    row, column = row[order], column[order]
    group_start = np.r_[0, np.flatnonzero(np.diff(column)) + 1]
    group_size = np.diff(np.r_[group_start, column.shape[0]])
    rank = np.arange(column.shape[0]) - np.repeat(group_start, group_size)
    slot_of_row = np.full(graph.rows, -1, dtype=np.int64)
    slot_of_row[row] = graph.first_slot[column] + rank
    if (slot_of_row >= 0).all():
        return _Solved(
            slot_of_row=slot_of_row,
            column_of_row=slot_of_row,
            edge_row=graph.row_of_edge,
            edge_column=graph.slot_of_edge,
            edge_cost=cost,
            columns=graph.slots,
        )
    optional = np.flatnonzero(_sometimes_unmatched(graph, slot_of_row))
    private_column = graph.slots + np.arange(optional.shape[0])
    column_of_row = slot_of_row.copy()
    left_out = slot_of_row[optional] < 0
    column_of_row[optional[left_out]] = private_column[left_out]
    return _Solved(
        slot_of_row=slot_of_row,
        column_of_row=column_of_row,
        edge_row=np.concatenate([graph.row_of_edge, optional]),
        edge_column=np.concatenate([graph.slot_of_edge, private_column]),
        edge_cost=np.concatenate([cost, np.full(optional.shape[0], 2.0 * graph.rows + 4.0)]),
        columns=graph.slots + optional.shape[0],
    )


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
    # The solver sees scores on a grid of 2^-30; so do the duals, so that they match exactly.
    score = np.rint(edge_score * SCORE_SCALE) / SCORE_SCALE
    keep = np.ones(edge_mentee.shape[0], dtype=np.bool_)
    if objective is Objective.FAIREST:
        graph = _slot_graph(edge_mentee, edge_mentor, capacity, keep)
        maximum_pairs = int((_maximum_matching(graph) >= 0).sum())
        threshold = _best_threshold(edge_mentee, edge_mentor, edge_score, capacity, maximum_pairs)
        keep = edge_score >= threshold
    chosen = _min_cost_flow(edge_mentee, edge_mentor, score, capacity, keep)
    maximum_pairs = int(chosen.shape[0])
    if potential_rounds <= 0:
        return Assignment(chosen=chosen, maximum_pairs=maximum_pairs)
    graph = _slot_graph(edge_mentee, edge_mentor, capacity, keep)
    cost = 2.0 - score[graph.edge_of_slot_edge]
    solved = _on_slots(graph, edge_mentee, edge_mentor, chosen, cost)
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
