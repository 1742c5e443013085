"""A programme's progress for HR (``ProgrammeProgressReported``), small groups suppressed."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.base import Event
from binome_shared.contracts.moments import Day, Moment
from binome_shared.contracts.sessions_messages.vocabulary import ProgressGrouping
from binome_shared.contracts.text import Name
from binome_shared.contracts.topics import SESSIONS_EVENTS
from binome_shared.contracts.values import Count


class RatingFigure(BaseModel):
    """The mean rating one side gave; suppressed when fewer people than the threshold rated."""

    model_config = ConfigDict(frozen=True)

    value: Annotated[float, Field(ge=1, le=5)] | None = Field(
        description="Null when nobody rated yet, or when suppressed."
    )
    raters: Count | None = Field(description="How many people rated; null when suppressed.")
    suppressed: bool


class ProgressFigures(BaseModel):
    """What a group of pairs has achieved so far."""

    model_config = ConfigDict(frozen=True)

    pairs_active: Count = Field(description="Active and not stalled.")
    pairs_stalled: Count
    pairs_completed: Count
    pairs_dissolved: Count
    sessions_planned: Count
    sessions_scheduled: Count
    sessions_held: Count
    sessions_skipped: Count
    sessions_missed: Count
    objectives_set: Count
    objectives_met: Count
    objectives_not_met: Count
    fit_concerns: Count
    rating_from_mentees: RatingFigure
    rating_from_mentors: RatingFigure
    # Pulse check-ins (1.1): one per member asked in a round; null in reports made before.
    pulses_asked: Count | None = Field(
        default=None, description="Members asked in pulse rounds (two per pair and round)."
    )
    pulses_answered: Count | None = Field(
        default=None, description="Of those, how many answered (their last answer counts)."
    )
    pulses_on_track: Count | None = Field(default=None, description="Answers 'on track'.")
    pulses_need_help: Count | None = Field(default=None, description="Answers 'we need help'.")


class GroupFigures(BaseModel):
    """One business unit's figures (or the programme's, group ``*``), unless suppressed."""

    model_config = ConfigDict(frozen=True)

    group: Name = Field(examples=["Finance", "*"])
    suppressed: bool = Field(
        description="Too few people to show without singling someone out: figures are null."
    )
    people: Count | None
    figures: ProgressFigures | None


class ProgrammeProgressReported(
    Event,
    type="binome.sessions.programme-progress-reported",
    version=(1, 1),
    topic=SESSIONS_EVENTS,
):
    """A programme's progress for HR, by business unit, with small groups suppressed.

    1.1 added the pulse check-in figures (``pulses_*``) to each group's figures."""

    reported_at: Moment
    period_start: Moment | None = Field(
        default=None, description="Start of the period this periodic report covers."
    )
    grouped_by: ProgressGrouping
    suppression_threshold: Count = Field(ge=1)
    total: GroupFigures
    groups: list[GroupFigures] = Field(max_length=100_000)
    programme_ends_on: Day | None = None
