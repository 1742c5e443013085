"""What the pairing engine answers: pairs with their explanation, the unmatched and why.

Every model is a frozen pydantic model, so results serialise to JSON as they are (the
offline CLI writes them, the service copies them into events).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.participants import ParticipantProfile, ParticipantRole
from binome_shared.contracts.programme import Criterion, HardConstraint, Objective
from binome_shared.contracts.values import Language, LocalisedText


class NeedCoverage(BaseModel):
    """One learning need of the mentee and the mentor's skill that answers it."""

    model_config = ConfigDict(frozen=True)

    need: str = Field(description="The need's topic.", examples=["generative_ai"])
    priority: int = Field(ge=1, le=5, description="The mentee's priority, 5 = essential.")
    skill: str = Field(description="The mentor's skill answering it.", examples=["generative_ai"])
    mentor_level: int = Field(ge=1, le=5, description="The mentor's level, 5 = expert.")


class ProposedPair(BaseModel):
    """A pair the engine proposes (or keeps), with everything needed to explain it."""

    model_config = ConfigDict(frozen=True)

    mentor_id: str
    mentee_id: str
    score: float = Field(ge=0, le=1, description="Weighted mean of the criteria, in [0, 1].")
    breakdown: dict[Criterion, float] = Field(
        description="Each criterion's own score in [0, 1], before weighting."
    )
    covered_needs: list[NeedCoverage]
    uncovered_needs: list[str] = Field(description="Needs no skill of the mentor answers.")
    constraints_checked: list[HardConstraint] = Field(
        description="Hard constraints of the programme this pair satisfies."
    )
    constraints_violated: list[HardConstraint] = Field(
        default_factory=list,
        description=(
            "Only for kept (locked) pairs whose data changed since they were formed, and "
            "imposed pairs that break the rules."
        ),
    )
    locked: bool = Field(default=False, description="A kept pair, not re-solved this round.")
    imposed: bool = Field(default=False, description="A pair HR imposed, not solved.")
    explanation: LocalisedText


class UnmatchedReason(StrEnum):
    """Why someone has no pair after a round."""

    NO_FEASIBLE_MENTOR = "no_feasible_mentor"
    """The hard constraints leave no mentor at all for this mentee."""
    MENTORS_NEEDED_ELSEWHERE = "mentors_needed_elsewhere"
    """Feasible mentors exist, but all their places went to other mentees (capacity)."""
    NO_FEASIBLE_MENTEE = "no_feasible_mentee"
    """The hard constraints leave no mentee at all for this mentor."""
    NOT_NEEDED = "not_needed"
    """Feasible mentees exist, but each is better paired (or only pairable) elsewhere."""
    MAXIMUM_NOT_PROVEN = "maximum_not_proven"
    """Feasible counterparts exist and the round stopped before proving that no more pairs
    can be formed (only when ``SolverTuning.augmenting_searches`` is set): a pair may be
    missing for this person."""


class Unmatched(BaseModel):
    """A participant left without a pair, and why."""

    model_config = ConfigDict(frozen=True)

    participant_id: str
    role: ParticipantRole
    reason_code: UnmatchedReason
    reason: LocalisedText
    candidates_checked: int = Field(ge=0, description="People on the other side considered.")
    feasible_candidates: int = Field(ge=0, description="Of those, how many every rule allows.")
    eliminated_by: dict[HardConstraint, int] = Field(
        default_factory=dict,
        description="For each hard constraint, how many candidates it rules out on its own.",
    )
    eliminated_everyone: list[HardConstraint] = Field(
        default_factory=list, description="Constraints that alone rule out every candidate."
    )


class Severity(StrEnum):
    """ERROR records are left out of the round; WARNING ones are solved as they are."""

    ERROR = "error"
    WARNING = "warning"


class RecordProblem(BaseModel):
    """Something wrong with one input record, located precisely."""

    model_config = ConfigDict(frozen=True)

    collection: str = Field(description="Where the record sits.", examples=["participants"])
    index: int | None = Field(description="Its position there, from 0.", examples=[17])
    record_id: str | None = Field(description="Its id, when it has one.", examples=["E1234"])
    field: str = Field(description="Dotted path of the field, empty for the whole record.")
    code: str = Field(examples=["duplicate_id", "greater_than_equal"])
    severity: Severity
    message: LocalisedText

    @classmethod
    def of(
        cls,
        *,
        collection: str,
        code: str,
        fr: str,
        en: str,
        index: int | None = None,
        record_id: str | None = None,
        field: str = "",
        severity: Severity = Severity.ERROR,
    ) -> RecordProblem:
        """A problem with its message in French and English (an error unless told)."""
        return cls(
            collection=collection,
            index=index,
            record_id=record_id,
            field=field,
            code=code,
            severity=severity,
            message=LocalisedText(fr=fr, en=en),
        )

    @property
    def location(self) -> str:
        """E.g. ``participants[17] (id "E1234").birth_year``."""
        where = self.collection if self.index is None else f"{self.collection}[{self.index}]"
        if self.record_id is not None:
            where += f' (id "{self.record_id}")'
        return f"{where}.{self.field}" if self.field else where

    def describe(self, language: Language | str = Language.EN) -> str:
        """One line a person reads: location and message."""
        return f"{self.location}: {self.message.in_language(language)}"


class CandidateStrategy(StrEnum):
    """How candidate edges were chosen before the assignment solve."""

    ALL_FEASIBLE = "all_feasible"
    """Every feasible pair: the result is the exact optimum."""
    TOP_K = "top_k"
    """Per mentee and per mentor the best feasible counterparts, plus repair edges."""


class CardinalityProof(StrEnum):
    """Why the number of pairs is known to be the largest the constraints allow."""

    ALL_FEASIBLE_EDGES = "all_feasible_edges"
    """Every feasible pair was offered to the solver."""
    UPPER_BOUND_REACHED = "upper_bound_reached"
    """As many pairs as free mentees with a feasible mentor, or as usable places."""
    NO_AUGMENTING_PATH = "no_augmenting_path"
    """A search over every feasible pair found no augmenting path: by Berge's theorem no
    matching has more pairs."""
    UNVERIFIED = "unverified"
    """Not proven: the search was stopped by ``SolverTuning.augmenting_searches``."""


class OptimalityProof(StrEnum):
    """Why the total score is known to be optimal (for the chosen objective)."""

    ALL_FEASIBLE_EDGES = "all_feasible_edges"
    """Every feasible pair was offered to the solver: the exact optimum."""
    DUAL_CERTIFICATE = "dual_certificate"
    """Pricing every feasible pair against the optimum's duals found nothing to add."""
    CANDIDATES_ONLY = "candidates_only"
    """Optimal over the candidate edges; the full cohort was too large to price exactly."""


class MatchingStats(BaseModel):
    """Counts and score distribution of a round. The caller times the solve; no clock here."""

    model_config = ConfigDict(frozen=True)

    objective: Objective
    mentors: int
    mentees: int
    mentor_places: int = Field(description="Sum of mentor capacities.")
    pairs: int = Field(description="All pairs, kept ones included.")
    kept_pairs: int
    new_pairs: int
    imposed_pairs: int = Field(default=0, description="Pairs HR imposed this round.")
    unmatched_mentees: int
    unmatched_mentors: int
    mentees_with_feasible_mentor: int
    max_new_pairs_upper_bound: int = Field(
        description=(
            "The most new pairs the hard rules allow: new_pairs when the count is proven "
            "maximum, else min(free mentees with a feasible mentor, free places of feasible "
            "mentors)."
        )
    )
    pairs_missing_at_most: int = Field(
        ge=0, description="0 when the count is proven maximum; else how many may be missing."
    )
    candidate_edges: int
    strategy: CandidateStrategy
    cardinality_proof: CardinalityProof
    augmenting_searches: int = Field(
        ge=0, description="Searches for an augmenting path over every feasible pair."
    )
    optimality_proof: OptimalityProof
    pricing_rounds: int = Field(description="Rounds of adding edges priced below zero.")
    total_score: float = Field(description="Sum of the new pairs' scores.")
    score_quantiles: dict[str, float] = Field(
        description="min, p10, p50, p90, max and mean of the new pairs' scores."
    )
    rejected_records: int


class MatchingResult(BaseModel):
    """A round's answer. Pure data: computing it commits nothing, so a preview is a call."""

    model_config = ConfigDict(frozen=True)

    pairs: list[ProposedPair]
    unmatched: list[Unmatched]
    problems: list[RecordProblem]
    stats: MatchingStats


def errors_of(problems: Iterable[RecordProblem]) -> list[RecordProblem]:
    """The problems that leave their record out (errors; warnings keep it)."""
    return [problem for problem in problems if problem.severity is Severity.ERROR]


class CohortValidation(BaseModel):
    """Records that can be solved, and the problems found in the others."""

    model_config = ConfigDict(frozen=True)

    accepted: list[ParticipantProfile] = Field(description="Records to solve, in input order.")
    problems: list[RecordProblem]

    @property
    def errors(self) -> list[RecordProblem]:
        """Problems that exclude their record."""
        return errors_of(self.problems)


@dataclass(frozen=True, kw_only=True, slots=True)
class SolverTuning:
    """Size thresholds of the candidate generation; the defaults suit 25 to 100,000 people.

    ``all_feasible_max_cells``: up to this many mentee × mentor cells every feasible pair is
    kept, and the result is the exact optimum. Above it, each mentee keeps its
    ``mentee_top_k`` best feasible mentors, its ``mentee_priced_top_k`` best once each
    mentor's demand price is taken off (the mean value all mentees see in that mentor,
    estimated on ``price_sample_rows`` mentees), and each mentor its ``mentor_top_k`` best
    feasible mentees. Up to ``exact_availability_max_cells`` cells the ranking uses the exact
    availability overlap (15-minute resolution) and, after each solve, every feasible pair is
    priced against the optimum's duals: pairs with a negative reduced cost join the
    candidates (at most ``pricing_top_k`` per mentee and round) and the solve repeats (at
    most ``pricing_rounds`` times), so the result is
    proven optimal. Above, ranking uses two-hour availability blocks and the optimum is over
    the candidates. ``potential_rounds`` bounds the Bellman–Ford passes computing the duals;
    ``chunk_cells`` bounds the memory of one scoring block. Before pricing, up to
    ``repair_rounds`` times, mentees left unmatched while feasible mentors still have
    places get their ``repair_top_k`` best edges to those mentors; then, until the number
    of pairs is proven maximum over every feasible pair, augmenting-path searches add the
    edges they find (``augmenting_searches`` caps them; None, the default, never stops
    short of the proof, and a cap reached is reported as ``unverified``).
    """

    all_feasible_max_cells: int = 2_500_000
    exact_availability_max_cells: int = 250_000_000
    mentee_top_k: int = 4
    mentor_top_k: int = 0
    mentee_priced_top_k: int = 24
    price_sample_rows: int = 2_000
    pricing_rounds: int = 12
    pricing_top_k: int = 16
    repair_rounds: int = 3
    repair_top_k: int = 4
    augmenting_searches: int | None = None
    potential_rounds: int = 5_000
    chunk_cells: int = 1 << 23


DEFAULT_TUNING = SolverTuning()
