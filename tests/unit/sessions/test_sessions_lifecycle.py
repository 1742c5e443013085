"""Session life cycle rules of a pair's track: schedule, reschedule, cancel, skip, held, missed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from binome_sessions.domain import (
    CommandRejectedError,
    PairCompleted,
    PairPlanStarted,
    PairStatus,
    PairTrack,
    RejectionCode,
    SessionCancelled,
    SessionCompleted,
    SessionMissed,
    SessionRescheduled,
    SessionScheduled,
    SessionSkipped,
    SessionStatus,
)
from binome_shared.contracts.session_plan import SequencePolicy
from binome_shared.contracts.sessions_messages import (
    Absence,
    Attendance,
    CancellationReason,
    CompletionReason,
)

from .sessions_fakes import DEFAULT_KEYS, at, event_names, hold, make_plan, make_track

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NOW = at("2025-03-01")


def rejected(code: RejectionCode) -> pytest.RaisesExc[CommandRejectedError]:
    return pytest.raises(CommandRejectedError, match=rf"^{code.value}:")


# ---------------------------------------------------------------- instantiation


def test_start_instantiates_the_deroule_with_targets_at_the_cadence() -> None:
    track = make_track()

    assert [s.key for s in track.sessions] == list(DEFAULT_KEYS)
    assert [s.position for s in track.sessions] == [1, 2, 3, 4, 5, 6]
    assert [s.target_on for s in track.sessions] == [
        date(2025, 1, 13),
        date(2025, 2, 3),
        date(2025, 2, 24),
        date(2025, 3, 17),
        date(2025, 4, 7),
        date(2025, 4, 28),
    ]
    assert {s.status for s in track.sessions} == {SessionStatus.PLANNED}
    assert track.status is PairStatus.ACTIVE
    assert track.events == []


def test_targets_start_from_formation_when_the_pair_forms_late_and_stop_at_the_end() -> None:
    track = make_track(plan=make_plan(ends_on=date(2025, 4, 1)), formed_at=at("2025-03-05"))

    assert [s.target_on for s in track.sessions] == [
        date(2025, 3, 5),
        date(2025, 3, 26),
        date(2025, 4, 1),
        date(2025, 4, 1),
        date(2025, 4, 1),
        date(2025, 4, 1),
    ]


def test_naive_datetimes_are_a_programming_error() -> None:
    track = make_track()

    with pytest.raises(ValueError, match="scheduled_at must be timezone-aware"):
        track.schedule_session(
            session_key="kick-off", scheduled_at=datetime(2025, 1, 20, 10), now=NOW
        )


def test_start_records_that_the_plan_started() -> None:
    track = PairTrack.start(
        pair_id="pair-9",
        programme_id="prog-orange-2025",
        plan=make_plan(),
        mentor_id="mentor-9",
        mentee_id="mentee-9",
        mentor_business_unit="digital",
        mentee_business_unit="finance",
        mentor_trained=True,
        formed_at=at("2025-01-10"),
    )

    assert track.events == [
        PairPlanStarted(
            pair_id="pair-9",
            programme_id="prog-orange-2025",
            occurred_at=at("2025-01-10"),
            sessions_planned=6,
            first_session_due_on=date(2025, 1, 13),
        )
    ]


def test_sessions_are_found_by_their_number_in_the_plan() -> None:
    track = make_track()

    assert [track.session_key_at(number) for number in (1, 6)] == ["kick-off", "review"]
    for number in (0, 7):
        with pytest.raises(CommandRejectedError) as caught:
            track.session_key_at(number)
        assert (caught.value.code, caught.value.subject) == (
            RejectionCode.UNKNOWN_SESSION,
            str(number),
        )


# ---------------------------------------------------------------- schedule


def test_schedule_records_session_scheduled_with_the_plan_duration() -> None:
    track = make_track(plan=make_plan(session_duration_minutes=75))

    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    assert track.events == [
        SessionScheduled(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            theme_key="kick-off",
            session_number=1,
            starts_at=at("2025-01-20"),
            duration_minutes=75,
            location="",
            sequence=0,
        )
    ]
    assert track.session("kick-off").status is SessionStatus.SCHEDULED


def test_schedule_accepts_an_explicit_duration_and_stores_utc() -> None:
    track = make_track()
    paris_time = datetime(2025, 1, 20, 18, 30, tzinfo=PARIS)

    track.schedule_session(
        session_key="kick-off", scheduled_at=paris_time, now=NOW, duration_minutes=90
    )

    session = track.session("kick-off")
    assert session.duration_minutes == 90
    assert session.scheduled_at == datetime(2025, 1, 20, 17, 30, tzinfo=UTC)
    assert session.scheduled_at.tzinfo is UTC


@pytest.mark.parametrize("minutes", [0, 481])
def test_schedule_rejects_an_unreasonable_duration(minutes: int) -> None:
    track = make_track()

    with rejected(RejectionCode.DURATION_OUT_OF_RANGE):
        track.schedule_session(
            session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, duration_minutes=minutes
        )


def test_schedule_requires_the_mentor_training_when_the_programme_asks_for_it() -> None:
    track = make_track(plan=make_plan(mentor_training_required=True), mentor_trained=False)

    with rejected(RejectionCode.MENTOR_TRAINING_REQUIRED):
        track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    track.record_mentor_trained(now=NOW)
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)
    assert track.session("kick-off").status is SessionStatus.SCHEDULED


def test_untrained_mentor_is_fine_when_the_programme_does_not_require_training() -> None:
    track = make_track(plan=make_plan(mentor_training_required=False), mentor_trained=False)

    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    assert event_names(track) == ["SessionScheduled"]


@pytest.mark.parametrize(
    ("local_time", "inside"),
    [
        (datetime(2025, 1, 12, 23, 59, tzinfo=PARIS), False),
        (datetime(2025, 1, 13, 0, 0, tzinfo=PARIS), True),
        (datetime(2025, 7, 4, 23, 0, tzinfo=PARIS), True),
        (datetime(2025, 7, 5, 0, 0, tzinfo=PARIS), False),
    ],
)
def test_sessions_are_dated_within_the_programme_days_in_its_time_zone(
    local_time: datetime, inside: bool
) -> None:
    track = make_track()

    if inside:
        track.schedule_session(session_key="kick-off", scheduled_at=local_time, now=NOW)
        assert track.session("kick-off").scheduled_at == local_time
    else:
        with rejected(RejectionCode.OUTSIDE_PROGRAMME_DATES):
            track.schedule_session(session_key="kick-off", scheduled_at=local_time, now=NOW)


def test_schedule_twice_is_rejected_in_favour_of_reschedule() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.SESSION_ALREADY_SCHEDULED):
        track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-21"), now=NOW)


def test_schedule_of_an_unknown_session_is_rejected_with_its_key() -> None:
    track = make_track()

    with pytest.raises(CommandRejectedError) as caught:
        track.schedule_session(session_key="golf", scheduled_at=at("2025-01-20"), now=NOW)

    assert caught.value.code is RejectionCode.UNKNOWN_SESSION
    assert caught.value.subject == "golf"
    assert caught.value.reason.fr.startswith("Cette séance ne fait pas partie")


def test_overlapping_sessions_of_one_pair_are_rejected_but_back_to_back_is_fine() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20", 10), now=NOW)

    with rejected(RejectionCode.OVERLAPPING_SESSION):
        track.schedule_session(
            session_key="social-networks",
            scheduled_at=at("2025-01-20", 10) + timedelta(minutes=30),
            now=NOW,
        )
    track.schedule_session(
        session_key="social-networks", scheduled_at=at("2025-01-20", 11), now=NOW
    )

    assert event_names(track) == ["SessionScheduled", "SessionScheduled"]


def test_a_rejected_command_changes_nothing_and_records_nothing() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)
    before = track.to_dict()
    events_before = list(track.events)

    with rejected(RejectionCode.OVERLAPPING_SESSION):
        track.schedule_session(session_key="review", scheduled_at=at("2025-01-20"), now=NOW)

    assert track.to_dict() == before
    assert track.events == events_before


# ---------------------------------------------------------------- reschedule


def test_reschedule_moves_the_slot_and_keeps_the_duration() -> None:
    track = make_track()
    track.schedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, duration_minutes=45
    )

    track.reschedule_session(session_key="kick-off", scheduled_at=at("2025-01-22"), now=NOW)

    assert track.events[-1] == SessionRescheduled(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=NOW,
        theme_key="kick-off",
        session_number=1,
        previous_starts_at=at("2025-01-20"),
        starts_at=at("2025-01-22"),
        duration_minutes=45,
        location="",
        sequence=1,
    )


def test_reschedule_to_an_overlapping_slot_of_its_own_is_fine() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20", 10), now=NOW)

    track.reschedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-20", 10) + timedelta(minutes=30), now=NOW
    )

    assert track.session("kick-off").scheduled_at == datetime(2025, 1, 20, 10, 30, tzinfo=UTC)


def test_reschedule_to_the_same_slot_changes_nothing() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)
    version = track.version

    track.reschedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    assert event_names(track) == ["SessionScheduled"]
    assert track.version == version


def test_reschedule_of_a_session_not_scheduled_is_rejected() -> None:
    with rejected(RejectionCode.SESSION_NOT_SCHEDULED):
        make_track().reschedule_session(
            session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW
        )


def test_reschedule_of_a_held_session_is_rejected() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))

    with rejected(RejectionCode.SESSION_ALREADY_HELD):
        track.reschedule_session(session_key="kick-off", scheduled_at=at("2025-01-27"), now=NOW)


def test_reschedule_outside_the_programme_is_rejected() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.OUTSIDE_PROGRAMME_DATES):
        track.reschedule_session(session_key="kick-off", scheduled_at=at("2025-08-01"), now=NOW)


def test_the_location_travels_with_the_appointment_and_every_change_is_a_new_revision() -> None:
    track = make_track()
    track.schedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, location="Teams"
    )
    track.reschedule_session(session_key="kick-off", scheduled_at=at("2025-01-21"), now=NOW)
    track.reschedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-21"), now=NOW, location="Nanterre"
    )

    scheduled, moved, relocated = track.events
    assert isinstance(scheduled, SessionScheduled)
    assert isinstance(moved, SessionRescheduled)
    assert isinstance(relocated, SessionRescheduled)
    assert [(e.location, e.sequence) for e in (scheduled, moved, relocated)] == [
        ("Teams", 0),
        ("Teams", 1),
        ("Nanterre", 2),
    ]

    track.cancel_session(session_key="kick-off", reason=CancellationReason.OTHER, now=NOW)
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-27"), now=NOW)
    rescheduled = track.events[-1]
    assert isinstance(rescheduled, SessionScheduled)
    assert (rescheduled.location, rescheduled.sequence) == ("", 3)


def test_a_location_is_short() -> None:
    track = make_track()

    with rejected(RejectionCode.LOCATION_TOO_LONG):
        track.schedule_session(
            session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, location="x" * 301
        )


# ---------------------------------------------------------------- cancel and skip


def test_cancel_frees_the_session_to_be_scheduled_again() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    track.cancel_session(
        session_key="kick-off", reason=CancellationReason.PARTICIPANT_UNAVAILABLE, now=NOW
    )

    assert track.events[-1] == SessionCancelled(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=NOW,
        theme_key="kick-off",
        session_number=1,
        cancelled_starts_at=at("2025-01-20"),
        reason=CancellationReason.PARTICIPANT_UNAVAILABLE,
        sequence=1,
    )
    session = track.session("kick-off")
    assert (session.status, session.scheduled_at, session.times_cancelled) == (
        SessionStatus.PLANNED,
        None,
        1,
    )
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-27"), now=NOW)
    assert track.session("kick-off").status is SessionStatus.SCHEDULED


def test_cancel_of_a_held_or_unscheduled_session_is_rejected() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))

    with rejected(RejectionCode.SESSION_ALREADY_HELD):
        track.cancel_session(session_key="kick-off", reason=CancellationReason.OTHER, now=NOW)
    with rejected(RejectionCode.SESSION_NOT_SCHEDULED):
        track.cancel_session(
            session_key="social-networks", reason=CancellationReason.OTHER, now=NOW
        )


def test_skip_of_a_scheduled_session_cancels_its_appointment_first() -> None:
    track = make_track()
    track.schedule_session(session_key="generative-ai", scheduled_at=at("2025-03-20"), now=NOW)

    track.skip_session(session_key="generative-ai", now=NOW)

    cancelled, skipped = track.events[-2:]
    assert isinstance(cancelled, SessionCancelled)
    assert cancelled.reason is CancellationReason.SESSION_SKIPPED
    assert skipped == SessionSkipped(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=NOW,
        theme_key="generative-ai",
        session_number=4,
    )
    assert track.session("generative-ai").status is SessionStatus.SKIPPED
    assert track.sessions_planned == 5


def test_skip_is_refused_for_sessions_the_programme_makes_mandatory() -> None:
    track = make_track()

    with rejected(RejectionCode.SESSION_NOT_SKIPPABLE):
        track.skip_session(session_key="kick-off", now=NOW)
    with rejected(RejectionCode.SESSION_NOT_SKIPPABLE):
        track.skip_session(session_key="review", now=NOW)


def test_a_skipped_session_cannot_be_skipped_scheduled_or_held() -> None:
    track = make_track()
    track.skip_session(session_key="generative-ai", now=NOW)

    with rejected(RejectionCode.SESSION_SKIPPED):
        track.skip_session(session_key="generative-ai", now=NOW)
    with rejected(RejectionCode.SESSION_SKIPPED):
        track.schedule_session(session_key="generative-ai", scheduled_at=at("2025-03-20"), now=NOW)
    with rejected(RejectionCode.SESSION_SKIPPED):
        track.report_held(session_key="generative-ai", now=NOW)


def test_a_held_session_cannot_be_skipped() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    with rejected(RejectionCode.SESSION_ALREADY_HELD):
        track.skip_session(session_key="kick-off", now=NOW)


# ---------------------------------------------------------------- held


def test_report_held_records_completion_with_attendance_and_counts() -> None:
    track = make_track()
    track.schedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, duration_minutes=60
    )

    track.report_held(
        session_key="kick-off",
        now=at("2025-01-20", 12),
        attendance=Attendance.PARTIAL,
        duration_minutes=50,
        notes="Objectifs posés.",
    )

    assert track.events[-1] == SessionCompleted(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-01-20", 12),
        theme_key="kick-off",
        session_number=1,
        held_at=at("2025-01-20"),
        duration_minutes=50,
        attendance=Attendance.PARTIAL,
        sessions_held=1,
        sessions_planned=6,
    )
    session = track.session("kick-off")
    assert (session.status, session.notes, session.held_at) == (
        SessionStatus.HELD,
        "Objectifs posés.",
        at("2025-01-20"),
    )
    assert track.first_held_session_key == "kick-off"


def test_report_held_of_a_session_not_scheduled_is_rejected() -> None:
    with rejected(RejectionCode.SESSION_NOT_SCHEDULED):
        make_track().report_held(session_key="kick-off", now=NOW)


def test_a_session_cannot_be_completed_twice() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))

    with rejected(RejectionCode.SESSION_ALREADY_HELD):
        track.report_held(session_key="kick-off", now=NOW)
    assert event_names(track).count("SessionCompleted") == 1


def test_a_session_cannot_be_reported_held_in_the_future() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.HELD_IN_FUTURE):
        track.report_held(session_key="kick-off", now=at("2025-01-20", 9))


def test_held_at_outside_the_programme_is_rejected() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.OUTSIDE_PROGRAMME_DATES):
        track.report_held(session_key="kick-off", now=NOW, held_at=at("2025-01-06"))


def test_notes_and_duration_of_a_held_session_are_bounded() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.NOTES_TOO_LONG):
        track.report_held(session_key="kick-off", now=NOW, notes="x" * 4001)
    with rejected(RejectionCode.DURATION_OUT_OF_RANGE):
        track.report_held(session_key="kick-off", now=NOW, duration_minutes=0)


def test_a_held_session_may_run_longer_than_a_scheduled_one() -> None:
    track = make_track()
    track.schedule_session(
        session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW, duration_minutes=480
    )

    with rejected(RejectionCode.DURATION_OUT_OF_RANGE):
        track.report_held(session_key="kick-off", now=NOW, duration_minutes=601)
    track.report_held(session_key="kick-off", now=NOW, duration_minutes=600)

    assert track.session("kick-off").duration_minutes == 600


def test_strict_sequence_holds_session_n_only_after_n_minus_one() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-27"), now=NOW)
    track.schedule_session(session_key="social-networks", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.SEQUENCE_OUT_OF_ORDER):
        track.report_held(session_key="social-networks", now=NOW)

    track.report_held(session_key="kick-off", now=NOW)
    with rejected(RejectionCode.SEQUENCE_OUT_OF_ORDER):  # held before the kick-off's date
        track.report_held(session_key="social-networks", now=NOW)
    track.report_held(session_key="social-networks", now=NOW, held_at=at("2025-02-10"))
    assert track.sessions_held == 2


def test_strict_sequence_lets_a_skipped_session_be_passed_over() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    track.skip_session(session_key="social-networks", now=NOW)

    hold(track, "collaborative-tools", at("2025-02-10"))

    assert track.session("collaborative-tools").status is SessionStatus.HELD


def test_free_sequence_holds_sessions_in_any_order() -> None:
    track = make_track(plan=make_plan(sequence_policy=SequencePolicy.FREE))

    hold(track, "generative-ai", at("2025-01-20"))
    hold(track, "kick-off", at("2025-01-27"))

    assert track.sessions_held == 2
    assert track.first_held_session_key == "generative-ai"


# ---------------------------------------------------------------- missed


def test_report_missed_records_who_was_absent_and_frees_the_session() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    track.report_missed(session_key="kick-off", now=at("2025-01-20", 11), missed_by=Absence.MENTEE)

    assert track.events[-1] == SessionMissed(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-01-20", 11),
        theme_key="kick-off",
        session_number=1,
        scheduled_at=at("2025-01-20"),
        absence=Absence.MENTEE,
    )
    session = track.session("kick-off")
    assert (session.status, session.times_missed) == (SessionStatus.PLANNED, 1)
    with rejected(RejectionCode.SESSION_NOT_SCHEDULED):
        track.report_held(session_key="kick-off", now=NOW)


def test_a_session_cannot_be_reported_missed_before_it_starts() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    with rejected(RejectionCode.SESSION_NOT_YET_DUE):
        track.report_missed(session_key="kick-off", now=at("2025-01-20", 9))


def test_report_missed_of_a_held_session_is_rejected() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    with rejected(RejectionCode.SESSION_ALREADY_HELD):
        track.report_missed(session_key="kick-off", now=NOW)


# ---------------------------------------------------------------- completion and dissolution


def test_holding_the_whole_deroule_completes_the_pair() -> None:
    track = make_track()
    for week, key in enumerate(DEFAULT_KEYS):
        hold(track, key, at("2025-01-20") + timedelta(weeks=3 * week))

    last_held, completed = track.events[-2:]
    assert isinstance(last_held, SessionCompleted)
    assert completed == PairCompleted(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-05-05", 12),
        reason=CompletionReason.PLAN_COMPLETED,
        sessions_held=6,
        sessions_planned=6,
        objectives_met=0,
        objectives_set=0,
    )
    assert track.status is PairStatus.COMPLETED
    assert track.closed_at == at("2025-05-05", 12)


def test_skipping_the_last_remaining_session_completes_the_pair() -> None:
    track = make_track(plan=make_plan(sequence_policy=SequencePolicy.FREE))
    track.skip_session(session_key="generative-ai", now=NOW)
    for week, key in enumerate(("kick-off", "social-networks", "collaborative-tools", "review")):
        hold(track, key, at("2025-01-20") + timedelta(weeks=3 * week))
    assert track.completion_reason is None

    track.skip_session(session_key="cybersecurity-data", now=NOW)

    assert event_names(track)[-2:] == ["SessionSkipped", "PairCompleted"]
    assert track.status is PairStatus.COMPLETED
    assert (track.sessions_held, track.sessions_planned) == (4, 4)


def test_a_completed_pair_refuses_session_commands() -> None:
    track = make_track(plan=make_plan(sessions=[make_plan().sessions[0]]))
    hold(track, "kick-off", at("2025-01-20"))
    assert track.status is PairStatus.COMPLETED

    with rejected(RejectionCode.PAIR_CLOSED):
        track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-27"), now=NOW)
    with rejected(RejectionCode.PAIR_CLOSED):
        track.dissolve(now=NOW)


def test_dissolving_cancels_appointments_and_refuses_everything_after() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    track.schedule_session(session_key="social-networks", scheduled_at=at("2025-02-10"), now=NOW)
    track.pull_events()

    track.dissolve(now=NOW)

    assert track.events == [
        SessionCancelled(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=NOW,
            theme_key="social-networks",
            session_number=2,
            cancelled_starts_at=at("2025-02-10"),
            reason=CancellationReason.PAIR_DISSOLVED,
            sequence=1,
        )
    ]
    assert track.status is PairStatus.DISSOLVED
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.schedule_session(
            session_key="collaborative-tools", scheduled_at=at("2025-03-10"), now=NOW
        )
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.dissolve(now=NOW)
    with rejected(RejectionCode.PAIR_DISSOLVED):
        track.record_mentor_trained(now=NOW)


# ---------------------------------------------------------------- storage


def test_the_track_round_trips_through_json_without_its_pending_events() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    track.schedule_session(
        session_key="social-networks",
        scheduled_at=datetime(2025, 2, 10, 18, tzinfo=PARIS),
        now=NOW,
    )

    stored = json.loads(json.dumps(track.to_dict()))
    loaded = PairTrack.from_dict(stored)

    assert loaded.to_dict() == track.to_dict()
    assert loaded.events == []
    assert loaded.session("social-networks").scheduled_at == datetime(2025, 2, 10, 17, tzinfo=UTC)
    assert stored["version"] == 4  # plan started, scheduled, held, scheduled


def test_pull_events_hands_over_the_events_once() -> None:
    track = make_track()
    track.schedule_session(session_key="kick-off", scheduled_at=at("2025-01-20"), now=NOW)

    pulled = track.pull_events()

    assert [type(event) for event in pulled] == [SessionScheduled]
    assert track.events == []
