"""A cohort turned into arrays, so that rules and criteria are evaluated in bulk.

Everything a pair's feasibility and score depend on is encoded once per person: codes for
categorical attributes, bit masks for sets (languages, interests, weekly availability in
UTC quarter-hours), dense matrices for needs and skills, and the few pairs excluded
one by one (management chains, previous or rejected pairs) as sorted keys
``mentee_index * mentor_count + mentor_index``.

Time-zone offsets are those in force at noon UTC on the programme's first day, from the
system's time-zone database (deterministic reference data, not a clock).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from binome_pairing.domain.hierarchy import chain_pair_keys, manager_links
from binome_shared.contracts.participants import Gender, ParticipantProfile, ReportingLine
from binome_shared.contracts.programme import AgeBands, ProgrammeRules

SLOT_MINUTES = 15
MINUTES_PER_DAY = 24 * 60
SLOTS_PER_WEEK = 7 * MINUTES_PER_DAY // SLOT_MINUTES
BLOCK_SLOTS = 8
"""Two-hour blocks approximate availability when the exact overlap is too costly to rank."""
GENDER_CODES: dict[Gender, int] = {gender: code for code, gender in enumerate(Gender)}
UNKNOWN_CODE = -1

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
WordArray = NDArray[np.uint64]


def pack_bits(bits: BoolArray) -> WordArray:
    """Rows of booleans packed into little-endian 64-bit words (at least one word)."""
    rows, width = bits.shape
    words = max(1, math.ceil(width / 64))
    padded = np.zeros((rows, words * 64), dtype=np.bool_)
    padded[:, :width] = bits
    packed = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view(np.uint64).reshape(rows, words)


def popcount(words: WordArray) -> IntArray:
    """Number of set bits over the last axis."""
    counts: IntArray = np.bitwise_count(words).sum(axis=-1, dtype=np.int64)
    return counts


def utc_offset_minutes(time_zone: str, *, on: datetime) -> int:
    """The zone's offset from UTC at instant ``on``, in minutes."""
    offset = on.astimezone(ZoneInfo(time_zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute + (1 if moment.second or moment.microsecond else 0)


class Vocabulary:
    """Stable integer codes for strings, in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, word: str) -> int:
        """The word's code, assigned on first sight."""
        return self.codes.setdefault(word, len(self.codes))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def words(self) -> list[str]:
        """Words by code."""
        return list(self.codes)


@dataclass(frozen=True, kw_only=True, slots=True)
class SideArrays:
    """One side (mentors or mentees) of the cohort, one row per person."""

    ids: list[str]
    profiles: Sequence[ParticipantProfile]
    birth_year: IntArray
    department: IntArray
    business_unit: IntArray
    organisation: IntArray
    """A code per named organisation; ``UNKNOWN_CODE`` for the programme's own (no name)."""
    site: IntArray
    grade: IntArray
    gender: IntArray
    trained: BoolArray
    in_age_band: BoolArray
    languages: WordArray
    interests: WordArray
    interest_count: IntArray
    availability: BoolArray
    """(people, SLOTS_PER_WEEK) quarter-hours of the UTC week."""
    availability_words: WordArray
    work_start_utc: IntArray
    work_minutes: IntArray
    topics: Float32Array
    """Mentees: need weights (priority share, rows sum to 1). Mentors: skill level / 5."""
    capacity: IntArray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, kw_only=True, slots=True)
class EncodedCohort:
    """The whole cohort as arrays, with its vocabularies and one-by-one exclusions."""

    rules: ProgrammeRules
    mentees: SideArrays
    mentors: SideArrays
    topics: list[str]
    languages: list[str]
    chain_keys: IntArray
    excluded_keys: IntArray

    def pair_keys(self, mentee: IntArray, mentor: IntArray) -> IntArray:
        """Keys of (mentee, mentor) index pairs, as the exclusion arrays store them."""
        return mentee.astype(np.int64) * len(self.mentors) + mentor.astype(np.int64)


def _age_band_flags(
    birth_years: IntArray, *, rules: ProgrammeRules, mentor_side: bool
) -> BoolArray:
    rule = rules.constraints.mentor_younger
    if not isinstance(rule, AgeBands):
        return np.ones(birth_years.shape, dtype=np.bool_)
    ages = rules.starts_on.year - birth_years
    low, high = (
        (rule.mentor_min_age, rule.mentor_max_age)
        if mentor_side
        else (rule.mentee_min_age, rule.mentee_max_age)
    )
    flags = np.ones(birth_years.shape, dtype=np.bool_)
    if low is not None:
        flags &= ages >= low
    if high is not None:
        flags &= ages <= high
    return flags


class _Encoder:
    def __init__(self, rules: ProgrammeRules) -> None:
        self.rules = rules
        self.noon_utc = datetime.combine(rules.starts_on, time(12), tzinfo=UTC)
        self.offsets: dict[str, int] = {}
        self.departments = Vocabulary()
        self.business_units = Vocabulary()
        self.organisations = Vocabulary()
        self.sites = Vocabulary()
        self.languages = Vocabulary()
        self.interests = Vocabulary()

    def offset(self, time_zone: str) -> int:
        if time_zone not in self.offsets:
            self.offsets[time_zone] = utc_offset_minutes(time_zone, on=self.noon_utc)
        return self.offsets[time_zone]

    def register_words(self, people: Iterable[ParticipantProfile]) -> None:
        for person in people:
            for language in person.languages:
                self.languages.code(language)
            for interest in person.interests:
                self.interests.code(interest)

    def side(
        self,
        people: Sequence[ParticipantProfile],
        *,
        topics: dict[str, int],
        mentor_side: bool,
    ) -> SideArrays:
        count = len(people)
        languages = np.zeros((count, max(1, len(self.languages))), dtype=np.bool_)
        interests = np.zeros((count, max(1, len(self.interests))), dtype=np.bool_)
        availability = np.zeros((count, SLOTS_PER_WEEK), dtype=np.bool_)
        topic_matrix = np.zeros((count, max(1, len(topics))), dtype=np.float32)
        integers = np.zeros((count, 9), dtype=np.int64)
        trained = np.zeros(count, dtype=np.bool_)
        for row, person in enumerate(people):
            offset = self.offset(person.time_zone)
            work_start = _minutes(person.working_hours.start)
            integers[row] = (
                person.birth_year,
                self.departments.code(person.department),
                self.business_units.code(person.business_unit),
                self.sites.code(person.site),
                person.job_grade,
                UNKNOWN_CODE if person.gender is None else GENDER_CODES[person.gender],
                (work_start - offset) % MINUTES_PER_DAY,
                _minutes(person.working_hours.end) - work_start,
                self._organisation_code(person.organisation),
            )
            trained[row] = person.mentor_training_completed
            for language in person.languages:
                languages[row, self.languages.codes[language]] = True
            for interest in person.interests:
                interests[row, self.interests.codes[interest]] = True
            self._mark_availability(availability[row], person, offset)
            if mentor_side:
                for skill in person.skills:
                    column = topics.get(skill.topic)
                    if column is not None:
                        topic_matrix[row, column] = skill.level / 5.0
            else:
                total = sum(need.priority for need in person.learning_needs)
                for need in person.learning_needs:
                    topic_matrix[row, topics[need.topic]] = need.priority / total
        default_capacity = self.rules.mentor_capacity
        capacity = np.array(
            [(person.capacity or default_capacity) if mentor_side else 0 for person in people],
            dtype=np.int64,
        )
        birth_year = integers[:, 0].copy()
        interest_words = pack_bits(interests)
        return SideArrays(
            ids=[person.participant_id for person in people],
            profiles=people,
            birth_year=birth_year,
            department=integers[:, 1].copy(),
            business_unit=integers[:, 2].copy(),
            organisation=integers[:, 8].copy(),
            site=integers[:, 3].copy(),
            grade=integers[:, 4].copy(),
            gender=integers[:, 5].copy(),
            trained=trained,
            in_age_band=_age_band_flags(birth_year, rules=self.rules, mentor_side=mentor_side),
            languages=pack_bits(languages),
            interests=interest_words,
            interest_count=popcount(interest_words),
            availability=availability,
            availability_words=pack_bits(availability),
            work_start_utc=integers[:, 6].copy(),
            work_minutes=integers[:, 7].copy(),
            topics=topic_matrix,
            capacity=capacity,
        )

    def _organisation_code(self, organisation: str | None) -> int:
        # No name means the programme's own organisation: one code shared by all such people.
        return UNKNOWN_CODE if organisation is None else self.organisations.code(organisation)

    @staticmethod
    def _mark_availability(row: BoolArray, person: ParticipantProfile, offset: int) -> None:
        # Quarter-hours only count when fully inside a slot, so overlap is never overstated.
        shift = round(offset / SLOT_MINUTES)
        for slot in person.availability:
            day_start = slot.weekday.number * MINUTES_PER_DAY
            first = day_start // SLOT_MINUTES + math.ceil(_minutes(slot.start) / SLOT_MINUTES)
            last = day_start // SLOT_MINUTES + _minutes(slot.end) // SLOT_MINUTES
            if last > first:
                row[(np.arange(first, last) - shift) % SLOTS_PER_WEEK] = True


def encode_cohort(
    *,
    rules: ProgrammeRules,
    mentees: Sequence[ParticipantProfile],
    mentors: Sequence[ParticipantProfile],
    reporting_lines: Iterable[ReportingLine] = (),
    forbidden_pairs: Collection[tuple[str, str]] = (),
) -> EncodedCohort:
    """Encode a validated cohort; ``forbidden_pairs`` are (mentor_id, mentee_id)."""
    encoder = _Encoder(rules)
    encoder.register_words((*mentees, *mentors))
    topic_codes = Vocabulary()
    for person in mentees:
        for need in person.learning_needs:
            topic_codes.code(need.topic)
    mentee_arrays = encoder.side(mentees, topics=topic_codes.codes, mentor_side=False)
    mentor_arrays = encoder.side(mentors, topics=topic_codes.codes, mentor_side=True)
    mentee_index = {person_id: row for row, person_id in enumerate(mentee_arrays.ids)}
    mentor_index = {person_id: row for row, person_id in enumerate(mentor_arrays.ids)}
    excluded = [
        mentee_index[mentee_id] * len(mentors) + mentor_index[mentor_id]
        for mentor_id, mentee_id in forbidden_pairs
        if mentor_id in mentor_index and mentee_id in mentee_index
    ]
    chain_keys = (
        chain_pair_keys(
            managers=manager_links((*mentees, *mentors), reporting_lines),
            mentee_ids=mentee_arrays.ids,
            mentor_ids=mentor_arrays.ids,
        )
        if rules.constraints.not_in_management_chain
        else np.zeros(0, dtype=np.int64)
    )
    return EncodedCohort(
        rules=rules,
        mentees=mentee_arrays,
        mentors=mentor_arrays,
        topics=topic_codes.words,
        languages=encoder.languages.words,
        chain_keys=chain_keys,
        excluded_keys=np.unique(np.array(excluded, dtype=np.int64)),
    )
