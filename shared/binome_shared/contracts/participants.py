"""Participants as the HR platform describes them: mentors and mentees of a programme.

A profile holds what a real HR system of record knows about an employee, plus what the
programme asked them (skills, learning needs, availability, interests). The pairing service
reads every field; other services only ever see ids and business units. Skill and need
topics must belong to the programme's taxonomy (``ProgrammeRules.topics``), interests to its
list of interests when it has one: the pairing service refuses a profile that names another.

Scales are integers so they read the same in every language: skill levels go from 1
(notions) to 5 (expert), learning-need priorities from 1 (nice to have) to 5 (essential).
Times of day are local to the participant's ``time_zone``.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import time
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from binome_shared.contracts.moments import TimeZoneName
from binome_shared.contracts.text import Identifier, Name
from binome_shared.contracts.values import EmailAddress, Language

TOPIC_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Skills, needs and interests are slugs, so that HR vocabularies compare exactly."""

TopicSlug = Annotated[str, Field(pattern=TOPIC_PATTERN, max_length=64)]
"""A skill, need or interest, as the slug :data:`TOPIC_PATTERN` describes."""

LANGUAGE_CODE_PATTERN = r"^[a-z]{2,3}$"
"""ISO 639-1 (or 639-3 when there is no two-letter code), lower case."""


class ParticipantRole(StrEnum):
    """Which side of a pair someone is on. In reverse mentoring the mentor is the younger."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class Gender(StrEnum):
    """Optional; used only by single-gender programmes (same-gender pairs)."""

    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"


class Weekday(StrEnum):
    """Day of the week, in the participant's own time zone."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """0 for Monday … 6 for Sunday."""
        return _WEEKDAY_NUMBERS[self]


_WEEKDAY_NUMBERS: dict[Weekday, int] = {day: number for number, day in enumerate(Weekday)}


class Skill(BaseModel):
    """Something a mentor can teach, with how well they master it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: TopicSlug = Field(
        description="Skill topic, a slug shared with learning needs.",
        examples=["generative_ai", "linkedin"],
    )
    level: int = Field(
        ge=1,
        le=5,
        description="Mastery from 1 (notions) to 5 (expert).",
        examples=[4],
    )


class LearningNeed(BaseModel):
    """Something a mentee wants to learn, with how much it matters to them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: TopicSlug = Field(
        description="Need topic, a slug shared with mentors' skills.",
        examples=["generative_ai", "collaborative_tools"],
    )
    priority: int = Field(
        ge=1,
        le=5,
        description="How much the mentee wants it, from 1 (nice to have) to 5 (essential).",
        examples=[5],
    )


class WeeklySlot(BaseModel):
    """A recurring weekly window in which the participant can meet, in local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weekday: Weekday = Field(description="Day of the week.", examples=["tuesday"])
    start: time = Field(description="Local start time (inclusive).", examples=["08:30"])
    end: time = Field(
        description="Local end time (exclusive), later than start on the same day.",
        examples=["10:00"],
    )

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be later than start on the same day")
        return self


class WorkingHours(BaseModel):
    """The usual working day, in local time; used for the cross-time-zone overlap rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time = Field(description="Local start of the working day.", examples=["09:00"])
    end: time = Field(description="Local end of the working day.", examples=["18:00"])

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be later than start")
        return self


def _refuse_duplicates(values: list[str], what: str) -> list[str]:
    duplicates = sorted(value for value, count in Counter(values).items() if count > 1)
    if duplicates:
        raise ValueError(f"duplicate {what}: {', '.join(duplicates)}")
    return values


class ParticipantProfile(BaseModel):
    """A mentor or a mentee of a programme, as the HR platform enrols them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    participant_id: Identifier = Field(
        description="The employee id in the HR system of record; unique in a programme.",
        examples=["E10442"],
    )
    role: ParticipantRole = Field(description="Mentor or mentee.", examples=["mentor"])
    full_name: Name = Field(
        description="Name as people read it.",
        examples=["Inès Martin"],
    )
    email: EmailAddress = Field(
        description="Work e-mail address.",
        examples=["ines.martin@example.com"],
    )
    preferred_language: Language = Field(
        default=Language.FR, description="Language of the messages they receive.", examples=["fr"]
    )
    birth_year: int = Field(
        ge=1900,
        le=2100,
        description="Year of birth; ages are counted in the programme's start year.",
        examples=[1998],
    )
    department: Name = Field(
        description="Department (direction).",
        examples=["Marketing digital"],
    )
    business_unit: Name = Field(
        description="Business unit (entité, filiale).",
        examples=["Assurance dommages"],
    )
    organisation: Name | None = Field(
        default=None,
        description=(
            "The company they work for, when it is not the programme's own organisation "
            "(cross-company programmes); null means the programme's organisation."
        ),
        examples=["Startup Exemple"],
    )
    job_grade: int = Field(
        ge=1,
        le=30,
        description="Job grade in the group's grid; higher is more senior.",
        examples=[6],
    )
    manager_id: Identifier | None = Field(
        default=None,
        description="Employee id of their line manager, so reporting chains can be followed.",
        examples=["E00017"],
    )
    site: Name = Field(description="Work site.", examples=["Paris La Défense"])
    time_zone: TimeZoneName = Field(
        default="Europe/Paris",
        description="IANA time zone of the participant's working hours and availability.",
        examples=["Europe/Paris", "America/Toronto"],
    )
    languages: list[Annotated[str, Field(pattern=LANGUAGE_CODE_PATTERN, max_length=3)]] = Field(
        min_length=1,
        max_length=20,
        description="Languages they can hold a mentoring session in (ISO 639 codes).",
        examples=[["fr", "en"]],
    )
    skills: list[Skill] = Field(
        default_factory=list,
        max_length=100,
        description="What they can teach (used for mentors).",
        examples=[[{"topic": "generative_ai", "level": 4}]],
    )
    learning_needs: list[LearningNeed] = Field(
        default_factory=list,
        max_length=100,
        description="What they want to learn (used for mentees).",
        examples=[[{"topic": "linkedin", "priority": 5}]],
    )
    availability: list[WeeklySlot] = Field(
        default_factory=list,
        max_length=100,
        description="Weekly windows in which they can meet, in local time.",
        examples=[[{"weekday": "tuesday", "start": "08:30", "end": "10:00"}]],
    )
    working_hours: WorkingHours = Field(
        default_factory=lambda: WorkingHours(start=time(9), end=time(18)),
        description="Usual local working day.",
        examples=[{"start": "09:00", "end": "18:00"}],
    )
    interests: list[TopicSlug] = Field(
        default_factory=list,
        max_length=100,
        description="Personal or professional interests, as slugs.",
        examples=[["photography", "sustainability"]],
    )
    mentor_training_completed: bool = Field(
        default=False,
        description="The mentor followed the programme's mentor training.",
        examples=[True],
    )
    gender: Gender | None = Field(
        default=None,
        description="Optional; only single-gender programmes use it.",
        examples=["female"],
    )
    capacity: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description=(
            "Mentors only: how many mentees they take, overriding the programme's default."
        ),
        examples=[2],
    )

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, values: list[str]) -> list[str]:

        for value in values:
            if not re.fullmatch(LANGUAGE_CODE_PATTERN, value):
                raise ValueError(f"{value!r} is not a lower-case ISO 639 language code")
        return _refuse_duplicates(values, "languages")

    @field_validator("interests")
    @classmethod
    def _interest_slugs(cls, values: list[str]) -> list[str]:

        for value in values:
            if not re.fullmatch(TOPIC_PATTERN, value):
                raise ValueError(f"{value!r} is not a slug (lower-case letters, digits, - and _)")
        return _refuse_duplicates(values, "interests")

    @field_validator("skills")
    @classmethod
    def _one_level_per_skill(cls, values: list[Skill]) -> list[Skill]:
        _refuse_duplicates([skill.topic for skill in values], "skill topics")
        return values

    @field_validator("learning_needs")
    @classmethod
    def _one_priority_per_need(cls, values: list[LearningNeed]) -> list[LearningNeed]:
        _refuse_duplicates([need.topic for need in values], "learning need topics")
        return values

    @model_validator(mode="after")
    def _not_own_manager(self) -> Self:
        if self.manager_id == self.participant_id:
            raise ValueError("manager_id is the participant's own id")
        return self


class ReportingLine(BaseModel):
    """A reporting link of someone who is not enrolled (a team lead between two participants).

    Reporting chains run through people outside the programme; HR sends those links so the
    management-chain rule sees them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_id: Identifier = Field(description="The employee.", examples=["E05120"])
    manager_id: Identifier = Field(
        description="Their line manager.",
        examples=["E00017"],
    )
