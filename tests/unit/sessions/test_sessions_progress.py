"""Programme progress for HR, with figures about small groups suppressed."""

from __future__ import annotations

import json

import pytest

from binome_sessions.domain import (
    PairTrack,
    compute_progress,
    detect_stalls,
)
from binome_shared.contracts.sessions_messages import (
    GroupFigures,
    ObjectiveOutcome,
    ParticipantRole,
    ProgressGrouping,
    RatingFigure,
)

from .sessions_fakes import at, hold, make_plan, make_track

pytestmark = pytest.mark.unit

PROGRAMME = "prog-orange-2025"
NOW = at("2025-03-01")


def population(sizes: dict[str, int]) -> list[PairTrack]:
    """One pair per executive, ``sizes[unit]`` executives in each business unit."""
    return [
        make_track(
            pair_id=f"{unit}-{number}",
            mentee_id=f"{unit}-mentee-{number}",
            mentor_id=f"{unit}-mentor-{number}",
            mentee_business_unit=unit,
        )
        for unit, size in sizes.items()
        for number in range(size)
    ]


def by_group(tracks: list[PairTrack]) -> dict[str, GroupFigures]:
    progress = compute_progress(programme_id=PROGRAMME, tracks=tracks)
    return {group.group: group for group in progress.groups}


def test_figures_count_pairs_sessions_objectives_and_ratings() -> None:
    tracks = population({"finance": 6})
    first, second, third, fourth, fifth, _ = tracks
    for track in tracks:
        hold(track, "kick-off", at("2025-01-20"))
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="kick-off", rating=4, good_fit=True, now=NOW
        )
        track.give_session_feedback(
            author=ParticipantRole.MENTOR, session_key="kick-off", rating=5, good_fit=True, now=NOW
        )
    first.set_objective(
        objective_id="o1", side=ParticipantRole.MENTEE, statement="LinkedIn", now=NOW
    )
    first.set_objective(
        objective_id="o2", side=ParticipantRole.MENTOR, statement="Décider", now=NOW
    )
    first.close_objective(objective_id="o1", outcome=ObjectiveOutcome.MET, now=NOW)
    first.close_objective(objective_id="o2", outcome=ObjectiveOutcome.NOT_MET, now=NOW)
    second.skip_session(session_key="generative-ai", now=NOW)
    second.schedule_session(session_key="social-networks", scheduled_at=at("2025-02-10"), now=NOW)
    second.report_missed(session_key="social-networks", now=NOW)
    third.schedule_session(session_key="social-networks", scheduled_at=at("2025-03-10"), now=NOW)
    detect_stalls([fourth], at("2025-03-20"))
    fifth.dissolve(now=NOW)

    progress = compute_progress(programme_id=PROGRAMME, tracks=tracks)

    finance = progress.groups[0]
    assert (finance.group, finance.suppressed, finance.people) == ("finance", False, 6)
    assert finance.figures is not None
    figures = finance.figures
    assert (
        figures.pairs_active,
        figures.pairs_stalled,
        figures.pairs_completed,
        figures.pairs_dissolved,
    ) == (4, 1, 0, 1)
    assert (
        figures.sessions_planned,
        figures.sessions_scheduled,
        figures.sessions_held,
        figures.sessions_skipped,
        figures.sessions_missed,
    ) == (35, 1, 6, 1, 1)
    assert (figures.objectives_set, figures.objectives_met, figures.objectives_not_met) == (2, 1, 1)
    assert figures.fit_concerns == 0
    assert figures.rating_from_mentees == RatingFigure(value=4.0, raters=6, suppressed=False)
    assert figures.rating_from_mentors == RatingFigure(value=5.0, raters=6, suppressed=False)
    assert progress.total == GroupFigures(group="*", suppressed=False, people=6, figures=figures)


def test_a_group_below_the_threshold_is_suppressed_not_zero() -> None:
    groups = by_group(population({"finance": 7, "legal": 6, "board": 2}))

    board = groups["board"]
    assert (board.suppressed, board.people, board.figures) == (True, None, None)
    assert groups["finance"].suppressed is False


def test_a_lone_suppressed_group_drags_the_next_smallest_with_it() -> None:
    groups = by_group(population({"finance": 7, "legal": 6, "board": 2}))

    assert {name for name, group in groups.items() if group.suppressed} == {"board", "legal"}


def test_complementary_suppression_goes_on_until_the_hidden_groups_reach_the_threshold() -> None:
    groups = by_group(population({"a": 9, "b": 1, "c": 1, "d": 2, "e": 8}))

    assert {name for name, group in groups.items() if group.suppressed} == {"b", "c", "d", "e"}


def test_a_small_programme_shows_nothing_at_all() -> None:
    progress = compute_progress(programme_id=PROGRAMME, tracks=population({"a": 2, "b": 2}))

    assert progress.total.suppressed
    assert progress.total.figures is None
    assert all(group.suppressed for group in progress.groups)


def test_the_threshold_is_a_parameter() -> None:
    progress = compute_progress(
        programme_id=PROGRAMME,
        tracks=population({"a": 3, "b": 3}),
        suppression_threshold=3,
    )

    assert [group.people for group in progress.groups] == [3, 3]
    assert progress.suppression_threshold == 3


def test_people_are_counted_once_even_with_several_pairs() -> None:
    tracks = [
        make_track(pair_id=f"p{n}", mentee_id=f"mentee-{n}", mentor_id="mentor-shared")
        for n in range(6)
    ]

    by_mentor_unit = compute_progress(
        programme_id=PROGRAMME, tracks=tracks, grouped_by=ProgressGrouping.MENTOR_BUSINESS_UNIT
    )
    by_mentee_unit = compute_progress(programme_id=PROGRAMME, tracks=tracks)

    assert by_mentor_unit.total.suppressed  # one mentor only
    assert by_mentee_unit.total.people == 6
    assert by_mentee_unit.groups[0].group == "finance"
    assert by_mentor_unit.groups[0].group == "digital"


def test_ratings_from_fewer_raters_than_the_threshold_are_suppressed() -> None:
    tracks = population({"finance": 6})
    for track in tracks[:4]:
        hold(track, "kick-off", at("2025-01-20"))
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="kick-off", rating=1, good_fit=False, now=NOW
        )

    figures = compute_progress(programme_id=PROGRAMME, tracks=tracks).total.figures

    assert figures is not None
    assert figures.rating_from_mentees == RatingFigure(value=None, raters=None, suppressed=True)
    assert figures.rating_from_mentors == RatingFigure(value=None, raters=0, suppressed=False)
    assert figures.fit_concerns == 4


def test_ratings_hidden_in_one_group_are_hidden_in_another_so_the_total_cannot_reveal_them() -> (
    None
):
    tracks = population({"finance": 6, "legal": 6, "ops": 6})
    raters = tracks[:6] + tracks[6:9] + tracks[12:18]  # finance 6, legal 3, ops 6
    for track in raters:
        hold(track, "kick-off", at("2025-01-20"))
        track.give_session_feedback(
            author=ParticipantRole.MENTEE, session_key="kick-off", rating=3, good_fit=True, now=NOW
        )

    progress = compute_progress(programme_id=PROGRAMME, tracks=tracks)

    hidden = {
        group.group
        for group in progress.groups
        if group.figures is not None and group.figures.rating_from_mentees.suppressed
    }
    assert hidden == {"finance", "legal"}
    assert progress.total.figures is not None
    assert progress.total.figures.rating_from_mentees.value == 3.0


def test_progress_serialises_to_json_with_suppression_explicit() -> None:
    data = compute_progress(
        programme_id=PROGRAMME, tracks=population({"finance": 5, "board": 1, "legal": 5})
    ).to_dict()

    text = json.dumps(data)
    assert json.loads(text)["grouped_by"] == "mentee_business_unit"
    board = next(group for group in data["groups"] if group["group"] == "board")
    assert board == {"group": "board", "suppressed": True, "people": None, "figures": None}


def test_tracks_of_another_programme_are_refused() -> None:
    stranger = make_track(programme_id="other")

    with pytest.raises(ValueError, match="other programmes"):
        compute_progress(programme_id=PROGRAMME, tracks=[stranger])


def test_a_programme_without_pairs_reports_an_empty_suppressed_total() -> None:
    progress = compute_progress(programme_id=PROGRAMME, tracks=[])

    assert progress.groups == ()
    assert progress.total.suppressed


def test_completed_pairs_are_counted_as_completed() -> None:
    single = [
        make_track(
            pair_id=f"s{n}",
            mentee_id=f"s-mentee-{n}",
            plan=make_plan(sessions=[make_plan().sessions[0]]),
        )
        for n in range(5)
    ]
    for track in single:
        hold(track, "kick-off", at("2025-01-20"))

    figures = compute_progress(programme_id=PROGRAMME, tracks=single).total.figures

    assert figures is not None
    assert (figures.pairs_completed, figures.pairs_active, figures.sessions_held) == (5, 0, 5)
