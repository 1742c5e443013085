"""Mentors with identical profiles ranked once, as one class with a count.

HR exports are full of people whose profiles are identical. Two mentors with the same
scoring features (skills, site, grade, interests, availability) and the same attributes
for every hard constraint, and no pair excluded one by one, are interchangeable for every
mentee: same value, same feasibility. Ranking then scores one column per class instead of
one per mentor, and a mentee's k best mentors are its best classes, each contributing as
many members as the k places left allow, taken from a row-dependent offset so that the
members of a large class are spread over the mentees that rank it first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from binome_pairing.domain.encoding import EncodedCohort, IntArray
from binome_pairing.domain.evaluation import (
    PAIR_BY_PAIR,
    active_constraints,
    deciding_attributes,
)

SPREAD = 2_654_435_761
"""Knuth's multiplicative hash: consecutive mentees start at far-apart members."""
WORTH_IT = 0.5
"""Classes are used only when there are at most this many per mentor."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MentorClasses:
    """Classes of ``columns`` (cohort indices): ``members[first[c] : first[c] + size[c]]``."""

    representative: IntArray
    """One mentor (cohort index) per class."""
    size: IntArray
    first: IntArray
    members: IntArray
    """Cohort indices, class by class."""

    @classmethod
    def of(cls, cohort: EncodedCohort, columns: IntArray) -> MentorClasses | None:
        """The classes of ``columns``, or None when they would not save enough work."""
        if columns.size == 0:
            return None
        key = _profile_key(cohort, columns)
        _, first_seen, inverse, sizes = np.unique(
            key, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        if sizes.shape[0] > WORTH_IT * columns.shape[0]:
            return None
        order = np.argsort(inverse.reshape(-1), kind="stable")
        return cls(
            representative=columns[first_seen],
            size=sizes.astype(np.int64),
            first=np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64),
            members=columns[order],
        )

    def restricted(self, representatives: IntArray) -> MentorClasses:
        """The classes whose representative is among ``representatives`` (in that order)."""
        order = np.argsort(self.representative)
        position = order[np.searchsorted(self.representative, representatives, sorter=order)]
        size = self.size[position]
        members = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [
                self.members[start : start + count]
                for start, count in zip(self.first[position].tolist(), size.tolist(), strict=True)
            ]
        )
        return MentorClasses(
            representative=representatives,
            size=size,
            first=np.r_[0, np.cumsum(size)[:-1]].astype(np.int64),
            members=members,
        )

    def expand(self, rows: IntArray, classes: IntArray, k: int) -> tuple[IntArray, IntArray]:
        """A row's k best mentors from its best classes (row by row, best class first).

        ``rows`` (positions, grouped, best first within a row) and ``classes`` (positions
        in this object) are what a top-k over class columns returns. Returns rows and
        member positions in :attr:`members`.
        """
        if rows.size == 0:
            return rows, rows
        size = self.size[classes]
        starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
        counts = np.diff(np.r_[starts, rows.shape[0]])
        taken_before = np.cumsum(size) - size
        taken_in_row = taken_before - np.repeat(taken_before[starts], counts)
        take = np.clip(k - taken_in_row, 0, size)
        member_rows = np.repeat(rows, take)
        member_classes = np.repeat(classes, take)
        within = np.arange(member_rows.shape[0]) - np.repeat(np.cumsum(take) - take, take)
        offset = (member_rows * SPREAD) % self.size[member_classes]
        position = self.first[member_classes] + (offset + within) % self.size[member_classes]
        return member_rows, position


def _profile_key(cohort: EncodedCohort, columns: IntArray) -> IntArray:
    """One row per mentor of everything ranking reads; mentors with exclusions are unique.

    Scoring features always; a hard constraint's attributes only when it is switched on
    (a business unit does not set mentors apart when the rule is off).
    """
    m = cohort.mentors
    singles = np.zeros(columns.shape[0], dtype=np.int64)
    excluded = np.concatenate([cohort.chain_keys, cohort.excluded_keys]) % max(len(m), 1)
    involved = np.isin(columns, excluded)
    singles[involved] = columns[involved] + 1
    rules = [
        deciding_attributes(cohort, constraint, mentor_side=True)[columns]
        for constraint in active_constraints(cohort)
        if constraint not in PAIR_BY_PAIR
    ]
    return np.hstack(
        [
            singles[:, None],
            np.stack([m.site[columns], m.grade[columns]], axis=1),
            m.topics[columns].view(np.int32).astype(np.int64),
            m.interests[columns].view(np.int64),
            m.availability_words[columns].view(np.int64),
            *rules,
        ]
    )
