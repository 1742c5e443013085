"""A programme's pairing rules, as the HR platform defines them (inside DefineProgramme).

The rules say which hard constraints hold for every pair, how the soft criteria are
weighted, how many mentees a mentor takes, whether HR approves proposals, what the solver
optimises, and the programme's taxonomy: the digital topics its mentors' skills and its
mentees' learning needs may name (and, if the programme lists them, its interests). The
names of constraints and criteria (:class:`HardConstraint`, :class:`Criterion`) are the
vocabulary pair explanations use in events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from binome_shared.contracts.moments import CommandDay
from binome_shared.contracts.participants import TopicSlug
from binome_shared.contracts.text import line


class ApprovalMode(StrEnum):
    """What happens to the pairs a matching round finds."""

    HR_APPROVES = "hr_approves"
    """Pairs are proposed; HR approves or rejects each one."""
    AUTOMATIC = "automatic"
    """Pairs are formed at once."""


class Objective(StrEnum):
    """What the solver optimises once the number of pairs is as large as it can be."""

    MAX_TOTAL = "max_total"
    """The best total score over all pairs."""
    FAIREST = "fairest"
    """The best worst pair first (max-min score), then the best total among those."""


class HardConstraint(StrEnum):
    """A rule every pair must satisfy when the programme switches it on."""

    MENTOR_YOUNGER = "mentor_younger"
    NOT_IN_MANAGEMENT_CHAIN = "not_in_management_chain"
    DIFFERENT_DEPARTMENT = "different_department"
    DIFFERENT_BUSINESS_UNIT = "different_business_unit"
    DIFFERENT_ORGANISATION = "different_organisation"
    """Mentor and mentee from different organisations (cross-company programmes)."""
    SHARED_LANGUAGE = "shared_language"
    MENTOR_TRAINED = "mentor_trained"
    SAME_GENDER = "same_gender"
    WORKING_HOURS_OVERLAP = "working_hours_overlap"
    NOT_EXCLUDED_PAIR = "not_excluded_pair"
    """Never two people paired before (when the programme says so) or rejected by HR."""
    MENTOR_CAPACITY = "mentor_capacity"


class Criterion(StrEnum):
    """A soft criterion; each scores a pair in [0, 1]."""

    NEEDS_COVERAGE = "needs_coverage"
    AVAILABILITY = "availability"
    SAME_SITE = "same_site"
    SENIORITY_GAP = "seniority_gap"
    SHARED_INTERESTS = "shared_interests"


class MinimumAgeGap(BaseModel):
    """The mentor is younger than the mentee by at least ``years`` (reverse mentoring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["minimum_gap"] = Field(
        default="minimum_gap", description="Discriminator.", examples=["minimum_gap"]
    )
    years: int = Field(
        default=1,
        ge=0,
        le=60,
        description="Minimum age difference in years (0 allows the same age).",
        examples=[10],
    )


class AgeBands(BaseModel):
    """Mentors and mentees each fall in an age band (e.g. mentors 25–35, mentees 50+)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["bands"] = Field(
        default="bands", description="Discriminator.", examples=["bands"]
    )
    mentor_min_age: int | None = Field(
        default=None, ge=0, le=120, description="Youngest mentor age, inclusive.", examples=[25]
    )
    mentor_max_age: int | None = Field(
        default=None, ge=0, le=120, description="Oldest mentor age, inclusive.", examples=[35]
    )
    mentee_min_age: int | None = Field(
        default=None, ge=0, le=120, description="Youngest mentee age, inclusive.", examples=[50]
    )
    mentee_max_age: int | None = Field(
        default=None, ge=0, le=120, description="Oldest mentee age, inclusive.", examples=[None]
    )

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        for low, high, who in (
            (self.mentor_min_age, self.mentor_max_age, "mentor"),
            (self.mentee_min_age, self.mentee_max_age, "mentee"),
        ):
            if low is not None and high is not None and low > high:
                raise ValueError(f"{who}_min_age is above {who}_max_age")
        return self


AgeRule = Annotated[MinimumAgeGap | AgeBands, Field(discriminator="kind")]


class HardConstraints(BaseModel):
    """Which hard constraints the programme switches on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mentor_younger: AgeRule | None = Field(
        default=None,
        description="Age rule: a minimum gap or age bands; null switches it off.",
        examples=[{"kind": "minimum_gap", "years": 10}],
    )
    not_in_management_chain: bool = Field(
        default=True,
        description="Neither is the other's manager, directly or higher up the chain.",
        examples=[True],
    )
    different_department: bool = Field(
        default=False,
        description="Mentor and mentee work in different departments.",
        examples=[True],
    )
    different_business_unit: bool = Field(
        default=False,
        description="Mentor and mentee work in different business units.",
        examples=[False],
    )
    different_organisation: bool = Field(
        default=False,
        description=(
            "Mentor and mentee come from different organisations (cross-company programmes); "
            "a profile without an organisation belongs to the programme's own."
        ),
        examples=[False],
    )
    shared_language: bool = Field(
        default=True, description="They share at least one language.", examples=[True]
    )
    mentor_trained: bool = Field(
        default=False, description="Only mentors who completed the training.", examples=[True]
    )
    same_gender: bool = Field(
        default=False,
        description="Single-gender programme: both of the same, declared gender.",
        examples=[False],
    )
    min_working_hours_overlap_minutes: int | None = Field(
        default=None,
        ge=15,
        le=24 * 60,
        description=(
            "Minimum daily overlap of their working hours across time zones, in minutes; "
            "null switches it off."
        ),
        examples=[120],
    )
    never_repeat_pairs: bool = Field(
        default=True,
        description="Never pair again two people who were paired in an earlier round.",
        examples=[True],
    )


class CriteriaWeights(BaseModel):
    """Relative weights of the soft criteria; a pair's score is their weighted mean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    needs_coverage: float = Field(
        default=0.45,
        ge=0,
        le=100,
        description="Mentee's learning needs covered by the mentor's skills.",
        examples=[0.45],
    )
    availability: float = Field(
        default=0.2, ge=0, le=100, description="Weekly availability they share.", examples=[0.2]
    )
    same_site: float = Field(
        default=0.1, ge=0, le=100, description="They work on the same site.", examples=[0.1]
    )
    seniority_gap: float = Field(
        default=0.1,
        ge=0,
        le=100,
        description="The mentee is more senior than the mentor.",
        examples=[0.1],
    )
    shared_interests: float = Field(
        default=0.15,
        ge=0,
        le=100,
        description="Mentee's interests the mentor shares.",
        examples=[0.15],
    )

    @model_validator(mode="after")
    def _something_counts(self) -> Self:
        if sum(self.as_mapping().values()) <= 0:
            raise ValueError("at least one criterion weight must be positive")
        return self

    def as_mapping(self) -> dict[Criterion, float]:
        """The weights keyed by criterion."""
        return {criterion: float(getattr(self, criterion.value)) for criterion in Criterion}


TopicLabel = Annotated[str, line(100, min_length=1)]
"""A topic's name as people read it, in one language: one short line."""


class Topic(BaseModel):
    """One topic of a programme's taxonomy: the slug profiles name, and its French and
    English names (used in pair explanations)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: TopicSlug = Field(description="What profiles name.", examples=["generative_ai"])
    fr: TopicLabel = Field(description="French name.", examples=["IA générative"])
    en: TopicLabel = Field(description="English name.", examples=["generative AI"])


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic(slug="social_networks", fr="réseaux sociaux", en="social networks"),
    Topic(slug="linkedin", fr="LinkedIn", en="LinkedIn"),
    Topic(slug="personal_branding", fr="marque personnelle", en="personal branding"),
    Topic(slug="collaborative_tools", fr="outils collaboratifs", en="collaborative tools"),
    Topic(slug="remote_work", fr="travail hybride", en="hybrid work"),
    Topic(slug="generative_ai", fr="IA générative", en="generative AI"),
    Topic(slug="data", fr="données", en="data"),
    Topic(slug="cybersecurity", fr="cybersécurité", en="cybersecurity"),
    Topic(slug="mobile_apps", fr="applications mobiles", en="mobile apps"),
    Topic(slug="video_content", fr="contenus vidéo", en="video content"),
    Topic(slug="no_code", fr="outils no-code", en="no-code tools"),
    Topic(slug="green_it", fr="numérique responsable", en="sustainable IT"),
)
"""The digital topics of reverse mentoring (social networks, collaborative tools, AI, data,
cybersecurity…): the taxonomy of a programme that defines none, so that programmes defined
before taxonomies existed keep every topic they could name."""


def _one_entry_per_slug(topics: Sequence[Topic], what: str) -> None:
    repeated = sorted(slug for slug, n in Counter(t.slug for t in topics).items() if n > 1)
    if repeated:
        raise ValueError(f"{what} list a slug more than once: {', '.join(repeated)}")


class ParticipantConsent(BaseModel):
    """Both people must accept a proposed pair before it is formed, within a deadline: every
    pair of the programme, or only the pairs of its most senior mentees (executives who
    *accept* to be mentored while managers are paired directly)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    respond_within_hours: int = Field(
        default=168,
        ge=1,
        le=60 * 24,
        description=(
            "How long each person has to accept or decline, from the moment they are asked; "
            "silence past it calls the pair off and both are re-paired."
        ),
        examples=[168],
    )
    from_mentee_job_grade: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description=(
            "Ask only the pairs whose mentee's job grade is at least this (the other pairs are "
            "proposed or formed without asking); null (the default) asks every pair. Added in "
            "DefineProgramme 1.4."
        ),
        examples=[None, 16],
    )

    def asks(self, mentee_job_grade: int) -> bool:
        """Whether a pair whose mentee has ``mentee_job_grade`` is put to its members."""
        return self.from_mentee_job_grade is None or mentee_job_grade >= self.from_mentee_job_grade


class ProgrammeRules(BaseModel):
    """Hard constraints switched on, soft criteria weights, capacity, mode and objective."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_on: CommandDay = Field(
        description="First day of the programme; ages and time-zone offsets are taken then.",
        examples=["2027-01-11"],
    )
    approval_mode: ApprovalMode = Field(
        default=ApprovalMode.HR_APPROVES,
        description="Whether HR approves proposed pairs or pairs are formed at once.",
        examples=["hr_approves"],
    )
    objective: Objective = Field(
        default=Objective.MAX_TOTAL,
        description="What the solver optimises after the number of pairs.",
        examples=["max_total"],
    )
    mentor_capacity: int = Field(
        default=1,
        ge=1,
        le=50,
        description="Mentees per mentor unless a mentor's profile says otherwise.",
        examples=[1],
    )
    constraints: HardConstraints = Field(
        default_factory=HardConstraints,
        description="Hard constraints switched on.",
        examples=[{"mentor_younger": {"kind": "minimum_gap", "years": 10}, "mentor_trained": True}],
    )
    weights: CriteriaWeights = Field(
        default_factory=CriteriaWeights,
        description="Weights of the soft criteria.",
        examples=[
            {
                "needs_coverage": 0.5,
                "availability": 0.2,
                "same_site": 0.1,
                "seniority_gap": 0.1,
                "shared_interests": 0.1,
            }
        ],
    )
    desired_weekly_overlap_minutes: int = Field(
        default=120,
        ge=15,
        le=7 * 24 * 60,
        description="Shared weekly availability that earns the full availability score.",
        examples=[120],
    )
    target_grade_gap: int = Field(
        default=4,
        ge=1,
        le=30,
        description="Grade difference (mentee above mentor) that earns the full seniority score.",
        examples=[4],
    )
    topics: list[Topic] = Field(
        default_factory=lambda: list(DEFAULT_TOPICS),
        min_length=1,
        max_length=500,
        description=(
            "The programme's skills taxonomy: the topics mentors' skills and mentees' learning "
            "needs may name; a profile naming another is refused. Defaults to the digital "
            "topics of reverse mentoring."
        ),
        examples=[
            [
                {"slug": "generative_ai", "fr": "IA générative", "en": "generative AI"},
                {"slug": "social_networks", "fr": "réseaux sociaux", "en": "social networks"},
            ]
        ],
    )
    interests: list[Topic] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description=(
            "The interests profiles may name, if the programme lists them; null (the default) "
            "accepts any interest slug."
        ),
        examples=[None, [{"slug": "photography", "fr": "photographie", "en": "photography"}]],
    )
    participant_consent: ParticipantConsent | None = Field(
        default=None,
        description=(
            "If set, both people must accept a pair (AcceptPair) before it is formed, after HR's "
            "approval when HR approves (every pair, or only those of the senior mentees it "
            "names); null (the default) forms pairs without asking them."
        ),
        examples=[None, {"respond_within_hours": 168, "from_mentee_job_grade": 16}],
    )

    @field_validator("topics")
    @classmethod
    def _distinct_topics(cls, topics: list[Topic]) -> list[Topic]:
        _one_entry_per_slug(topics, "topics")
        return topics

    @field_validator("interests")
    @classmethod
    def _distinct_interests(cls, interests: list[Topic] | None) -> list[Topic] | None:
        if interests is not None:
            _one_entry_per_slug(interests, "interests")
        return interests

    def topic_slugs(self) -> list[str]:
        """The taxonomy's slugs, in the order the programme lists them."""
        return [topic.slug for topic in self.topics]

    def interest_slugs(self) -> list[str] | None:
        """The interests' slugs, or None when any interest is accepted."""
        return None if self.interests is None else [topic.slug for topic in self.interests]
