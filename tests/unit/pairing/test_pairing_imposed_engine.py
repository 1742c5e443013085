"""Imposed pairs in the pure engine: fixed as given, the rest optimal around them (brute
force), each refusal named, the override explained."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binome_pairing.domain import ProposedPair, solve
from binome_pairing.domain.imposition import (
    Imposition,
    imposition_summary,
    listing_problems,
    solved_problems,
)
from binome_pairing.domain.lifecycle import ParticipantStatus
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole, ReportingLine
from binome_shared.contracts.programme import HardConstraint, ProgrammeRules
from tests.unit.pairing.pairing_builders import mentee, mentor, rules
from tests.unit.pairing.test_pairing_optimality import brute_force, cohort_strategy

pytestmark = pytest.mark.unit


def _members(pairs: list[ProposedPair]) -> list[tuple[str, str]]:
    return sorted((pair.mentor_id, pair.mentee_id) for pair in pairs)


@st.composite
def cohorts_with_impositions(
    draw: st.DrawFn,
) -> tuple[ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]], list[tuple[str, str]]]:
    rules_, people, forbidden = draw(cohort_strategy())
    mentors = [p for p in people if p.role is ParticipantRole.MENTOR]
    mentees = [p for p in people if p.role is ParticipantRole.MENTEE]
    mentee_ids = [p.participant_id for p in mentees]
    chosen = draw(st.lists(st.sampled_from(mentee_ids), unique=True, max_size=len(mentees)))
    places = Counter({m.participant_id: m.capacity or rules_.mentor_capacity for m in mentors})
    imposed: list[tuple[str, str]] = []
    for person_id in chosen:
        free = [m for m in mentors if places[m.participant_id] > 0]
        if not free:
            break
        chosen_mentor = draw(st.sampled_from(free))
        places[chosen_mentor.participant_id] -= 1
        imposed.append((chosen_mentor.participant_id, person_id))
    return rules_, people, forbidden, imposed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts_with_impositions())
def test_imposed_pairs_are_kept_and_the_rest_is_the_brute_force_optimum(
    case: tuple[
        ProgrammeRules, list[ParticipantProfile], set[tuple[str, str]], list[tuple[str, str]]
    ],
) -> None:
    rules_, people, forbidden, imposed = case
    result = solve(
        rules=rules_, participants=people, forbidden_pairs=forbidden, imposed_pairs=imposed
    )

    assert _members([p for p in result.pairs if p.imposed]) == sorted(imposed)
    assert not [p for p in result.problems if p.collection == "imposed_pairs"]
    # The rest is the optimum of the cohort once the imposed mentees and the mentors' places
    # they took are gone: brute force over the whole cohort (reporting chains run through
    # everyone, imposed or not) where the imposed mentees and the full mentors pair with no one.
    used = Counter(mentor_id for mentor_id, _ in imposed)
    imposed_mentees = {mentee_id for _, mentee_id in imposed}
    mentees = [p for p in people if p.role is ParticipantRole.MENTEE]
    mentors = [p for p in people if p.role is ParticipantRole.MENTOR]
    places_left = {m.participant_id: (m.capacity or 1) - used[m.participant_id] for m in mentors}
    rest_mentors = [
        m.model_copy(update={"capacity": max(places_left[m.participant_id], 1)}) for m in mentors
    ]
    taken = {
        (m.participant_id, e.participant_id)
        for m in mentors
        for e in mentees
        if e.participant_id in imposed_mentees or places_left[m.participant_id] <= 0
    }
    optimum = brute_force(rules_, rest_mentors, mentees, forbidden | taken)
    new = [p for p in result.pairs if not p.imposed]
    assert len(new) == optimum.pairs
    assert sum(p.score for p in new) == pytest.approx(optimum.total, abs=1e-5)
    assert result.stats.imposed_pairs == len(imposed)
    assert result.stats.new_pairs == len(new)


def test_imposed_pair_breaking_rules_is_fixed_and_says_which_rules_it_breaks() -> None:
    people = [
        mentor("Y1", department="Finance"),
        mentor("Y2", department="Digital"),
        mentee("E1", department="Finance"),
        mentee("E2", department="Audit"),
    ]

    result = solve(
        rules=rules(different_department=True), participants=people, imposed_pairs=[("Y1", "E1")]
    )

    [imposed] = [pair for pair in result.pairs if pair.imposed]
    assert (imposed.mentor_id, imposed.mentee_id) == ("Y1", "E1")
    assert imposed.constraints_violated == [HardConstraint.DIFFERENT_DEPARTMENT]
    assert not imposed.locked
    assert "Pair imposed by HR." in imposed.explanation.en
    assert "Binôme imposé par les RH." in imposed.explanation.fr
    assert "Rules overridden by HR: different departments." in imposed.explanation.en
    assert "Règles écartées par les RH : départements différents." in imposed.explanation.fr
    assert _members([p for p in result.pairs if not p.imposed]) == [("Y2", "E2")]


def test_imposed_pairs_come_after_kept_pairs_for_the_mentors_places() -> None:
    people = [mentor("Y1", capacity=1), mentor("Y2"), mentee("E1"), mentee("E2"), mentee("E3")]

    result = solve(
        rules=rules(),
        participants=people,
        locked_pairs=[("Y1", "E1")],
        imposed_pairs=[("Y1", "E2"), ("E3", "Y2"), ("NOBODY", "E3"), ("Y2", "E1")],
    )

    found = [(p.location, p.code) for p in result.problems if p.collection == "imposed_pairs"]
    assert found == [
        ('imposed_pairs[0] (id "E2")', "mentor_capacity"),
        ('imposed_pairs[1] (id "Y2")', "wrong_role"),
        ('imposed_pairs[2] (id "E3")', "unknown_participant"),
        ('imposed_pairs[3] (id "E1")', "mentee_already_paired"),
    ]
    assert _members([p for p in result.pairs if p.locked]) == [("Y1", "E1")]
    assert not [p for p in result.pairs if p.imposed]


def test_listing_names_a_mentee_twice_and_each_person_not_enrolled() -> None:
    entries = [
        Imposition(mentor_id="Y1", mentee_id="E1"),
        Imposition(mentor_id="Y2", mentee_id="E1"),
        Imposition(mentor_id="Y3", mentee_id="E2"),
        Imposition(mentor_id="Y1", mentee_id="E3"),
        Imposition(mentor_id="Y4", mentee_id="E4"),
    ]
    statuses = {
        "Y1": ParticipantStatus.ENROLLED,
        "Y2": ParticipantStatus.ENROLLED,
        "Y3": ParticipantStatus.WITHDRAWN,
        "E1": ParticipantStatus.ENROLLED,
        "E2": ParticipantStatus.ENROLLED,
        "E3": ParticipantStatus.ERASED,
        "E4": ParticipantStatus.ENROLLED,
    }

    problems = listing_problems(entries, statuses)

    assert [(p.index, p.code) for p in problems] == [
        (1, "mentee_imposed_twice"),
        (2, "participant_withdrawn"),
        (3, "participant_erased"),
        (4, "unknown_participant"),
    ]
    assert "Y4" in problems[-1].message.en
    assert "Y4" in problems[-1].message.fr


def _breaking_pair() -> tuple[ProposedPair, ProposedPair]:
    """Two imposed pairs, each breaking the rules named in its own test."""
    people = [
        mentor("Y1", department="Finance", organisation="Nova"),
        mentor("Y2", manager_id="E2", organisation="Lumen"),
        mentee("E1", department="Finance", organisation="Nova"),
        mentee("E2"),
    ]
    result = solve(
        rules=rules(
            different_department=True, different_organisation=True, not_in_management_chain=True
        ),
        participants=people,
        reporting_lines=[ReportingLine(employee_id="Y2", manager_id="E2")],
        imposed_pairs=[("Y1", "E1"), ("Y2", "E2")],
    )
    first, second = (pair for pair in result.pairs if pair.imposed)
    return first, second


def test_each_broken_rule_is_refused_by_name_unless_overridden() -> None:
    first, second = _breaking_pair()
    entries = [
        Imposition(mentor_id="Y1", mentee_id="E1"),
        Imposition(mentor_id="Y2", mentee_id="E2"),
    ]

    problems = solved_problems(entries, problems=[], imposed=[first, second])

    assert [(p.index, p.code) for p in problems] == [
        (0, "different_department"),
        (0, "different_organisation"),
        (1, "not_in_management_chain"),
    ]
    assert "départements différents" in problems[0].message.fr
    assert "different departments" in problems[0].message.en
    overridden = [
        Imposition(mentor_id="Y1", mentee_id="E1", override_reason="Comex choice"),
        entries[1],
    ]
    left = solved_problems(overridden, problems=[], imposed=[first, second])
    assert [(p.index, p.code) for p in left] == [(1, "not_in_management_chain")]


def test_imposition_summary_names_the_overridden_rules_and_the_reason() -> None:
    summary = imposition_summary([HardConstraint.DIFFERENT_DEPARTMENT], "Choix du comité exécutif")

    assert summary.fr == (
        "Binôme imposé par les RH. Dérogation aux règles : départements différents. "
        "Motif : Choix du comité exécutif"
    )
    assert summary.en == (
        "Pair imposed by HR. Rules overridden: different departments. "
        "Reason: Choix du comité exécutif"
    )
    assert imposition_summary([], None).en == "Pair imposed by HR."
