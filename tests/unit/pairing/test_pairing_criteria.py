"""Each soft criterion's value, the weighted score and the pair's explanation."""

from __future__ import annotations

from typing import Any

import pytest

from binome_pairing.domain import solve
from binome_shared.contracts.participants import Weekday
from binome_shared.contracts.programme import CriteriaWeights, Criterion
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill, slot

pytestmark = pytest.mark.unit


def only(criterion: Criterion) -> CriteriaWeights:
    weights = dict.fromkeys((item.value for item in Criterion), 0.0)
    weights[criterion.value] = 1.0
    return CriteriaWeights.model_validate(weights)


def test_needs_coverage_weights_priorities_and_levels() -> None:
    the_mentee = mentee("E", learning_needs=[need("generative_ai", 4), need("linkedin", 1)])
    the_mentor = mentor("Y", skills=[skill("generative_ai", 5), skill("data", 5)])

    result = solve(rules=rules(), participants=[the_mentee, the_mentor])

    (pair,) = result.pairs
    # 4/5 of the priority is generative AI, mastered at 5/5; LinkedIn is not covered.
    assert pair.breakdown[Criterion.NEEDS_COVERAGE] == pytest.approx(0.8)
    assert [(item.need, item.mentor_level, item.priority) for item in pair.covered_needs] == [
        ("generative_ai", 5, 4)
    ]
    assert pair.uncovered_needs == ["linkedin"]
    assert "IA générative (priorité 4, niveau du mentor 5)" in pair.explanation.fr
    assert "generative AI (priority 4, mentor level 5)" in pair.explanation.en


def test_availability_overlap_is_counted_in_utc_across_time_zones() -> None:
    # 09:00-10:30 in London is 10:00-11:30 in Paris: 30 minutes shared with 11:00-12:00.
    the_mentee = mentee("E", availability=[slot(Weekday.TUESDAY, "11:00", "12:00")])
    the_mentor = mentor(
        "Y", time_zone="Europe/London", availability=[slot(Weekday.TUESDAY, "09:00", "10:30")]
    )

    result = solve(
        rules=rules().model_copy(update={"desired_weekly_overlap_minutes": 60}),
        participants=[the_mentee, the_mentor],
    )

    (pair,) = result.pairs
    assert pair.breakdown[Criterion.AVAILABILITY] == pytest.approx(0.5)
    assert "30 min" in pair.explanation.en


def test_same_site_and_seniority_gap_and_interests() -> None:
    the_mentee = mentee("E", job_grade=14, interests=["running", "cinema", "chess", "music"])
    the_mentor = mentor("Y", job_grade=12, interests=["chess", "music", "gaming"])

    result = solve(rules=rules(), participants=[the_mentee, the_mentor])

    (pair,) = result.pairs
    assert pair.breakdown[Criterion.SAME_SITE] == 1.0
    assert pair.breakdown[Criterion.SENIORITY_GAP] == pytest.approx(2 / 4)
    assert pair.breakdown[Criterion.SHARED_INTERESTS] == pytest.approx(2 / 4)


def test_a_junior_mentee_gets_no_seniority_points_and_other_sites_none_for_site() -> None:
    the_mentee = mentee("E", job_grade=5, site="Lyon")
    the_mentor = mentor("Y", job_grade=9)

    (pair,) = solve(rules=rules(), participants=[the_mentee, the_mentor]).pairs

    assert pair.breakdown[Criterion.SENIORITY_GAP] == 0.0
    assert pair.breakdown[Criterion.SAME_SITE] == 0.0


def test_score_is_the_weighted_mean_of_the_criteria() -> None:
    weights = CriteriaWeights(
        needs_coverage=3, availability=0, same_site=1, seniority_gap=0, shared_interests=0
    )
    the_mentee = mentee("E", learning_needs=[need("data", 2)], site="Lyon")
    the_mentor = mentor("Y", skills=[skill("data", 2)], site="Lyon")

    (pair,) = solve(rules=rules(weights=weights), participants=[the_mentee, the_mentor]).pairs

    assert pair.score == pytest.approx((3 * 0.4 + 1 * 1.0) / 4)


@pytest.mark.parametrize("criterion", list(Criterion))
def test_each_criterion_alone_decides_between_two_mentors(criterion: Criterion) -> None:
    strengths: dict[Criterion, dict[str, Any]] = {
        Criterion.NEEDS_COVERAGE: {"skills": [skill("linkedin", 5)]},
        Criterion.AVAILABILITY: {"availability": [slot(Weekday.MONDAY, "09:00", "11:00")]},
        Criterion.SAME_SITE: {"site": "Paris La Défense"},
        Criterion.SENIORITY_GAP: {"job_grade": 3},
        Criterion.SHARED_INTERESTS: {"interests": ["sailing"]},
    }
    strong = strengths[criterion]
    the_mentee = mentee(
        "E",
        learning_needs=[need("linkedin", 3)],
        availability=[slot(Weekday.MONDAY, "09:00", "11:00")],
        interests=["sailing"],
        job_grade=10,
    )
    weak = mentor("WEAK", site="Lille", job_grade=10)
    winner = mentor("STRONG", **{"site": "Lille", "job_grade": 10, **strong})

    result = solve(rules=rules(weights=only(criterion)), participants=[the_mentee, weak, winner])

    assert [pair.mentor_id for pair in result.pairs] == ["STRONG"]
    assert result.pairs[0].score == pytest.approx(1.0)
