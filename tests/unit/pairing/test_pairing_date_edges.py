"""At the edges of the years contracts allow, the pairing engine computes ages and time-zone
overlaps without overflow, for the youngest and oldest birth years a profile may state."""

from __future__ import annotations

from datetime import date

import pytest

from binome_pairing.domain.engine import solve
from binome_shared.contracts.programme import AgeBands, MinimumAgeGap, ProgrammeRules

from .pairing_builders import mentee, mentor, rules

pytestmark = pytest.mark.unit

AHEAD = "Pacific/Kiritimati"  # UTC+14
BEHIND = "Etc/GMT+12"  # UTC-12


def _at(starts_on: date, base: ProgrammeRules) -> ProgrammeRules:
    return ProgrammeRules.model_validate(base.model_dump() | {"starts_on": starts_on})


@pytest.mark.parametrize("starts_on", [date(2000, 1, 1), date(2199, 12, 31)])
def test_overlap_across_the_widest_time_zones_is_computed_at_the_edges(starts_on: date) -> None:
    people = [
        mentor("Y1", time_zone=AHEAD, birth_year=2100),
        mentee("X1", time_zone=BEHIND, birth_year=1900),
        mentor("Y2", time_zone=BEHIND, birth_year=1999),
        mentee("X2", time_zone=BEHIND, birth_year=1950),
    ]
    result = solve(
        rules=_at(starts_on, rules(min_working_hours_overlap_minutes=8 * 60)), participants=people
    )
    # Kiritimati and UTC-12 are 26 hours apart, two hours on the clock: their 9-to-6 working
    # days share 7 hours, short of the 8 asked; two people in one zone share all 9.
    assert {(pair.mentor_id, pair.mentee_id) for pair in result.pairs} == {("Y2", "X2")}


@pytest.mark.parametrize("starts_on", [date(2000, 1, 1), date(2199, 12, 31)])
def test_ages_from_the_extreme_birth_years_are_counted_at_the_edges(starts_on: date) -> None:
    people = [mentor("Y1", birth_year=2100), mentee("X1", birth_year=1900)]
    gap = solve(
        rules=_at(starts_on, rules(mentor_younger=MinimumAgeGap(years=60))), participants=people
    )
    assert [(pair.mentor_id, pair.mentee_id) for pair in gap.pairs] == [("Y1", "X1")]
    bands = AgeBands(mentor_min_age=25, mentee_min_age=50)
    banded = solve(rules=_at(starts_on, rules(mentor_younger=bands)), participants=people)
    # In 2000 the mentor born in 2100 is not born yet: no pair, and no crash.
    expected = [("Y1", "X1")] if starts_on.year >= 2125 else []
    assert [(pair.mentor_id, pair.mentee_id) for pair in banded.pairs] == expected
