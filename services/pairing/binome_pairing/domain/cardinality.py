"""Candidate edges grown until they hold a maximum matching of the full feasible graph.

Order of the attempts, cheapest first:

1. A maximum matching over the candidates (Hopcroft–Karp). If it reaches the simple upper
   bound min(mentees with a feasible mentor, Σ min(places, feasible mentees)), it is
   maximum (``upper_bound_reached``).
2. Repair (up to ``repair_rounds``): mentees it leaves out get their best edges to the
   mentors that still have places, so that the edges added are good ones.
3. Augmenting-path search over every feasible pair (:mod:`.augmenting`): either it proves
   the matching maximum (``no_augmenting_path``) or its edges join the candidates and the
   matching grows by at least one pair. Repeated until proven; only
   ``augmenting_searches`` (unbounded by default) can stop it earlier, and the round then
   says how many pairs may be missing (``unverified``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from binome_pairing.domain.assignment import maximum_pair_count
from binome_pairing.domain.augmenting import FeasibleGraph, augmenting_edges
from binome_pairing.domain.candidates import CandidateGraph, generate_candidates
from binome_pairing.domain.encoding import EncodedCohort, FloatArray, IntArray
from binome_pairing.domain.evaluation import score_edges
from binome_pairing.domain.results import CardinalityProof, SolverTuning


@dataclass(frozen=True, kw_only=True, slots=True)
class Edges:
    """Candidate edges (cohort indices) with their exact scores."""

    mentee: IntArray
    mentor: IntArray
    score: FloatArray

    def adding(self, cohort: EncodedCohort, mentee: IntArray, mentor: IntArray) -> Edges:
        """These edges and those of ``mentee``/``mentor`` not among them yet, scored."""
        keys = np.unique(cohort.pair_keys(mentee, mentor))
        keys = keys[~np.isin(keys, cohort.pair_keys(self.mentee, self.mentor))]
        added_mentee = keys // len(cohort.mentors)
        added_mentor = keys % len(cohort.mentors)
        return Edges(
            mentee=np.concatenate([self.mentee, added_mentee]),
            mentor=np.concatenate([self.mentor, added_mentor]),
            score=np.concatenate([self.score, score_edges(cohort, added_mentee, added_mentor)]),
        )

    def __len__(self) -> int:
        return int(self.mentee.shape[0])


@dataclass(frozen=True, kw_only=True, slots=True)
class Cardinality:
    """The edges to solve on, and what is known of the largest number of new pairs."""

    edges: Edges
    proof: CardinalityProof
    upper_bound: int
    """The simple upper bound (when proven, the maximum is the count over ``edges``)."""
    searches: int
    """Augmenting-path searches over the full feasible graph."""


def simple_upper_bound(graph: CandidateGraph, *, columns: IntArray, residual: IntArray) -> int:
    """min(mentees with a feasible mentor, Σ over mentors of min(places, feasible mentees))."""
    mentees = int((graph.feasible_per_mentee > 0).sum())
    places = int(np.minimum(residual[columns], graph.feasible_per_mentor[columns]).sum())
    return min(mentees, places)


def reach_maximum(
    cohort: EncodedCohort,
    graph: CandidateGraph,
    edges: Edges,
    *,
    rows: IntArray,
    columns: IntArray,
    residual: IntArray,
    tuning: SolverTuning,
) -> Cardinality:
    """Grow ``edges`` until a maximum matching over them is maximum over every feasible pair."""
    bound = simple_upper_bound(graph, columns=columns, residual=residual)
    feasible_graph: FeasibleGraph | None = None
    repairs = searches = 0
    while True:
        count, matching = maximum_pair_count(edges.mentee, edges.mentor, residual)
        if count >= bound:
            return Cardinality(
                edges=edges,
                proof=CardinalityProof.UPPER_BOUND_REACHED,
                upper_bound=bound,
                searches=searches,
            )
        if repairs < tuning.repair_rounds:
            repairs += 1
            repaired = edges.adding(
                cohort,
                *_repair_edges(
                    cohort, graph, edges, chosen=matching, residual=residual, tuning=tuning
                ),
            )
            if len(repaired) > len(edges):
                edges = repaired
                continue
            repairs = tuning.repair_rounds
        if tuning.augmenting_searches is not None and searches >= tuning.augmenting_searches:
            return Cardinality(
                edges=edges, proof=CardinalityProof.UNVERIFIED, upper_bound=bound, searches=searches
            )
        if feasible_graph is None:
            feasible_graph = FeasibleGraph.build(
                cohort, rows, columns, chunk_cells=tuning.chunk_cells
            )
        searches += 1
        found = augmenting_edges(
            feasible_graph,
            matched_mentee=edges.mentee[matching],
            matched_mentor=edges.mentor[matching],
            places=residual,
        )
        if found is None:
            return Cardinality(
                edges=edges,
                proof=CardinalityProof.NO_AUGMENTING_PATH,
                upper_bound=bound,
                searches=searches,
            )
        grown = edges.adding(cohort, *found)
        if len(grown) == len(edges):
            # An augmenting path inside the candidates would contradict Hopcroft–Karp.
            raise AssertionError("augmenting path search added no edge")
        edges = grown


def _repair_edges(
    cohort: EncodedCohort,
    graph: CandidateGraph,
    edges: Edges,
    *,
    chosen: IntArray,
    residual: IntArray,
    tuning: SolverTuning,
) -> tuple[IntArray, IntArray]:
    """Best edges between mentees left unmatched and mentors with a place left."""
    matched = np.zeros(len(cohort.mentees), dtype=np.bool_)
    matched[edges.mentee[chosen]] = True
    used = np.bincount(edges.mentor[chosen], minlength=len(cohort.mentors))
    rows = np.flatnonzero(~matched & (graph.feasible_per_mentee > 0))
    columns = np.flatnonzero((residual - used > 0) & (graph.feasible_per_mentor > 0))
    if rows.size == 0 or columns.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    narrow = replace(tuning, mentee_top_k=tuning.repair_top_k, mentor_top_k=0)
    repair = generate_candidates(cohort, rows=rows, columns=columns, tuning=narrow)
    return repair.mentee, repair.mentor
