"""The pairing engine: one pure function from a cohort to explained, optimal pairs.

``solve`` does no IO and reads no clock; calling it commits nothing, so previewing a round
is calling it (``preview`` is the same function under the name a caller looks for).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from binome_pairing.domain.assignment import assign
from binome_pairing.domain.candidates import CandidateGraph, generate_candidates, price_edges
from binome_pairing.domain.cardinality import (
    Cardinality,
    Edges,
    reach_maximum,
    simple_upper_bound,
)
from binome_pairing.domain.encoding import (
    EncodedCohort,
    FloatArray,
    IntArray,
    encode_cohort,
    popcount,
)
from binome_pairing.domain.evaluation import (
    active_constraints,
    constraint_holds,
    criterion_scores,
    feasible_edges,
    pair_scores,
    score_edges,
    shared_availability_minutes,
)
from binome_pairing.domain.explanations import PairFacts, need_coverage, pair_explanation
from binome_pairing.domain.locking import lock
from binome_pairing.domain.results import (
    DEFAULT_TUNING,
    CandidateStrategy,
    CardinalityProof,
    MatchingResult,
    MatchingStats,
    OptimalityProof,
    ProposedPair,
    Severity,
    SolverTuning,
    errors_of,
)
from binome_pairing.domain.taxonomy import topic_labels
from binome_pairing.domain.unmatched import unmatched_participants
from binome_pairing.domain.validation import validate_cohort
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole, ReportingLine
from binome_shared.contracts.programme import (
    Criterion,
    HardConstraint,
    Objective,
    ProgrammeRules,
)


def excluded_pairs(
    *,
    rules: ProgrammeRules,
    previous_pairs: Iterable[tuple[str, str]] = (),
    rejected_pairs: Iterable[tuple[str, str]] = (),
) -> set[tuple[str, str]]:
    """The (mentor_id, mentee_id) pairs a round must not form.

    HR rejections always hold; earlier pairs only when the programme never repeats pairs.
    """
    excluded = set(rejected_pairs)
    if rules.constraints.never_repeat_pairs:
        excluded.update(previous_pairs)
    return excluded


def solve(
    *,
    rules: ProgrammeRules,
    participants: Sequence[ParticipantProfile],
    reporting_lines: Iterable[ReportingLine] = (),
    locked_pairs: Sequence[tuple[str, str]] = (),
    forbidden_pairs: Collection[tuple[str, str]] = (),
    imposed_pairs: Sequence[tuple[str, str]] = (),
    objective: Objective | None = None,
    tuning: SolverTuning = DEFAULT_TUNING,
    positions: Sequence[int] | None = None,
) -> MatchingResult:
    """Pair the cohort optimally and explain every pair and every unmatched participant.

    ``participants`` holds mentors and mentees (their ``role`` says which). ``locked_pairs``
    (mentor_id, mentee_id) are kept as they are and use their mentor's places: only the
    other mentees are solved, which is how a withdrawal or a dissolved pair is re-paired with
    minimal disruption (pass no locked pairs for a full round). ``imposed_pairs``
    (mentor_id, mentee_id) are fixed the same way, after the kept ones, whatever the hard
    constraints (each pair says which it breaks; the caller decides whether HR may), and are
    explained as imposed; one that cannot be fixed is reported under ``imposed_pairs``
    in ``problems``. ``forbidden_pairs``
    (mentor_id, mentee_id) are never formed (see :func:`excluded_pairs`). ``objective``
    defaults to the programme's. Invalid records are left out and reported in ``problems``;
    ``positions`` are the participants' indices in the caller's input, so that each problem
    points at its record there (by default their order in ``participants``).
    """
    chosen_objective = objective or rules.objective
    lines = list(reporting_lines)
    # People are enrolled only with topics of the taxonomy; one naming a topic the programme
    # has since dropped is still solved (that topic scores nothing): leaving them out would
    # drop a kept pair's member and give their mentor's place away.
    validation = validate_cohort(
        rules=rules,
        participants=participants,
        positions=positions,
        reporting_lines=lines,
        unknown_topic_severity=Severity.WARNING,
    )
    mentors = [p for p in validation.accepted if p.role is ParticipantRole.MENTOR]
    mentees = [p for p in validation.accepted if p.role is ParticipantRole.MENTEE]
    cohort = encode_cohort(
        rules=rules,
        mentees=mentees,
        mentors=mentors,
        reporting_lines=lines,
        forbidden_pairs=forbidden_pairs,
    )
    locked = lock(cohort, locked_pairs, imposed_pairs)
    residual = cohort.mentors.capacity - np.bincount(locked.mentor, minlength=len(mentors))
    is_free = np.ones(len(mentees), dtype=np.bool_)
    is_free[locked.mentee] = False
    rows = np.flatnonzero(is_free)
    columns = np.flatnonzero(residual > 0)
    graph = generate_candidates(cohort, rows=rows, columns=columns, tuning=tuning)
    optimum = _optimise(
        cohort,
        graph,
        rows=rows,
        columns=columns,
        residual=residual,
        objective=chosen_objective,
        tuning=tuning,
    )
    new_mentee, new_mentor, new_score = optimum.mentee, optimum.mentor, optimum.score
    proven = optimum.cardinality.proof is not CardinalityProof.UNVERIFIED
    upper_bound = int(new_mentee.shape[0]) if proven else optimum.cardinality.upper_bound
    kept = ~locked.imposed
    pairs = _explain_pairs(cohort, locked.mentee[kept], locked.mentor[kept], locked=True)
    pairs += _explain_pairs(
        cohort, locked.mentee[locked.imposed], locked.mentor[locked.imposed], imposed=True
    )
    pairs += _explain_pairs(cohort, new_mentee, new_mentor)
    unmatched = unmatched_participants(
        cohort,
        graph,
        matched_mentees=np.concatenate([locked.mentee, new_mentee]),
        matched_mentors=np.concatenate([locked.mentor, new_mentor]),
        pairs_missing_at_most=upper_bound - int(new_mentee.shape[0]),
        tuning=tuning,
    )
    problems = [*validation.problems, *locked.problems]
    stats = MatchingStats(
        objective=chosen_objective,
        mentors=len(mentors),
        mentees=len(mentees),
        mentor_places=int(cohort.mentors.capacity.sum()),
        pairs=len(pairs),
        kept_pairs=int(kept.sum()),
        imposed_pairs=int(locked.imposed.sum()),
        new_pairs=int(new_mentee.shape[0]),
        unmatched_mentees=sum(1 for item in unmatched if item.role is ParticipantRole.MENTEE),
        unmatched_mentors=sum(1 for item in unmatched if item.role is ParticipantRole.MENTOR),
        mentees_with_feasible_mentor=int((graph.feasible_per_mentee[rows] > 0).sum()),
        max_new_pairs_upper_bound=upper_bound,
        pairs_missing_at_most=upper_bound - int(new_mentee.shape[0]),
        candidate_edges=optimum.edges,
        strategy=graph.strategy,
        cardinality_proof=optimum.cardinality.proof,
        augmenting_searches=optimum.cardinality.searches,
        optimality_proof=optimum.optimality,
        pricing_rounds=optimum.pricing_rounds,
        total_score=float(new_score.sum()),
        score_quantiles=_quantiles(new_score),
        rejected_records=len(errors_of(problems)),
    )
    return MatchingResult(pairs=pairs, unmatched=unmatched, problems=problems, stats=stats)


preview = solve
"""A preview is a solve: the engine is pure, nothing is committed until the caller does."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Optimum:
    mentee: IntArray
    mentor: IntArray
    score: FloatArray
    cardinality: Cardinality
    optimality: OptimalityProof
    pricing_rounds: int
    edges: int


def _optimise(
    cohort: EncodedCohort,
    graph: CandidateGraph,
    *,
    rows: IntArray,
    columns: IntArray,
    residual: IntArray,
    objective: Objective,
    tuning: SolverTuning,
) -> _Optimum:
    # The block ranking is exact for feasibility; this re-check guards the invariant cheaply.
    keep = feasible_edges(cohort, graph.mentee, graph.mentor)
    edges = Edges(
        mentee=graph.mentee[keep],
        mentor=graph.mentor[keep],
        score=score_edges(cohort, graph.mentee[keep], graph.mentor[keep]),
    )
    exhaustive = graph.strategy is CandidateStrategy.ALL_FEASIBLE
    priceable = (
        not exhaustive
        and objective is Objective.MAX_TOTAL
        and rows.shape[0] * columns.shape[0] <= tuning.exact_availability_max_cells
    )
    optimality = (
        OptimalityProof.ALL_FEASIBLE_EDGES if exhaustive else OptimalityProof.CANDIDATES_ONLY
    )
    if exhaustive:
        cardinality = Cardinality(
            edges=edges,
            proof=CardinalityProof.ALL_FEASIBLE_EDGES,
            upper_bound=simple_upper_bound(graph, columns=columns, residual=residual),
            searches=0,
        )
    else:
        cardinality = reach_maximum(
            cohort, graph, edges, rows=rows, columns=columns, residual=residual, tuning=tuning
        )
    edges = cardinality.edges
    rounds = 0
    while True:
        result = assign(
            edge_mentee=edges.mentee,
            edge_mentor=edges.mentor,
            edge_score=edges.score,
            capacity=residual,
            objective=objective,
            mentee_count=len(cohort.mentees),
            potential_rounds=tuning.potential_rounds if priceable else 0,
        )
        if not priceable or result.mentee_potential is None or rounds >= tuning.pricing_rounds:
            break
        rounds += 1
        priced = edges.adding(
            cohort,
            *price_edges(cohort, rows=rows, columns=columns, assignment=result, tuning=tuning),
        )
        if len(priced) == len(edges):
            optimality = OptimalityProof.DUAL_CERTIFICATE
            break
        edges = priced
    chosen = result.chosen
    return _Optimum(
        mentee=edges.mentee[chosen],
        mentor=edges.mentor[chosen],
        score=edges.score[chosen],
        cardinality=cardinality,
        optimality=optimality,
        pricing_rounds=rounds,
        edges=len(edges),
    )


def _quantiles(scores: FloatArray) -> dict[str, float]:
    if scores.size == 0:
        return {}
    points = np.quantile(scores, [0.0, 0.1, 0.5, 0.9, 1.0])
    names = ("min", "p10", "p50", "p90", "max")
    summary = {name: round(float(value), 6) for name, value in zip(names, points, strict=True)}
    summary["mean"] = round(float(scores.mean()), 6)
    return summary


def _explain_pairs(
    cohort: EncodedCohort,
    mentee: IntArray,
    mentor: IntArray,
    *,
    locked: bool = False,
    imposed: bool = False,
) -> list[ProposedPair]:
    if mentee.shape[0] == 0:
        return []
    constraints = active_constraints(cohort)
    breakdowns = criterion_scores(cohort, mentee, mentor)
    scores = pair_scores(cohort, mentee, mentor)
    minutes = shared_availability_minutes(cohort, mentee, mentor)
    grade_gaps = cohort.mentees.grade[mentee] - cohort.mentors.grade[mentor]
    interests = popcount(cohort.mentees.interests[mentee] & cohort.mentors.interests[mentor])
    holds = {item: constraint_holds(cohort, item, mentee, mentor) for item in constraints}
    labels = topic_labels(cohort.rules)
    pairs: list[ProposedPair] = []
    for position in range(mentee.shape[0]):
        mentee_profile = cohort.mentees.profiles[int(mentee[position])]
        mentor_profile = cohort.mentors.profiles[int(mentor[position])]
        covered, uncovered = need_coverage(mentee_profile, mentor_profile)
        checked = [item for item in constraints if holds[item][position]]
        checked.append(HardConstraint.MENTOR_CAPACITY)
        violated = [item for item in constraints if not holds[item][position]]
        breakdown = {
            criterion: round(float(breakdowns[criterion][position]), 6) for criterion in Criterion
        }
        score = round(float(scores[position]), 6)
        pairs.append(
            ProposedPair(
                mentor_id=mentor_profile.participant_id,
                mentee_id=mentee_profile.participant_id,
                score=score,
                breakdown=breakdown,
                covered_needs=covered,
                uncovered_needs=uncovered,
                constraints_checked=checked,
                constraints_violated=violated,
                locked=locked,
                imposed=imposed,
                explanation=pair_explanation(
                    PairFacts(
                        score=score,
                        breakdown=breakdown,
                        covered=covered,
                        need_count=len(mentee_profile.learning_needs),
                        shared_minutes=int(minutes[position]),
                        grade_gap=int(grade_gaps[position]),
                        shared_interests=int(interests[position]),
                        checked=checked,
                        violated=violated,
                        locked=locked,
                        imposed=imposed,
                        topic_labels=labels,
                        mentor_organisation=mentor_profile.organisation,
                        mentee_organisation=mentee_profile.organisation,
                    )
                ),
            )
        )
    return pairs
