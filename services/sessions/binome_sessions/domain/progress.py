"""Programme progress for HR: a read model computed from the pairs' state.

Figures about fewer people than the threshold are suppressed (reported as suppressed, never
as zero) so that no executive can be singled out, including by subtracting the visible groups
from the programme's total.

A group's figures are the published contract's own (``GroupFigures``, ``ProgressFigures``,
``RatingFigure``): the same idea under one name, which the report carries as computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from binome_sessions.domain.track import PairTrack
from binome_sessions.domain.values import (
    ObjectiveStatus,
    PairStatus,
    SessionStatus,
)
from binome_shared.contracts.sessions_messages import (
    FeedbackMoment,
    GroupFigures,
    ParticipantRole,
    ProgressFigures,
    ProgressGrouping,
    PulseAnswer,
    RatingFigure,
)

DEFAULT_SUPPRESSION_THRESHOLD = 5
TOTAL_GROUP = "*"


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgrammeProgress:
    """A programme's progress: the total and one entry per business unit, sorted by name.

    Not the published ``ProgrammeProgressReported`` itself: that one adds when and for which
    period it was reported, and the programme's end, which the service knows, not the domain.
    """

    programme_id: str
    grouped_by: ProgressGrouping
    suppression_threshold: int
    total: GroupFigures
    groups: tuple[GroupFigures, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data."""
        return {
            "programme_id": self.programme_id,
            "grouped_by": self.grouped_by.value,
            "suppression_threshold": self.suppression_threshold,
            "total": self.total.model_dump(mode="json"),
            "groups": [group.model_dump(mode="json") for group in self.groups],
        }


def compute_progress(
    *,
    programme_id: str,
    tracks: Iterable[PairTrack],
    grouped_by: ProgressGrouping = ProgressGrouping.MENTEE_BUSINESS_UNIT,
    suppression_threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
) -> ProgrammeProgress:
    """Compute the progress of one programme's pairs, with small groups suppressed."""
    if suppression_threshold < 1:
        raise ValueError("suppression_threshold must be at least 1")
    pairs = list(tracks)
    strangers = sorted({track.programme_id for track in pairs} - {programme_id})
    if strangers:
        raise ValueError(f"tracks of other programmes were passed: {strangers}")

    by_group: dict[str, list[PairTrack]] = {}
    for track in pairs:
        by_group.setdefault(_group_of(track, grouped_by), []).append(track)

    people = {group: _people(members, grouped_by) for group, members in by_group.items()}
    total_people = _people(pairs, grouped_by)
    total_suppressed = total_people < suppression_threshold
    suppressed_groups = (
        set(people)
        if total_suppressed
        else _with_complementary_suppression(
            people,
            {group for group, count in people.items() if count < suppression_threshold},
            suppression_threshold,
        )
    )
    hidden_ratings = {
        side: _hidden_ratings(by_group, side, suppressed_groups, suppression_threshold)
        for side in ParticipantRole
    }

    def progress_of(group: str, members: Sequence[PairTrack], count: int) -> GroupFigures:
        hidden = total_suppressed if group == TOTAL_GROUP else group in suppressed_groups
        if hidden:
            return GroupFigures(group=group, suppressed=True, people=None, figures=None)
        return GroupFigures(
            group=group,
            suppressed=False,
            people=count,
            figures=_figures(
                members,
                hide_mentee_rating=group in hidden_ratings[ParticipantRole.MENTEE],
                hide_mentor_rating=group in hidden_ratings[ParticipantRole.MENTOR],
            ),
        )

    return ProgrammeProgress(
        programme_id=programme_id,
        grouped_by=grouped_by,
        suppression_threshold=suppression_threshold,
        total=progress_of(TOTAL_GROUP, pairs, total_people),
        groups=tuple(
            progress_of(group, by_group[group], people[group]) for group in sorted(by_group)
        ),
    )


def _group_of(track: PairTrack, grouped_by: ProgressGrouping) -> str:
    if grouped_by is ProgressGrouping.MENTOR_BUSINESS_UNIT:
        return track.mentor_business_unit
    return track.mentee_business_unit


def _people(tracks: Sequence[PairTrack], grouped_by: ProgressGrouping) -> int:
    if grouped_by is ProgressGrouping.MENTOR_BUSINESS_UNIT:
        return len({track.mentor_id for track in tracks})
    return len({track.mentee_id for track in tracks})


def _with_complementary_suppression(
    counts: dict[str, int], hidden: set[str], threshold: int
) -> set[str]:
    """Hide more groups, smallest first, until the hidden ones cannot be recovered by subtraction.

    With the total visible, the hidden groups together equal the total minus the visible
    ones: that sum must itself cover at least ``threshold`` people (or nobody at all).
    """
    hidden = set(hidden)
    visible = sorted(
        (group for group in counts if group not in hidden and counts[group] > 0),
        key=lambda group: (counts[group], group),
    )
    while visible and 0 < sum(counts[group] for group in hidden) < threshold:
        hidden.add(visible.pop(0))
    return hidden


def _raters(tracks: Sequence[PairTrack], side: ParticipantRole) -> set[str]:
    return {
        track.mentee_id if side is ParticipantRole.MENTEE else track.mentor_id
        for track in tracks
        if any(given.author is side for given in track.feedback)
    }


def _hidden_ratings(
    by_group: dict[str, list[PairTrack]],
    side: ParticipantRole,
    suppressed_groups: set[str],
    threshold: int,
) -> set[str]:
    """Groups (and the total, as TOTAL_GROUP) whose average rating from ``side`` is hidden."""
    raters = {group: len(_raters(members, side)) for group, members in by_group.items()}
    everyone = [track for members in by_group.values() for track in members]
    hidden = _with_complementary_suppression(
        raters,
        suppressed_groups | {group for group, count in raters.items() if 0 < count < threshold},
        threshold,
    )
    if 0 < len(_raters(everyone, side)) < threshold:
        hidden.add(TOTAL_GROUP)
    return hidden


def _figures(
    tracks: Sequence[PairTrack], *, hide_mentee_rating: bool, hide_mentor_rating: bool
) -> ProgressFigures:
    sessions = [session for track in tracks for session in track.sessions]
    objectives = [objective for track in tracks for objective in track.objectives]
    return ProgressFigures(
        pairs_active=sum(
            1 for track in tracks if track.status is PairStatus.ACTIVE and not track.is_stalled
        ),
        pairs_stalled=sum(1 for track in tracks if track.is_stalled),
        pairs_completed=sum(1 for track in tracks if track.status is PairStatus.COMPLETED),
        pairs_dissolved=sum(1 for track in tracks if track.status is PairStatus.DISSOLVED),
        sessions_planned=sum(1 for s in sessions if s.status is not SessionStatus.SKIPPED),
        sessions_scheduled=sum(1 for s in sessions if s.status is SessionStatus.SCHEDULED),
        sessions_held=sum(1 for s in sessions if s.status is SessionStatus.HELD),
        sessions_skipped=sum(1 for s in sessions if s.status is SessionStatus.SKIPPED),
        sessions_missed=sum(s.times_missed for s in sessions),
        objectives_set=len(objectives),
        objectives_met=sum(1 for o in objectives if o.status is ObjectiveStatus.MET),
        objectives_not_met=sum(1 for o in objectives if o.status is ObjectiveStatus.NOT_MET),
        fit_concerns=sum(
            1
            for track in tracks
            for given in track.feedback
            if given.moment is FeedbackMoment.AFTER_SESSION and given.good_fit is False
        ),
        rating_from_mentees=_average_rating(
            tracks, ParticipantRole.MENTEE, hidden=hide_mentee_rating
        ),
        rating_from_mentors=_average_rating(
            tracks, ParticipantRole.MENTOR, hidden=hide_mentor_rating
        ),
        **_pulse_figures(tracks),
    )


def _pulse_figures(tracks: Sequence[PairTrack]) -> dict[str, int]:
    """Pulse check-ins counted per member asked: each round asks both members of the pair,
    and each member's last answer counts. Shown or hidden with their group, like every count."""
    rounds = [pulse for track in tracks for pulse in track.pulses]
    answers = [reply.answer for pulse in rounds for reply in pulse.replies]
    return {
        "pulses_asked": 2 * len(rounds),
        "pulses_answered": len(answers),
        "pulses_on_track": answers.count(PulseAnswer.ON_TRACK),
        "pulses_need_help": answers.count(PulseAnswer.NEED_HELP),
    }


def _average_rating(
    tracks: Sequence[PairTrack], side: ParticipantRole, *, hidden: bool
) -> RatingFigure:
    if hidden:
        return RatingFigure(value=None, raters=None, suppressed=True)
    ratings = [given.rating for track in tracks for given in track.feedback if given.author is side]
    if not ratings:
        return RatingFigure(value=None, raters=0, suppressed=False)
    return RatingFigure(
        value=round(sum(ratings) / len(ratings), 2),
        raters=len(_raters(tracks, side)),
        suppressed=False,
    )
