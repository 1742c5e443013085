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
    PAIR_BY_PAIR,
    active_constraints,
    constraint_holds,
    criterion_scores,
    deciding_attributes,
    feasible_edges,
    pair_scores,
    score_edges,
    shared_availability_minutes,
)
from binome_pairing.domain.explanations import need_coverage, pair_explanation, unmatched_reason
from binome_pairing.domain.results import (
    DEFAULT_TUNING,
    CandidateStrategy,
    CardinalityProof,
    MatchingResult,
    MatchingStats,
    OptimalityProof,
    ProposedPair,
    RecordProblem,
    Severity,
    SolverTuning,
    Unmatched,
    UnmatchedReason,
)
from binome_pairing.domain.validation import validate_cohort
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole, ReportingLine
from binome_shared.contracts.programme import (
    Criterion,
    HardConstraint,
    Objective,
    ProgrammeRules,
)
from binome_shared.contracts.values import LocalisedText

LOCKED_PAIRS = "locked_pairs"


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


@dataclass(frozen=True, kw_only=True, slots=True)
class _Locked:
    mentee: IntArray
    mentor: IntArray
    problems: list[RecordProblem]


def _lock(cohort: EncodedCohort, locked_pairs: Sequence[tuple[str, str]]) -> _Locked:
    mentee_index = {person_id: row for row, person_id in enumerate(cohort.mentees.ids)}
    mentor_index = {person_id: row for row, person_id in enumerate(cohort.mentors.ids)}
    used = np.zeros(len(cohort.mentors), dtype=np.int64)
    taken: set[str] = set()
    mentees: list[int] = []
    mentors: list[int] = []
    problems: list[RecordProblem] = []

    def refuse(index: int, mentee_id: str, code: str, fr: str, en: str) -> None:
        problems.append(
            RecordProblem(
                collection=LOCKED_PAIRS,
                index=index,
                record_id=mentee_id,
                field="",
                code=code,
                severity=Severity.ERROR,
                message=LocalisedText(fr=fr, en=en),
            )
        )

    for index, (mentor_id, mentee_id) in enumerate(locked_pairs):
        if mentor_id not in mentor_index or mentee_id not in mentee_index:
            refuse(
                index,
                mentee_id,
                "unknown_participant",
                "mentor ou mentoré absent de la cohorte ; binôme non conservé",
                "mentor or mentee not in the cohort; pair not kept",
            )
            continue
        if mentee_id in taken:
            refuse(
                index,
                mentee_id,
                "mentee_already_paired",
                "ce mentoré a déjà un binôme conservé",
                "this mentee already has a kept pair",
            )
            continue
        column = mentor_index[mentor_id]
        if used[column] >= cohort.mentors.capacity[column]:
            refuse(
                index,
                mentee_id,
                "mentor_over_capacity",
                "le mentor n'a plus de place ; binôme non conservé",
                "the mentor has no place left; pair not kept",
            )
            continue
        used[column] += 1
        taken.add(mentee_id)
        mentees.append(mentee_index[mentee_id])
        mentors.append(column)
    return _Locked(
        mentee=np.array(mentees, dtype=np.int64),
        mentor=np.array(mentors, dtype=np.int64),
        problems=problems,
    )


def solve(
    *,
    rules: ProgrammeRules,
    participants: Sequence[ParticipantProfile],
    reporting_lines: Iterable[ReportingLine] = (),
    locked_pairs: Sequence[tuple[str, str]] = (),
    forbidden_pairs: Collection[tuple[str, str]] = (),
    objective: Objective | None = None,
    tuning: SolverTuning = DEFAULT_TUNING,
    positions: Sequence[int] | None = None,
) -> MatchingResult:
    """Pair the cohort optimally and explain every pair and every unmatched participant.

    ``participants`` holds mentors and mentees (their ``role`` says which). ``locked_pairs``
    (mentor_id, mentee_id) are kept as they are and use their mentor's places: only the
    other mentees are solved, which is how a withdrawal or a dissolved pair is re-paired with
    minimal disruption (pass no locked pairs for a full round). ``forbidden_pairs``
    (mentor_id, mentee_id) are never formed (see :func:`excluded_pairs`). ``objective``
    defaults to the programme's. Invalid records are left out and reported in ``problems``;
    ``positions`` are the participants' indices in the caller's input, so that each problem
    points at its record there (by default their order in ``participants``).
    """
    chosen_objective = objective or rules.objective
    lines = list(reporting_lines)
    validation = validate_cohort(
        rules=rules, participants=participants, positions=positions, reporting_lines=lines
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
    locked = _lock(cohort, locked_pairs)
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
    pairs = _explain_pairs(cohort, locked.mentee, locked.mentor, locked=True)
    pairs += _explain_pairs(cohort, new_mentee, new_mentor, locked=False)
    unmatched = _unmatched(
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
        kept_pairs=int(locked.mentee.shape[0]),
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
        rejected_records=sum(1 for item in problems if item.severity is Severity.ERROR),
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
    cohort: EncodedCohort, mentee: IntArray, mentor: IntArray, *, locked: bool
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
                explanation=pair_explanation(
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
                ),
            )
        )
    return pairs


@dataclass(frozen=True, kw_only=True, slots=True)
class _Eliminations:
    feasible: IntArray
    ruled_out: dict[HardConstraint, IntArray]


def _eliminations(
    cohort: EncodedCohort, seekers: IntArray, *, seekers_are_mentees: bool, tuning: SolverTuning
) -> _Eliminations:
    """Per seeker: feasible counterparts, and how many each constraint rules out on its own.

    A constraint's count depends only on the attributes it reads, so it is computed once
    per distinct value among the seekers (pair-by-pair constraints: by counting keys). The
    joint count is needed only for seekers that no constraint rules out on its own; it is
    computed once per distinct combination of attributes, less their excluded pairs.
    """
    others = len(cohort.mentors) if seekers_are_mentees else len(cohort.mentees)
    constraints = active_constraints(cohort)
    by_attributes = [item for item in constraints if item not in PAIR_BY_PAIR]
    ruled_out: dict[HardConstraint, IntArray] = {}
    for item in constraints:
        if item in PAIR_BY_PAIR:
            ruled_out[item] = _pair_keys_per_seeker(
                cohort, PAIR_BY_PAIR[item](cohort), seekers, seekers_are_mentees
            )
        else:
            ruled_out[item] = others - _holding_counterparts(
                cohort, [item], seekers, seekers_are_mentees=seekers_are_mentees, tuning=tuning
            )
    feasible = np.zeros(seekers.shape[0], dtype=np.int64)
    someone_left = np.ones(seekers.shape[0], dtype=np.bool_)
    for counts in ruled_out.values():
        someone_left &= counts < others
    open_seekers = seekers[someone_left]
    if open_seekers.size:
        holding = _holding_counterparts(
            cohort,
            by_attributes,
            open_seekers,
            seekers_are_mentees=seekers_are_mentees,
            tuning=tuning,
        )
        holding -= _excluded_but_otherwise_feasible(
            cohort, by_attributes, open_seekers, seekers_are_mentees
        )
        feasible[someone_left] = holding
    return _Eliminations(feasible=feasible, ruled_out=ruled_out)


def _holding_counterparts(
    cohort: EncodedCohort,
    constraints: list[HardConstraint],
    seekers: IntArray,
    *,
    seekers_are_mentees: bool,
    tuning: SolverTuning,
) -> IntArray:
    """Per seeker, how many counterparts meet every constraint of ``constraints``."""
    others = len(cohort.mentors) if seekers_are_mentees else len(cohort.mentees)
    if not constraints:
        return np.full(seekers.shape[0], others, dtype=np.int64)
    attributes = np.hstack(
        [
            deciding_attributes(cohort, item, mentor_side=not seekers_are_mentees)[seekers]
            for item in constraints
        ]
    )
    _, first_seen, inverse = np.unique(attributes, axis=0, return_index=True, return_inverse=True)
    representatives = seekers[first_seen]
    counts = np.zeros(representatives.shape[0], dtype=np.int64)
    step = max(1, tuning.chunk_cells // max(others, 1))
    counterpart = np.arange(others)
    for first in range(0, representatives.shape[0], step):
        block = representatives[first : first + step, np.newaxis]
        mentee, mentor = (block, counterpart) if seekers_are_mentees else (counterpart, block)
        all_hold = np.ones((block.shape[0], others), dtype=np.bool_)
        for item in constraints:
            all_hold &= constraint_holds(cohort, item, mentee, mentor)
        counts[first : first + step] = all_hold.sum(axis=1)
    return counts[inverse.reshape(-1)]


def _seeker_and_other(
    cohort: EncodedCohort, keys: IntArray, seekers_are_mentees: bool
) -> tuple[IntArray, IntArray]:
    mentor_count = len(cohort.mentors)
    if seekers_are_mentees:
        return keys // mentor_count, keys % mentor_count
    return keys % mentor_count, keys // mentor_count


def _pair_keys_per_seeker(
    cohort: EncodedCohort, keys: IntArray, seekers: IntArray, seekers_are_mentees: bool
) -> IntArray:
    """How many of the (distinct) pair keys involve each seeker."""
    size = len(cohort.mentees) if seekers_are_mentees else len(cohort.mentors)
    seeker_of_key, _ = _seeker_and_other(cohort, keys, seekers_are_mentees)
    counts: IntArray = np.bincount(seeker_of_key, minlength=size)[seekers]
    return counts


def _excluded_but_otherwise_feasible(
    cohort: EncodedCohort,
    constraints: list[HardConstraint],
    seekers: IntArray,
    seekers_are_mentees: bool,
) -> IntArray:
    """Per seeker, pairs that only a pair-by-pair constraint rules out."""
    lists = [
        PAIR_BY_PAIR[item](cohort) for item in active_constraints(cohort) if item in PAIR_BY_PAIR
    ]
    keys = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *lists]))
    seeker_of_key, other_of_key = _seeker_and_other(cohort, keys, seekers_are_mentees)
    size = len(cohort.mentees) if seekers_are_mentees else len(cohort.mentors)
    position = np.full(size, -1, dtype=np.int64)
    position[seekers] = np.arange(seekers.shape[0])
    mine = position[seeker_of_key] >= 0
    seeker_of_key, other_of_key = seeker_of_key[mine], other_of_key[mine]
    mentee, mentor = (
        (seeker_of_key, other_of_key) if seekers_are_mentees else (other_of_key, seeker_of_key)
    )
    holds = np.ones(seeker_of_key.shape[0], dtype=np.bool_)
    for item in constraints:
        holds &= constraint_holds(cohort, item, mentee, mentor)
    counts: IntArray = np.bincount(position[seeker_of_key[holds]], minlength=seekers.shape[0])
    return counts


def _unmatched(
    cohort: EncodedCohort,
    graph: CandidateGraph,
    *,
    matched_mentees: IntArray,
    matched_mentors: IntArray,
    pairs_missing_at_most: int,
    tuning: SolverTuning,
) -> list[Unmatched]:
    """Everyone without a pair, with a true reason.

    "Needed elsewhere" and "not needed" hold only because the count is proven maximum (a
    free place beside a free feasible counterpart would be one more pair); when it is not
    proven, the reason says so and how many pairs may be missing.
    """
    result: list[Unmatched] = []
    for seekers_are_mentees in (True, False):
        side = cohort.mentees if seekers_are_mentees else cohort.mentors
        others = len(cohort.mentors) if seekers_are_mentees else len(cohort.mentees)
        matched = np.zeros(len(side), dtype=np.bool_)
        matched[matched_mentees if seekers_are_mentees else matched_mentors] = True
        seekers = np.flatnonzero(~matched)
        solved_feasible = (
            graph.feasible_per_mentee if seekers_are_mentees else graph.feasible_per_mentor
        )[seekers]
        # Only people with no feasible counterpart in the round need the full count per rule.
        isolated = seekers[solved_feasible == 0]
        counts = _eliminations(
            cohort, isolated, seekers_are_mentees=seekers_are_mentees, tuning=tuning
        )
        detail = {int(seeker): position for position, seeker in enumerate(isolated)}
        for seeker, round_feasible in zip(seekers, solved_feasible, strict=True):
            position = detail.get(int(seeker))
            feasible = int(round_feasible if position is None else counts.feasible[position])
            ruled_out: dict[HardConstraint, int] = {}
            if position is not None:
                ruled_out = {
                    item: int(values[position])
                    for item, values in counts.ruled_out.items()
                    if values[position] > 0
                }
            code = _reason_code(
                seeker_is_mentee=seekers_are_mentees,
                has_feasible=feasible > 0,
                proven=pairs_missing_at_most == 0,
            )
            everyone = [
                item for item, count in ruled_out.items() if feasible == 0 and count == others
            ]
            profile = side.profiles[int(seeker)]
            result.append(
                Unmatched(
                    participant_id=profile.participant_id,
                    role=profile.role,
                    reason_code=code,
                    reason=unmatched_reason(
                        code=code,
                        rules=cohort.rules,
                        seeker_is_mentee=seekers_are_mentees,
                        seeker_languages=profile.languages,
                        candidates_checked=others,
                        feasible_candidates=feasible,
                        eliminated_by=ruled_out if feasible == 0 else {},
                        eliminated_everyone=everyone,
                        pairs_missing_at_most=pairs_missing_at_most,
                    ),
                    candidates_checked=others,
                    feasible_candidates=feasible,
                    eliminated_by=ruled_out if feasible == 0 else {},
                    eliminated_everyone=everyone,
                )
            )
    return result


def _reason_code(*, seeker_is_mentee: bool, has_feasible: bool, proven: bool) -> UnmatchedReason:
    if not has_feasible:
        return (
            UnmatchedReason.NO_FEASIBLE_MENTOR
            if seeker_is_mentee
            else UnmatchedReason.NO_FEASIBLE_MENTEE
        )
    if not proven:
        return UnmatchedReason.MAXIMUM_NOT_PROVEN
    return (
        UnmatchedReason.MENTORS_NEEDED_ELSEWHERE if seeker_is_mentee else UnmatchedReason.NOT_NEEDED
    )
