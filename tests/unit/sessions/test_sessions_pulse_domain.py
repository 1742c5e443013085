"""Pulse check-ins in the pure domain: when rounds are due (default and custom rhythm), that
they stop with the pair, that "need help" alerts HR once per round, the refusals, and the
figures with small groups suppressed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from binome_sessions.domain import (
    CommandRejectedError,
    PairNeedsHelp,
    PairTrack,
    PulseAnswered,
    PulseRequested,
    RejectionCode,
    compute_progress,
)
from binome_sessions.domain.progress import DEFAULT_SUPPRESSION_THRESHOLD
from binome_shared.contracts.session_plan import PulseSettings
from binome_shared.contracts.sessions_messages import ParticipantRole, PulseAnswer

from .sessions_fakes import (
    DEFAULT_KEYS,
    PROGRAMME_ID,
    FakeClock,
    event_names,
    hold,
    make_plan,
    make_track,
)

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
STARTED = datetime(2025, 1, 13, tzinfo=PARIS)
"""The pair was formed on 10 January, before the programme's first day: it starts then."""
ON_TRACK, NEED_HELP = PulseAnswer.ON_TRACK, PulseAnswer.NEED_HELP


def asked(track: PairTrack, clock: FakeClock, *, days: int, step_hours: int = 1) -> list[int]:
    """Run the follow-up every ``step_hours`` for ``days``; the round numbers asked, in order."""
    numbers = []
    for _ in range(days * 24 // step_hours):
        if track.ask_pulse_if_due(now=clock.advance(hours=step_hours)):
            numbers.append(track.pulses[-1].number)
    return numbers


def open_round(track: PairTrack, *, at: datetime | None = None) -> datetime:
    """Ask the first round at its due time and take its event."""
    now = at or STARTED + timedelta(days=30)
    assert track.ask_pulse_if_due(now=now)
    track.pull_events()
    return now


def test_by_default_rounds_are_due_30_days_after_the_start_then_every_60() -> None:
    track = make_track()

    assert [track.pulse_round_due_at(n) for n in (1, 2, 3)] == [
        STARTED + timedelta(days=30),
        STARTED + timedelta(days=90),
        STARTED + timedelta(days=150),
    ]
    assert not track.ask_pulse_if_due(now=STARTED + timedelta(days=30, seconds=-1))
    assert track.ask_pulse_if_due(now=STARTED + timedelta(days=30))
    assert track.events == [
        PulseRequested(
            pair_id="pair-1",
            programme_id=PROGRAMME_ID,
            occurred_at=STARTED + timedelta(days=30),
            pulse_number=1,
            mentor_id="mentor-1",
            mentee_id="mentee-1",
        )
    ]
    assert track.next_pulse_due_at() == STARTED + timedelta(days=90)


def test_an_hourly_follow_up_asks_each_round_once_and_none_after_the_programme() -> None:
    track = make_track()
    clock = FakeClock(start=STARTED)

    # 13 January to 4 July: days 30, 90 and 150; day 210 falls after the programme's end.
    assert asked(track, clock, days=240) == [1, 2, 3]
    assert event_names(track) == ["PulseRequested"] * 3
    assert [pulse.closed_at is not None for pulse in track.pulses] == [True, True, False]
    assert track.next_pulse_due_at() is None


def test_a_custom_rhythm_counts_from_a_pair_formed_after_the_programme_start() -> None:
    formed_at = datetime(2025, 2, 3, 15, 30, tzinfo=PARIS)
    track = make_track(
        plan=make_plan(pulse=PulseSettings(first_after_days=14, every_days=28)),
        formed_at=formed_at,
    )
    clock = FakeClock(start=formed_at)

    assert asked(track, clock, days=57) == [1, 2]
    assert [pulse.asked_at for pulse in track.pulses] == [
        formed_at + timedelta(days=14),
        formed_at + timedelta(days=42),
    ]


def test_a_programme_may_ask_no_pulse_at_all() -> None:
    track = make_track(plan=make_plan(pulse=PulseSettings(enabled=False)))

    assert track.next_pulse_due_at() is None
    assert asked(track, FakeClock(start=STARTED), days=200, step_hours=24) == []


def test_a_follow_up_that_was_paused_asks_only_the_latest_round_due() -> None:
    track = make_track()

    assert track.ask_pulse_if_due(now=STARTED + timedelta(days=100))
    assert [pulse.number for pulse in track.pulses] == [2]
    with pytest.raises(CommandRejectedError) as skipped:
        track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=ON_TRACK, now=STARTED)
    assert skipped.value.code is RejectionCode.PULSE_NOT_ASKED


def test_rounds_end_with_the_pair() -> None:
    completed = make_track()
    clock = FakeClock(start=STARTED)
    for index, key in enumerate(DEFAULT_KEYS):
        hold(completed, key, STARTED + timedelta(days=1 + index))
    assert completed.status == "completed"
    assert asked(completed, clock, days=200, step_hours=24) == []

    dissolved = make_track()
    now = open_round(dissolved)
    dissolved.dissolve(now=now)
    assert dissolved.next_pulse_due_at() is None
    with pytest.raises(CommandRejectedError) as closed:
        dissolved.answer_pulse(participant_id="mentor-1", pulse_number=1, answer=NEED_HELP, now=now)
    assert closed.value.code is RejectionCode.PULSE_CLOSED


def test_need_help_alerts_hr_once_per_round_whoever_answers_and_however_often() -> None:
    track = make_track()
    now = open_round(track)

    track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=NEED_HELP, now=now)
    track.answer_pulse(participant_id="mentor-1", pulse_number=1, answer=NEED_HELP, now=now)
    track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=ON_TRACK, now=now)
    track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=NEED_HELP, now=now)

    assert event_names(track) == ["PulseAnswered", "PairNeedsHelp", *["PulseAnswered"] * 3]
    assert track.events[1] == PairNeedsHelp(
        pair_id="pair-1",
        programme_id=PROGRAMME_ID,
        occurred_at=now,
        pulse_number=1,
        side=ParticipantRole.MENTEE,
    )
    track.pull_events()

    # The next round is a new question: a "need help" there alerts HR again.
    second = open_round(track, at=STARTED + timedelta(days=90))
    track.answer_pulse(participant_id="mentor-1", pulse_number=2, answer=NEED_HELP, now=second)
    assert event_names(track) == ["PulseAnswered", "PairNeedsHelp"]
    assert isinstance(track.events[1], PairNeedsHelp)
    assert (track.events[1].pulse_number, track.events[1].side) == (2, ParticipantRole.MENTOR)


def test_the_last_answer_counts_and_the_same_answer_again_changes_nothing() -> None:
    track = make_track()
    now = open_round(track)

    track.answer_pulse(participant_id="mentor-1", pulse_number=1, answer=ON_TRACK, now=now)
    version = track.version
    track.answer_pulse(participant_id="mentor-1", pulse_number=1, answer=ON_TRACK, now=now)
    assert track.version == version, "a second click on the same link is not a change"
    later = now + timedelta(days=2)
    track.answer_pulse(participant_id="mentor-1", pulse_number=1, answer=NEED_HELP, now=later)

    [reply] = track.pulses[0].replies
    assert (reply.side, reply.answer, reply.answered_at) == (
        ParticipantRole.MENTOR,
        NEED_HELP,
        later,
    )
    assert track.events[-2] == PulseAnswered(
        pair_id="pair-1",
        programme_id=PROGRAMME_ID,
        occurred_at=later,
        pulse_number=1,
        side=ParticipantRole.MENTOR,
        answer=NEED_HELP,
    )


@pytest.mark.parametrize(
    ("participant_id", "pulse_number", "code"),
    [
        ("someone-else", 1, RejectionCode.NOT_PAIR_MEMBER),
        ("mentee-1", 2, RejectionCode.PULSE_NOT_ASKED),
    ],
)
def test_answers_from_outside_the_pair_or_to_a_round_not_asked_are_refused(
    participant_id: str, pulse_number: int, code: RejectionCode
) -> None:
    track = make_track()
    now = open_round(track)
    before = track.to_dict()

    with pytest.raises(CommandRejectedError) as refused:
        track.answer_pulse(
            participant_id=participant_id, pulse_number=pulse_number, answer=NEED_HELP, now=now
        )

    assert refused.value.code is code
    assert " binôme" in refused.value.reason.fr
    assert "pair" in refused.value.reason.en
    assert track.to_dict() == before
    assert track.events == []


def test_a_round_closes_when_the_next_one_is_asked() -> None:
    track = make_track()
    open_round(track)
    second = open_round(track, at=STARTED + timedelta(days=90))

    with pytest.raises(CommandRejectedError) as closed:
        track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=NEED_HELP, now=second)
    assert closed.value.code is RejectionCode.PULSE_CLOSED
    assert track.pulses[0].closed_at == second


def test_rounds_and_answers_survive_storage_and_older_tracks_have_none() -> None:
    track = make_track()
    now = open_round(track)
    track.answer_pulse(participant_id="mentee-1", pulse_number=1, answer=NEED_HELP, now=now)

    stored = track.to_dict()
    assert PairTrack.from_dict(stored).pulses == track.pulses
    del stored["pulses"]
    assert PairTrack.from_dict(stored).pulses == []


def pair_with_answers(index: int, unit: str, answers: dict[str, PulseAnswer]) -> PairTrack:
    track = make_track(
        pair_id=f"pair-{index}",
        mentor_id=f"mentor-{index}",
        mentee_id=f"mentee-{index}",
        mentee_business_unit=unit,
    )
    now = open_round(track)
    for who, answer in answers.items():
        track.answer_pulse(participant_id=f"{who}-{index}", pulse_number=1, answer=answer, now=now)
    return track


def test_pulse_figures_count_members_and_are_hidden_with_small_groups() -> None:
    finance = [
        pair_with_answers(0, "finance", {"mentee": NEED_HELP, "mentor": ON_TRACK}),
        pair_with_answers(1, "finance", {"mentee": ON_TRACK}),
        *(pair_with_answers(index, "finance", {}) for index in range(2, 6)),
    ]
    legal = [pair_with_answers(9, "legal", {"mentee": NEED_HELP})]
    hr = [pair_with_answers(index, "hr", {}) for index in range(10, 15)]

    progress = compute_progress(programme_id=PROGRAMME_ID, tracks=[*finance, *legal, *hr])
    groups = {group.group: group for group in progress.groups}

    assert DEFAULT_SUPPRESSION_THRESHOLD == 5
    assert groups["legal"].suppressed
    assert groups["legal"].figures is None
    assert groups["hr"].suppressed, "else the total minus finance would show legal's answer"
    finance_figures = groups["finance"].figures
    assert finance_figures is not None
    assert (
        finance_figures.pulses_asked,
        finance_figures.pulses_answered,
        finance_figures.pulses_on_track,
        finance_figures.pulses_need_help,
    ) == (12, 3, 2, 1)
    total = progress.total.figures
    assert total is not None
    assert (total.pulses_asked, total.pulses_answered, total.pulses_need_help) == (24, 4, 2)
