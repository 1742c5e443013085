"""Everyone a round left without a pair, and a true reason for each.

A seeker (mentee or mentor) with no feasible counterpart among those solved gets the full
count, per hard constraint, of the counterparts that constraint rules out on its own, and
the constraints that alone rule out everyone; the others are told their counterparts were
needed elsewhere (or, when the pair count is not proven maximum, that a pair may be missing).
The words are in :mod:`binome_pairing.domain.explanations`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binome_pairing.domain.candidates import CandidateGraph
from binome_pairing.domain.encoding import EncodedCohort, IntArray
from binome_pairing.domain.evaluation import (
    PAIR_BY_PAIR,
    active_constraints,
    constraint_holds,
    deciding_attributes,
)
from binome_pairing.domain.explanations import UnmatchedFacts, unmatched_reason
from binome_pairing.domain.results import SolverTuning, Unmatched, UnmatchedReason
from binome_shared.contracts.programme import HardConstraint


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


def unmatched_participants(
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
            facts = UnmatchedFacts(
                code=code,
                rules=cohort.rules,
                seeker_is_mentee=seekers_are_mentees,
                seeker_languages=profile.languages,
                candidates_checked=others,
                feasible_candidates=feasible,
                eliminated_by=ruled_out if feasible == 0 else {},
                eliminated_everyone=everyone,
                pairs_missing_at_most=pairs_missing_at_most,
            )
            result.append(
                Unmatched(
                    participant_id=profile.participant_id,
                    role=profile.role,
                    reason_code=code,
                    reason=unmatched_reason(facts),
                    candidates_checked=others,
                    feasible_candidates=feasible,
                    eliminated_by=facts.eliminated_by,
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
