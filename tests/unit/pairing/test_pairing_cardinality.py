"""The number of pairs is the maximum the hard rules allow, on adversarial cohorts.

Cohorts are drawn the way real HR exports look: a few profiles repeated many times, a
scarce language, management chains deeper than any fixed limit, reporting loops, mentors
with several places. The engine's count is compared with an independent maximum:
feasibility checked pair by pair in plain Python (chains walked naively), then
Hopcroft–Karp on the full feasible graph with each mentor expanded into its places. The
fast paths (top-k candidates, repair, augmenting-path search) are forced at these small
sizes by lowering their thresholds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_bipartite_matching

from binome_pairing.domain import (
    DEFAULT_TUNING,
    CardinalityProof,
    MatchingResult,
    SolverTuning,
    UnmatchedReason,
    solve,
)
from binome_pairing.domain.augmenting import FeasibleGraph, augmenting_edges
from binome_pairing.domain.candidates import generate_candidates
from binome_pairing.domain.encoding import encode_cohort
from binome_pairing.domain.evaluation import feasible
from binome_pairing.domain.mentor_classes import MentorClasses
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.contracts.programme import MinimumAgeGap, Objective, ProgrammeRules
from tests.unit.pairing.pairing_builders import mentee, mentor, naive_above, need, rules, skill

pytestmark = pytest.mark.unit

RULES = rules(
    mentor_younger=MinimumAgeGap(years=10),
    not_in_management_chain=True,
    different_department=True,
    shared_language=True,
    mentor_trained=True,
)


ONLY_EXCLUSIONS = rules()


@dataclass(frozen=True)
class Cohort:
    people: list[ParticipantProfile]
    lines: list[ReportingLine]
    managers: dict[str, str]


def template(draw: random.Random, *, mentor_side: bool, german: float) -> dict[str, Any]:
    """A profile many people share; German-only mentees and German mentors are scarce."""
    if mentor_side:
        languages = ["de", "fr"] if draw.random() < german else draw.choice([["fr"], ["en"]])
    else:
        languages = ["de"] if draw.random() < german else draw.choice([["fr"], ["fr", "en"]])
    fields: dict[str, Any] = {
        "department": draw.choice(["Ventes", "Data", "Finance"]),
        "languages": languages,
        "birth_year": draw.choice([1992, 1998] if mentor_side else [1965, 1984]),
    }
    if mentor_side:
        fields["mentor_training_completed"] = draw.random() < 0.9
        fields["skills"] = [skill("data", draw.randint(1, 5))]
    else:
        fields["learning_needs"] = [need("data", 3)]
    return fields


def managers_of(draw: random.Random, everyone: list[str], shape: str) -> dict[str, str]:
    """Random links (loops included), or one chain through everyone, closed or not."""
    managers: dict[str, str] = {}
    if shape == "random":
        for person in everyone:
            boss = draw.choice(everyone)
            if boss != person and draw.random() < 0.7:
                managers[person] = boss
    elif shape != "none":
        # Deeper than 64 levels as soon as there are more than 65 people and leads.
        order = draw.sample(everyone, len(everyone))
        managers = {order[i]: order[i + 1] for i in range(len(order) - 1)}
        if shape == "deep loop" and len(order) > 1:
            managers[order[-1]] = order[0]
    return managers


@st.composite
def cohorts(draw: st.DrawFn) -> Cohort:
    """Many people from a few templates, and managers forming deep chains or loops."""
    generator = random.Random(draw(st.integers(0, 2**32)))
    german = draw(st.sampled_from([0.0, 0.3, 0.6]))
    mentee_templates = [
        template(generator, mentor_side=False, german=german)
        for _ in range(draw(st.integers(1, 4)))
    ]
    mentor_templates = [
        template(generator, mentor_side=True, german=german / 4)
        for _ in range(draw(st.integers(1, 4)))
    ]
    mentee_ids = [f"E{index}" for index in range(draw(st.integers(1, 50)))]
    mentor_ids = [f"Y{index}" for index in range(draw(st.integers(1, 40)))]
    leads = [f"T{index}" for index in range(draw(st.integers(0, 60)))]
    shape = draw(st.sampled_from(["none", "random", "deep chain", "deep loop"]))
    managers = managers_of(generator, mentee_ids + mentor_ids + leads, shape)
    most_places = draw(st.integers(1, 3))
    people = [
        mentee(person, manager_id=managers.get(person), **generator.choice(mentee_templates))
        for person in mentee_ids
    ] + [
        mentor(
            person,
            manager_id=managers.get(person),
            capacity=generator.randint(1, most_places),
            **generator.choice(mentor_templates),
        )
        for person in mentor_ids
    ]
    lines = [
        ReportingLine(employee_id=lead, manager_id=managers[lead])
        for lead in leads
        if lead in managers
    ]
    return Cohort(people=people, lines=lines, managers=managers)


def naive_feasible(rules_: ProgrammeRules, e: ParticipantProfile, m: ParticipantProfile) -> bool:
    gap = rules_.constraints.mentor_younger
    assert isinstance(gap, MinimumAgeGap)
    return (
        m.birth_year - e.birth_year >= gap.years
        and e.department != m.department
        and bool(set(e.languages) & set(m.languages))
        and m.mentor_training_completed
    )


def feasibility(cohort: Cohort) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    mentees = [p for p in cohort.people if p.role.value == "mentee"]
    mentors = [p for p in cohort.people if p.role.value == "mentor"]
    allowed = np.array(
        [
            [
                naive_feasible(RULES, e, m)
                and not naive_above(e.participant_id, m.participant_id, cohort.managers)
                and not naive_above(m.participant_id, e.participant_id, cohort.managers)
                for m in mentors
            ]
            for e in mentees
        ],
        dtype=np.bool_,
    ).reshape(len(mentees), len(mentors))
    capacity = np.array([m.capacity or 1 for m in mentors], dtype=np.int64)
    return (
        allowed,
        [p.participant_id for p in mentees],
        [p.participant_id for p in mentors],
        capacity,
    )


def independent_maximum(allowed: np.ndarray, capacity: np.ndarray) -> int:
    """Hopcroft–Karp on every feasible pair, each mentor expanded into its places."""
    places = np.repeat(np.arange(allowed.shape[1]), capacity)
    if allowed.size == 0 or places.size == 0:
        return 0
    graph = sp.csr_array(allowed[:, places].astype(np.int8))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def check_result(cohort: Cohort, result: MatchingResult) -> None:
    """Maximum count, every rule kept, capacities kept, every unmatched reason true."""
    allowed, mentee_ids, mentor_ids, capacity = feasibility(cohort)
    row = {person: index for index, person in enumerate(mentee_ids)}
    column = {person: index for index, person in enumerate(mentor_ids)}
    stats = result.stats
    assert stats.pairs == independent_maximum(allowed, capacity)
    assert stats.cardinality_proof is not CardinalityProof.UNVERIFIED
    assert stats.max_new_pairs_upper_bound == stats.new_pairs
    assert stats.pairs_missing_at_most == 0
    used = np.zeros(len(mentor_ids), dtype=np.int64)
    paired = set()
    for pair in result.pairs:
        assert allowed[row[pair.mentee_id], column[pair.mentor_id]], pair
        used[column[pair.mentor_id]] += 1
        paired.add(pair.mentee_id)
    assert (used <= capacity).all()
    assert len(paired) == len(result.pairs)
    full = used >= capacity
    for item in result.unmatched:
        if item.participant_id in row:
            feasible_mentors = allowed[row[item.participant_id]]
            assert item.feasible_candidates == int(feasible_mentors.sum())
            if item.reason_code is UnmatchedReason.MENTORS_NEEDED_ELSEWHERE:
                assert feasible_mentors.any()
                assert full[feasible_mentors].all()
            else:
                assert item.reason_code is UnmatchedReason.NO_FEASIBLE_MENTOR
                assert not feasible_mentors.any()
        else:
            feasible_mentees = allowed[:, column[item.participant_id]]
            assert item.feasible_candidates == int(feasible_mentees.sum())
            if item.reason_code is UnmatchedReason.NOT_NEEDED:
                wanted = [mentee_ids[i] for i in np.flatnonzero(feasible_mentees)]
                assert wanted
                assert all(person in paired for person in wanted)
            else:
                assert item.reason_code is UnmatchedReason.NO_FEASIBLE_MENTEE
                assert not feasible_mentees.any()


@st.composite
def fast_paths(draw: st.DrawFn) -> SolverTuning:
    """The large-cohort settings, scaled down so that they run on a few dozen people."""
    return replace(
        DEFAULT_TUNING,
        all_feasible_max_cells=0,
        exact_availability_max_cells=draw(st.sampled_from([0, 10**9])),
        # One or two candidates per mentee: too few to hold a maximum matching, so the
        # augmenting-path search has work to do.
        mentee_top_k=1,
        mentee_priced_top_k=draw(st.integers(0, 1)),
        price_sample_rows=draw(st.integers(1, 8)),
        repair_rounds=draw(st.sampled_from([0, 0, 1])),
        repair_top_k=1,
        chunk_cells=draw(st.sampled_from([64, 1 << 23])),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cohort=cohorts(),
    tuning=st.one_of(st.just(DEFAULT_TUNING), fast_paths()),
    objective=st.sampled_from(list(Objective)),
)
def test_the_count_is_the_independent_maximum_and_every_reason_is_true(
    cohort: Cohort, tuning: SolverTuning, objective: Objective
) -> None:
    result = solve(
        rules=RULES,
        participants=cohort.people,
        reporting_lines=cohort.lines,
        objective=objective,
        tuning=tuning,
    )

    check_result(cohort, result)


def identical_groups(mentees: int, mentors: int, *, groups: int = 4) -> list[ParticipantProfile]:
    """The reported shape: a few groups of identical people, every mentee pairable."""
    same = {"business_unit": "U", "full_name": "Camille Martin", "email": "c@example.com"}
    return [
        mentee(f"E{i}", department=f"D{i % groups}", learning_needs=[need("data", 3)], **same)
        for i in range(mentees)
    ] + [
        mentor(f"Y{i}", department=f"D{(i + 1) % groups}", skills=[skill("data", 3)], **same)
        for i in range(mentors)
    ]


def test_two_thousand_identical_profiles_are_all_paired_with_the_default_settings() -> None:
    # Before: 288 pairs of 2,000, every short list naming the same few mentors.
    result = solve(
        rules=rules(different_department=True), participants=identical_groups(2000, 2000)
    )

    assert result.stats.pairs == 2000
    assert result.stats.cardinality_proof is CardinalityProof.UPPER_BOUND_REACHED
    assert len({pair.mentor_id for pair in result.pairs}) == 2000


def scarce_language_cohort() -> list[ParticipantProfile]:
    """Half the mentees speak only German; a quarter of the mentors (one place each) too."""
    people = []
    for index in range(300):
        german = index % 2 == 0
        people.append(
            mentee(
                f"E{index}",
                department=f"D{index % 4}",
                languages=["de"] if german else ["fr"],
                learning_needs=[need("data", 3)],
            )
        )
    for index in range(200):
        people.append(
            mentor(
                f"Y{index}",
                department="Tech",
                languages=["de", "fr"] if index % 4 == 0 else ["fr"],
                capacity=1 + index % 2,
                skills=[skill("data", 3)],
            )
        )
    return people


def test_below_the_simple_bound_an_augmenting_path_search_proves_the_maximum() -> None:
    people = scarce_language_cohort()
    narrow = replace(
        DEFAULT_TUNING,
        all_feasible_max_cells=0,
        mentee_top_k=1,
        mentee_priced_top_k=0,
        repair_rounds=0,
    )
    rules_ = rules(shared_language=True)

    result = solve(rules=rules_, participants=people, tuning=narrow)
    exact = solve(rules=rules_, participants=people)

    # 150 German speakers share 50 bilingual mentors (one place each): 200 pairs at most,
    # below the simple bound (300 mentees, 300 places); 1 candidate each is not enough.
    assert exact.stats.cardinality_proof is CardinalityProof.ALL_FEASIBLE_EDGES
    assert result.stats.pairs == exact.stats.pairs == 200
    assert result.stats.cardinality_proof is CardinalityProof.NO_AUGMENTING_PATH
    assert result.stats.augmenting_searches >= 1
    assert result.stats.max_new_pairs_upper_bound == 200
    reasons = {item.reason_code for item in result.unmatched if item.role.value == "mentee"}
    assert reasons == {UnmatchedReason.MENTORS_NEEDED_ELSEWHERE}


def test_a_search_stopped_short_says_so_instead_of_giving_a_false_reason() -> None:
    people = scarce_language_cohort()
    stopped = replace(
        DEFAULT_TUNING,
        all_feasible_max_cells=0,
        mentee_top_k=1,
        mentee_priced_top_k=0,
        repair_rounds=0,
        augmenting_searches=0,
    )

    result = solve(rules=rules(shared_language=True), participants=people, tuning=stopped)

    stats = result.stats
    assert stats.cardinality_proof is CardinalityProof.UNVERIFIED
    # Without the search nothing proves the count, even if it happens to be the maximum:
    # only the simple bound is known, and HR is told how far from it the round may be.
    assert stats.max_new_pairs_upper_bound == 300
    assert stats.pairs_missing_at_most == 300 - stats.pairs >= 100
    feasible_but_alone = [item for item in result.unmatched if item.feasible_candidates]
    assert feasible_but_alone
    for item in feasible_but_alone:
        assert item.reason_code is UnmatchedReason.MAXIMUM_NOT_PROVEN
        assert f"up to {stats.pairs_missing_at_most} pair(s) may be missing" in item.reason.en
        assert "Maximum non prouvé" in item.reason.fr


def test_the_search_reaches_a_mentor_through_the_only_member_of_a_group_allowed_with_them() -> None:
    # Five identical mentees; HR rejected Y0 for the first four: the group reaches Y0, and
    # the tree edge must come from E4, the one member not excluded (found past the spread).
    people = identical_groups(5, 1, groups=1)
    rejected = {("Y0", f"E{index}") for index in range(4)}
    cohort = encode_cohort(
        rules=ONLY_EXCLUSIONS,
        mentees=[p for p in people if p.role.value == "mentee"],
        mentors=[p for p in people if p.role.value == "mentor"],
        forbidden_pairs=rejected,
    )
    graph = FeasibleGraph.build(cohort, np.arange(5), np.arange(1), chunk_cells=1 << 20)

    rows, columns = graph.reach(np.arange(5), np.ones(1, dtype=np.bool_))
    edges = augmenting_edges(
        graph,
        matched_mentee=np.zeros(0, dtype=np.int64),
        matched_mentor=np.zeros(0, dtype=np.int64),
        places=np.ones(1, dtype=np.int64),
    )

    assert (rows.tolist(), columns.tolist()) == ([4], [0])
    assert edges is not None
    assert (edges[0].tolist(), edges[1].tolist()) == ([4], [0])
    assert (
        augmenting_edges(
            graph,
            matched_mentee=np.array([4]),
            matched_mentor=np.array([0]),
            places=np.ones(1, dtype=np.int64),
        )
        is None
    )


def test_identical_mentors_ranked_as_classes_keep_exact_counts_and_spread_lists() -> None:
    people = scarce_language_cohort()
    mentees = [p for p in people if p.role.value == "mentee"]
    mentors = [p for p in people if p.role.value == "mentor"]
    rejected = {(mentors[0].participant_id, mentees[index].participant_id) for index in range(9)}
    cohort = encode_cohort(
        rules=rules(shared_language=True),
        mentees=mentees,
        mentors=mentors,
        forbidden_pairs=rejected,
    )
    narrow = replace(DEFAULT_TUNING, all_feasible_max_cells=0, mentee_priced_top_k=0)
    everyone, columns = np.arange(len(mentees)), np.arange(len(mentors))

    graph = generate_candidates(cohort, rows=everyone, columns=columns, tuning=narrow)

    assert MentorClasses.of(cohort, columns) is not None  # two profiles, one with exclusions
    allowed = feasible(cohort, everyone[:, None], columns[None, :])
    assert graph.feasible_per_mentee.tolist() == allowed.sum(axis=1).tolist()
    assert graph.feasible_per_mentor.tolist() == allowed.sum(axis=0).tolist()
    assert allowed[graph.mentee, graph.mentor].all()
    per_mentee = np.bincount(graph.mentee, minlength=len(mentees))
    assert (per_mentee == np.minimum(narrow.mentee_top_k, allowed.sum(axis=1))).all()
    # Identical German-only mentees do not all name the same few bilingual mentors.
    german = [index for index, person in enumerate(mentees) if person.languages == ["de"]]
    named = set(graph.mentor[np.isin(graph.mentee, german)].tolist())
    assert len(named) == int(allowed[german].any(axis=0).sum())
