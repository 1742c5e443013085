"""What a programme's final report holds: the figures the demo shows at its end.

The model is plain data, saved and read as JSON (``binome-report render report.json``);
the renderers compute nothing but presentation (histogram bins, percentages). Business
units with fewer than :data:`MINIMUM_GROUP_SIZE` people carry no figure at all, so nobody
can be singled out: :meth:`BusinessUnitProgress.measured` drops them, and the model refuses
figures on a small group that would arrive by another way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from binome_shared.contracts.values import LocalisedText

MINIMUM_GROUP_SIZE = 5
"""Groups smaller than this are shown as suppressed (k-anonymity for HR reporting)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UnmatchedGroup(_Frozen):
    """Everyone left unmatched for one reason: how many, and a few of them as examples."""

    reason_code: str = Field(examples=["no_feasible_mentor"])
    role: str = Field(examples=["mentee"], description="mentor or mentee.")
    reason: LocalisedText
    count: int = Field(ge=1)
    examples: list[str] = Field(
        default_factory=list, max_length=10, description="A few participant ids."
    )


class ProgrammeFunnel(_Frozen):
    """Mentees at each step of the programme; each step holds at most the previous one."""

    enrolled_mentees: int = Field(ge=0)
    matched: int = Field(ge=0, description="Mentees a round proposed a mentor for.")
    formed: int = Field(ge=0, description="Mentees in a formed pair (HR approved).")
    first_session_held: int = Field(ge=0)
    completed: int = Field(ge=0, description="Mentees whose pair completed the plan.")

    def stages(self) -> list[tuple[str, int]]:
        """(stage key, mentees) in programme order."""
        return [
            ("enrolled_mentees", self.enrolled_mentees),
            ("matched", self.matched),
            ("formed", self.formed),
            ("first_session_held", self.first_session_held),
            ("completed", self.completed),
        ]


class SessionsMonth(_Frozen):
    """Sessions of one calendar month, each counted once by where it ended up."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2027-02"])
    planned: int = Field(ge=0, description="Scheduled, not held, missed or cancelled (yet).")
    held: int = Field(ge=0)
    missed: int = Field(ge=0)
    cancelled: int = Field(ge=0)

    @property
    def total(self) -> int:
        """All sessions of the month."""
        return self.planned + self.held + self.missed + self.cancelled


class BusinessUnitProgress(_Frozen):
    """A business unit's progress; every figure is None when the group is too small."""

    business_unit: str = Field(min_length=1)
    people: int | None = Field(default=None, ge=0, description="Participants in the unit.")
    pairs: int | None = Field(default=None, ge=0)
    sessions_planned: int | None = Field(
        default=None, ge=0, description="Sessions in the plans of its pairs."
    )
    sessions_held: int | None = Field(default=None, ge=0)
    completion_rate: float | None = Field(
        default=None, ge=0, le=1, description="Completed pairs over pairs."
    )
    average_rating: float | None = Field(
        default=None, ge=1, le=5, description="Average session rating (1–5), if any."
    )
    suppressed: bool = Field(
        default=False, description=f"Fewer than {MINIMUM_GROUP_SIZE} people: no figure shown."
    )

    @classmethod
    def measured(
        cls,
        *,
        business_unit: str,
        people: int,
        pairs: int,
        sessions_planned: int,
        sessions_held: int,
        completion_rate: float,
        average_rating: float | None,
    ) -> BusinessUnitProgress:
        """The unit's figures, or a suppressed entry when it has too few people."""
        if people < MINIMUM_GROUP_SIZE:
            return cls(business_unit=business_unit, suppressed=True)
        return cls(
            business_unit=business_unit,
            people=people,
            pairs=pairs,
            sessions_planned=sessions_planned,
            sessions_held=sessions_held,
            completion_rate=completion_rate,
            average_rating=average_rating,
        )

    @model_validator(mode="after")
    def _small_groups_carry_no_figure(self) -> Self:
        figures = (
            self.people,
            self.pairs,
            self.sessions_planned,
            self.sessions_held,
            self.completion_rate,
            self.average_rating,
        )
        if self.suppressed and any(figure is not None for figure in figures):
            raise ValueError("a suppressed business unit carries no figure")
        if not self.suppressed:
            if self.people is None or self.people < MINIMUM_GROUP_SIZE:
                raise ValueError(
                    f"a business unit with fewer than {MINIMUM_GROUP_SIZE} people "
                    "must be suppressed"
                )
            if None in figures[:5]:
                raise ValueError("an unsuppressed business unit needs every figure but rating")
        return self

    @property
    def held_ratio(self) -> float:
        """Sessions held over sessions planned (0 when none is planned or suppressed)."""
        if not self.sessions_planned or self.sessions_held is None:
            return 0.0
        return self.sessions_held / self.sessions_planned


class KindCount(_Frozen):
    """Notifications sent of one kind (``introduction``, ``session_reminder``…)."""

    kind: str
    count: int = Field(ge=0)


class DeadLetterCount(_Frozen):
    """Messages parked on one dead-letter topic."""

    topic: str
    count: int = Field(ge=0)


class ConsentFigures(_Frozen):
    """Proposed pairs both people were asked to accept (programmes that require consent).

    The outcomes are None when fewer than :data:`MINIMUM_GROUP_SIZE` people were asked:
    with so few, a decline would point at someone."""

    pairs_asked: int = Field(default=0, ge=0)
    accepted: int | None = Field(default=None, ge=0, description="Both accepted: formed.")
    declined: int | None = Field(default=None, ge=0)
    lapsed: int | None = Field(default=None, ge=0, description="No answer by the deadline.")
    left: int | None = Field(default=None, ge=0, description="Someone left the programme.")
    pending: int | None = Field(default=None, ge=0, description="Still waiting for answers.")
    suppressed: bool = False

    @classmethod
    def measured(cls, *, pairs_asked: int, outcomes: dict[str, int]) -> ConsentFigures:
        """The outcomes, or only the number asked when too few people were asked."""
        if 2 * pairs_asked < MINIMUM_GROUP_SIZE:
            return cls(pairs_asked=pairs_asked, suppressed=pairs_asked > 0)
        return cls(
            pairs_asked=pairs_asked, **{key: outcomes.get(key, 0) for key in CONSENT_OUTCOMES}
        )

    @model_validator(mode="after")
    def _small_groups_carry_no_outcome(self) -> Self:
        outcomes = [getattr(self, key) for key in CONSENT_OUTCOMES]
        if self.suppressed and any(value is not None for value in outcomes):
            raise ValueError("suppressed consent figures carry no outcome")
        if not self.suppressed and self.pairs_asked and 2 * self.pairs_asked < MINIMUM_GROUP_SIZE:
            raise ValueError("consent asked of too few people must be suppressed")
        return self


CONSENT_OUTCOMES: tuple[str, ...] = ("accepted", "declined", "lapsed", "left", "pending")


class PulseRound(_Frozen):
    """One pulse check-in round, counted per member asked (both members of each pair), each
    member's last answer counting, as sessions' progress figures count them."""

    pulse_number: int = Field(ge=1)
    asked: int = Field(ge=0, description="Members asked (two per pair).")
    answered: int | None = Field(default=None, ge=0)
    on_track: int | None = Field(default=None, ge=0)
    need_help: int | None = Field(default=None, ge=0)
    suppressed: bool = False

    @classmethod
    def measured(
        cls, *, pulse_number: int, asked: int, on_track: int, need_help: int
    ) -> PulseRound:
        """The round's answers, or none when fewer than the minimum were asked."""
        if asked < MINIMUM_GROUP_SIZE:
            return cls(pulse_number=pulse_number, asked=asked, suppressed=True)
        return cls(
            pulse_number=pulse_number,
            asked=asked,
            answered=on_track + need_help,
            on_track=on_track,
            need_help=need_help,
        )

    @model_validator(mode="after")
    def _small_rounds_carry_no_answer(self) -> Self:
        answers = (self.answered, self.on_track, self.need_help)
        if self.suppressed and any(value is not None for value in answers):
            raise ValueError("a suppressed pulse round carries no answer")
        if not self.suppressed and self.asked < MINIMUM_GROUP_SIZE:
            raise ValueError("a pulse round asked of too few people must be suppressed")
        return self


class SessionRatings(_Frozen):
    """Ratings given after one session number of the plans (1st session, 2nd…)."""

    session_number: int = Field(ge=1)
    ratings: int = Field(ge=0, description="Ratings given (one per person and session).")
    average_rating: float | None = Field(default=None, ge=1, le=5)
    suppressed: bool = False

    @classmethod
    def measured(cls, *, session_number: int, ratings: list[int]) -> SessionRatings:
        """The average, or none when fewer than the minimum rated."""
        if len(ratings) < MINIMUM_GROUP_SIZE:
            return cls(session_number=session_number, ratings=len(ratings), suppressed=True)
        return cls(
            session_number=session_number,
            ratings=len(ratings),
            average_rating=round(sum(ratings) / len(ratings), 2),
        )

    @model_validator(mode="after")
    def _few_ratings_carry_no_average(self) -> Self:
        if self.suppressed and self.average_rating is not None:
            raise ValueError("suppressed ratings carry no average")
        if not self.suppressed and self.ratings < MINIMUM_GROUP_SIZE:
            raise ValueError("fewer ratings than the minimum must be suppressed")
        return self


class ProgrammeReport(_Frozen):
    """Everything the end of a programme (or of the demo) shows, in one document."""

    programme_id: str = Field(min_length=1)
    programme_name: str = Field(min_length=1)
    organisation: str | None = None
    generated_at: datetime = Field(description="When the figures were taken (timezone-aware).")
    mentors: int = Field(ge=0)
    mentees: int = Field(ge=0)
    pairs_formed: int = Field(ge=0)
    unmatched: list[UnmatchedGroup] = Field(default_factory=list)
    pair_scores: list[float] = Field(
        default_factory=list, description="The pairing score (0–1) of every formed pair."
    )
    funnel: ProgrammeFunnel
    sessions_by_month: list[SessionsMonth] = Field(default_factory=list)
    active_pairs: int = Field(default=0, ge=0)
    stalled_pairs: int = Field(default=0, ge=0)
    completed_pairs: int = Field(default=0, ge=0)
    progress_by_business_unit: list[BusinessUnitProgress] = Field(default_factory=list)
    notifications_by_kind: list[KindCount] = Field(default_factory=list)
    dead_letters: list[DeadLetterCount] = Field(
        default_factory=list, description="Per dead-letter topic; all zero when all went well."
    )
    emails_directory: str | None = Field(
        default=None, description="Where the e-mails sent were written as .eml files."
    )
    emails_written: int = Field(default=0, ge=0)
    imposed_pairs: int = Field(default=0, ge=0, description="Formed pairs HR imposed.")
    imposed_overrides: int = Field(
        default=0, ge=0, description="Imposed pairs formed against a hard constraint."
    )
    consent: ConsentFigures = Field(default_factory=ConsentFigures)
    pulse_rounds: list[PulseRound] = Field(default_factory=list)
    ratings_by_session: list[SessionRatings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _scores_are_fractions(self) -> Self:
        if any(not 0.0 <= score <= 1.0 for score in self.pair_scores):
            raise ValueError("pair scores lie between 0 and 1")
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be timezone-aware")
        return self

    @property
    def unmatched_total(self) -> int:
        """Everyone left without a pair."""
        return sum(group.count for group in self.unmatched)

    @property
    def dead_lettered_total(self) -> int:
        """Messages parked on any dead-letter topic (zero is the goal)."""
        return sum(entry.count for entry in self.dead_letters)

    @property
    def notifications_total(self) -> int:
        """Notifications sent, all kinds together."""
        return sum(entry.count for entry in self.notifications_by_kind)
