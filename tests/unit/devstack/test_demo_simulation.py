"""The demo's participants only send what the sessions service accepts: a whole simulated
programme, applied to the real domain (the same command → track mapping the service uses,
with its stall detection and programme end), is refused nothing and ends with every pair
closed. Same seed, same programme."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from binome_devstack.demo_cohort import SIZES, demo_cohort, programme_definition
from binome_devstack.demo_simulation import Behaviour, PairPeople, ProgrammeSimulation
from binome_sessions.domain.follow_up import close_expired, detect_stalls
from binome_sessions.domain.track import PairTrack
from binome_sessions.translation import command_action
from binome_shared.contracts.session_plan import SessionPlan
from binome_shared.contracts.sessions_messages import GiveFeedback, ReportSessionHeld

pytestmark = pytest.mark.unit

STARTS_ON = date(2027, 1, 11)  # a Monday
PAIRS = 300


def programme() -> tuple[SessionPlan, list[PairPeople]]:
    size = SIZES["axa"]
    cohort = demo_cohort(size, seed=11, starts_on=STARTS_ON)
    plan = programme_definition(cohort, size=size).session_plan
    pairs = [
        PairPeople(
            pair_id=f"pair-{number}",
            mentor_id=mentor.participant_id,
            mentee_id=mentee.participant_id,
            mentee_slots=tuple(mentee.availability),
            mentee_time_zone=mentee.time_zone,
            mentee_language=mentee.preferred_language,
            mentor_language=mentor.preferred_language,
            mentee_needs=tuple(need.topic for need in mentee.learning_needs),
        )
        for number, (mentor, mentee) in enumerate(
            zip(cohort.mentors[:PAIRS], cohort.mentees[:PAIRS], strict=True)
        )
    ]
    return plan, pairs


def test_a_whole_simulated_programme_is_accepted_by_the_sessions_domain() -> None:
    plan, pairs = programme()
    simulation = ProgrammeSimulation(pairs=pairs, plan=plan, seed=2027)
    formed_at = simulation.tick_time(0) - timedelta(days=3)
    tracks = {
        people.pair_id: PairTrack.start(
            pair_id=people.pair_id,
            programme_id="programme",
            plan=plan,
            mentor_id=people.mentor_id,
            mentee_id=people.mentee_id,
            mentor_business_unit="Finance",
            mentee_business_unit="Réseaux",
            mentor_trained=True,
            formed_at=formed_at,
        )
        for people in pairs
    }
    stalled: set[str] = set()
    held = 0
    for week in range(simulation.weeks + 1):
        now = simulation.tick_time(week)
        close_expired(tracks.values(), now)  # what the follow-up job does when time moves
        stalled |= {track.pair_id for track in detect_stalls(tracks.values(), now)}
        commands = simulation.week(week)
        if week == simulation.weeks:
            commands += simulation.closing_feedback()
        for sent in commands:
            command_action(sent.command)(tracks[sent.pair_id], now)  # raises if refused
            held += isinstance(sent.command, ReportSessionHeld)

    assert {track.status.value for track in tracks.values()} == {"completed"}
    reasons = [track.completion_reason.value for track in tracks.values()]  # type: ignore[union-attr]
    assert reasons.count("plan_completed") > PAIRS * 0.75
    assert reasons.count("programme_ended") > 0
    assert PAIRS * 0.05 < len(stalled) < PAIRS * 0.4
    assert held == sum(track.sessions_held for track in tracks.values())
    assert sum(track.sessions_held for track in tracks.values()) > PAIRS * 4.5
    assert any(
        feedback.good_fit is False for track in tracks.values() for feedback in track.feedback
    )


def test_the_same_seed_plays_the_same_programme_and_pairs_behave_differently() -> None:
    plan, pairs = programme()
    first = ProgrammeSimulation(pairs=pairs, plan=plan, seed=5)
    again = ProgrammeSimulation(pairs=list(reversed(pairs)), plan=plan, seed=5)
    other = ProgrammeSimulation(pairs=pairs, plan=plan, seed=6)
    weeks = [first.week(week) for week in range(8)]
    assert weeks == [again.week(week) for week in range(8)]
    assert weeks != [other.week(week) for week in range(8)]
    behaviours = first.behaviours
    assert sum(behaviours.values()) == PAIRS
    assert all(behaviours[behaviour] > 0 for behaviour in Behaviour)
    assert behaviours[Behaviour.STEADY] > PAIRS / 2


def test_the_first_session_feedback_answers_the_fit_question_and_later_ones_do_not() -> None:
    plan, pairs = programme()
    simulation = ProgrammeSimulation(pairs=pairs, plan=plan, seed=3)
    feedback = [
        sent.command
        for week in range(simulation.weeks)
        for sent in simulation.week(week)
        if isinstance(sent.command, GiveFeedback) and sent.command.session_number is not None
    ]
    assert {item.good_fit is not None for item in feedback if item.session_number == 1} == {True}
    assert {item.good_fit for item in feedback if item.session_number != 1} == {None}
