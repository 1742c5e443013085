"""Pairs a round does not solve: the ones it keeps, and the ones HR imposes.

Both are fixed before the optimisation and use their mentor's places, so the engine pairs
everyone else optimally around them. A kept pair that no longer fits (a member gone, a
mentor's capacity lowered) is dropped and reported; an imposed one that does not fit is
reported too, and the caller refuses the whole imposition (see
:mod:`binome_pairing.domain.imposition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from binome_pairing.domain.encoding import BoolArray, EncodedCohort, IntArray
from binome_pairing.domain.results import RecordProblem

LOCKED_PAIRS = "locked_pairs"
IMPOSED_PAIRS = "imposed_pairs"


@dataclass(frozen=True, kw_only=True, slots=True)
class Locked:
    """The fixed pairs, as row (mentee) and column (mentor) indices in the cohort."""

    mentee: IntArray
    mentor: IntArray
    imposed: BoolArray
    """Which of them HR imposed (the others are kept from earlier rounds)."""
    problems: list[RecordProblem]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Refusal:
    code: str
    fr: str
    en: str


_UNKNOWN = _Refusal(
    code="unknown_participant",
    fr="mentor ou mentoré absent de la cohorte ; binôme non conservé",
    en="mentor or mentee not in the cohort; pair not kept",
)
_ALREADY_PAIRED = _Refusal(
    code="mentee_already_paired",
    fr="ce mentoré a déjà un binôme conservé",
    en="this mentee already has a kept pair",
)
_OVER_CAPACITY = _Refusal(
    code="mentor_over_capacity",
    fr="le mentor n'a plus de place ; binôme non conservé",
    en="the mentor has no place left; pair not kept",
)
_IMPOSED_UNKNOWN = _Refusal(
    code="unknown_participant",
    fr="pas un mentor ou un mentoré inscrit et valide de la cohorte ; binôme non imposé",
    en="not an enrolled, valid mentor or mentee of the cohort; pair not imposed",
)
_IMPOSED_WRONG_ROLE = _Refusal(
    code="wrong_role",
    fr="le premier doit être un mentor et le second un mentoré ; binôme non imposé",
    en="the first must be a mentor and the second a mentee; pair not imposed",
)
_IMPOSED_ALREADY_PAIRED = _Refusal(
    code="mentee_already_paired",
    fr="ce mentoré a déjà un binôme (formé, proposé ou imposé) ; binôme non imposé",
    en="this mentee already has a pair (formed, proposed or imposed); pair not imposed",
)
_IMPOSED_OVER_CAPACITY = _Refusal(
    code="mentor_capacity",
    fr="le mentor n'a plus de place ; augmenter sa capacité d'abord ; binôme non imposé",
    en="the mentor has no place left; raise their capacity first; pair not imposed",
)


def lock(
    cohort: EncodedCohort,
    kept_pairs: Sequence[tuple[str, str]],
    imposed_pairs: Sequence[tuple[str, str]] = (),
) -> Locked:
    """Fix the kept pairs, then the imposed ones, each using a place of its mentor."""
    mentee_index = {person_id: row for row, person_id in enumerate(cohort.mentees.ids)}
    mentor_index = {person_id: row for row, person_id in enumerate(cohort.mentors.ids)}
    used = np.zeros(len(cohort.mentors), dtype=np.int64)
    taken: set[str] = set()
    mentees: list[int] = []
    mentors: list[int] = []
    imposed: list[bool] = []
    problems: list[RecordProblem] = []
    entries = [(LOCKED_PAIRS, index, pair) for index, pair in enumerate(kept_pairs)]
    entries += [(IMPOSED_PAIRS, index, pair) for index, pair in enumerate(imposed_pairs)]
    for collection, index, (mentor_id, mentee_id) in entries:
        is_imposed = collection == IMPOSED_PAIRS
        refusal: _Refusal | None = None
        if mentor_id not in mentor_index or mentee_id not in mentee_index:
            refusal = _UNKNOWN
            if is_imposed:
                swapped = mentor_id in mentee_index or mentee_id in mentor_index
                refusal = _IMPOSED_WRONG_ROLE if swapped else _IMPOSED_UNKNOWN
        elif mentee_id in taken:
            refusal = _IMPOSED_ALREADY_PAIRED if is_imposed else _ALREADY_PAIRED
        elif used[mentor_index[mentor_id]] >= cohort.mentors.capacity[mentor_index[mentor_id]]:
            refusal = _IMPOSED_OVER_CAPACITY if is_imposed else _OVER_CAPACITY
        if refusal is not None:
            problems.append(
                RecordProblem.of(
                    collection=collection,
                    index=index,
                    record_id=mentee_id,
                    code=refusal.code,
                    fr=refusal.fr,
                    en=refusal.en,
                )
            )
            continue
        used[mentor_index[mentor_id]] += 1
        taken.add(mentee_id)
        mentees.append(mentee_index[mentee_id])
        mentors.append(mentor_index[mentor_id])
        imposed.append(is_imposed)
    return Locked(
        mentee=np.array(mentees, dtype=np.int64),
        mentor=np.array(mentors, dtype=np.int64),
        imposed=np.array(imposed, dtype=np.bool_),
        problems=problems,
    )
