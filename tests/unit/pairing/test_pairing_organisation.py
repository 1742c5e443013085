"""The organisation a participant comes from: the "different organisations" rule, on every
path the engine takes (exact, sparse candidates, mentor classes), and in explanations."""

from __future__ import annotations

import numpy as np
import pytest

from binome_pairing.domain import DEFAULT_TUNING, SolverTuning, UnmatchedReason, solve
from binome_pairing.domain.candidates import generate_candidates
from binome_pairing.domain.encoding import EncodedCohort, encode_cohort
from binome_pairing.domain.evaluation import constraint_holds
from binome_pairing.domain.mentor_classes import MentorClasses
from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import HardConstraint
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill

pytestmark = pytest.mark.unit

PARTNER = "Nova Numérique"
OTHER_PARTNER = "Atelier Lumen"
SPARSE = SolverTuning(all_feasible_max_cells=0, mentee_top_k=1, mentor_top_k=1)


@pytest.mark.parametrize(
    ("mentee_organisation", "mentor_organisation", "holds"),
    [
        (None, None, False),  # both from the programme's own organisation
        (None, PARTNER, True),
        (PARTNER, None, True),
        (PARTNER, PARTNER, False),
        (PARTNER, OTHER_PARTNER, True),
    ],
)
def test_different_organisations_compares_names_and_no_name_is_the_programmes(
    mentee_organisation: str | None, mentor_organisation: str | None, holds: bool
) -> None:
    cohort = encode_cohort(
        rules=rules(different_organisation=True),
        mentees=[mentee("E", organisation=mentee_organisation)],
        mentors=[mentor("Y", organisation=mentor_organisation)],
    )
    zero = np.zeros(1, dtype=np.int64)

    held = constraint_holds(cohort, HardConstraint.DIFFERENT_ORGANISATION, zero, zero)

    assert held.tolist() == [holds]


def look_alikes(count: int) -> list[ParticipantProfile]:
    """``count`` identical mentees and mentors, half of each side from a partner company:
    the only way to pair everyone across organisations is partner with group, both ways."""
    people: list[ParticipantProfile] = []
    for n in range(count):
        organisation = PARTNER if n % 2 else None
        people.append(mentee(f"E{n:02d}", organisation=organisation, department="D"))
        people.append(mentor(f"Y{n:02d}", organisation=organisation, department="D"))
    return people


@pytest.mark.parametrize("tuning", [None, SPARSE], ids=["exact", "sparse-candidates"])
@pytest.mark.parametrize("count", [4, 40])
def test_look_alikes_differing_only_in_organisation_are_all_paired_across(
    tuning: SolverTuning | None, count: int
) -> None:
    # 40 mentors in two classes of look-alikes exercise the mentor classes; everyone ties on
    # score, so only the rule tells pairs apart.
    people = look_alikes(count)
    organisation = {person.participant_id: person.organisation for person in people}
    result = solve(
        rules=rules(different_organisation=True),
        participants=people,
        tuning=tuning or DEFAULT_TUNING,
    )

    assert len(result.pairs) == count
    assert all(organisation[p.mentor_id] != organisation[p.mentee_id] for p in result.pairs)
    assert all(HardConstraint.DIFFERENT_ORGANISATION in p.constraints_checked for p in result.pairs)
    assert result.unmatched == []


def encoded(people: list[ParticipantProfile], *, across: bool = False) -> EncodedCohort:
    return encode_cohort(
        rules=rules(different_organisation=across),
        mentees=[p for p in people if p.role is ParticipantRole.MENTEE],
        mentors=[p for p in people if p.role is ParticipantRole.MENTOR],
    )


def test_sparse_candidates_of_look_alikes_are_only_across_organisations() -> None:
    # The block tables must mask same-organisation cells before ranking: otherwise each
    # mentee's single best (tied) candidate is as likely a colleague as not.
    cohort = encoded(look_alikes(40), across=True)
    everyone = np.arange(40, dtype=np.int64)

    graph = generate_candidates(cohort, rows=everyone, columns=everyone, tuning=SPARSE)

    assert graph.mentee.size > 0
    assert (
        cohort.mentees.organisation[graph.mentee] != cohort.mentors.organisation[graph.mentor]
    ).all()
    assert set(graph.mentee.tolist()) == set(range(40))
    assert (graph.feasible_per_mentee == 20).all()


def test_mentor_classes_set_look_alikes_apart_by_organisation_only_under_the_rule() -> None:
    people = look_alikes(40)
    everyone = np.arange(40, dtype=np.int64)

    under_rule = MentorClasses.of(encoded(people, across=True), everyone)
    without = MentorClasses.of(encoded(people), everyone)

    assert under_rule is not None
    assert without is not None
    assert sorted(under_rule.size.tolist()) == [20, 20]
    assert without.size.tolist() == [40]


def test_without_the_rule_colleagues_of_one_organisation_are_paired() -> None:
    people = [mentee("E", organisation=PARTNER), mentor("Y", organisation=PARTNER)]

    result = solve(rules=rules(), participants=people)

    assert [(p.mentor_id, p.mentee_id) for p in result.pairs] == [("Y", "E")]
    assert HardConstraint.DIFFERENT_ORGANISATION not in result.pairs[0].constraints_checked


def test_a_better_mentor_of_the_same_organisation_loses_to_one_from_another() -> None:
    people = [
        mentee("E", organisation=PARTNER, learning_needs=[need("data", 5)]),
        mentor("SAME", organisation=PARTNER, skills=[skill("data", 5)]),
        mentor("ACROSS", skills=[skill("data", 1)]),
    ]

    (pair,) = solve(rules=rules(different_organisation=True), participants=people).pairs

    assert pair.mentor_id == "ACROSS"


def test_an_explanation_says_where_each_comes_from() -> None:
    people = [mentee("E"), mentor("Y", organisation=PARTNER)]

    (pair,) = solve(rules=rules(different_organisation=True), participants=people).pairs

    assert (
        f"Organisations : mentor — {PARTNER} ; mentoré — organisation du programme."
        in pair.explanation.fr
    )
    assert (
        f"Organisations: mentor — {PARTNER}; mentee — the programme's organisation."
        in pair.explanation.en
    )
    assert "organisations différentes" in pair.explanation.fr
    assert "different organisations" in pair.explanation.en


def test_an_explanation_names_a_shared_partner_and_says_nothing_within_the_programme() -> None:
    shared = solve(
        rules=rules(),
        participants=[mentee("E", organisation=PARTNER), mentor("Y", organisation=PARTNER)],
    ).pairs[0]
    own = solve(rules=rules(), participants=[mentee("E"), mentor("Y")]).pairs[0]

    assert f"Même organisation : {PARTNER}." in shared.explanation.fr
    assert f"Same organisation: {PARTNER}." in shared.explanation.en
    assert "rganisation" not in own.explanation.fr + own.explanation.en


def test_someone_with_only_colleagues_to_pair_with_is_told_why() -> None:
    people = [mentee("E", organisation=PARTNER), mentor("Y", organisation=PARTNER)]

    result = solve(rules=rules(different_organisation=True), participants=people)

    reasons = {item.participant_id: item for item in result.unmatched}
    assert reasons["E"].reason_code is UnmatchedReason.NO_FEASIBLE_MENTOR
    assert reasons["E"].eliminated_by == {HardConstraint.DIFFERENT_ORGANISATION: 1}
    assert "vient d'une autre organisation" in reasons["E"].reason.fr
    assert "comes from another organisation" in reasons["E"].reason.en
    assert reasons["Y"].role is ParticipantRole.MENTOR
