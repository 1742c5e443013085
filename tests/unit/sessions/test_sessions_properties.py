"""Properties over random command sequences, checked with Hypothesis."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binome_sessions.domain import (
    CommandRejectedError,
    PairCompleted,
    PairResumed,
    PairStalled,
    PairStatus,
    PairTrack,
    SessionCompleted,
    SessionScheduled,
    SessionsDomainEvent,
    SessionStatus,
    compute_progress,
    detect_stalls,
)
from binome_shared.contracts.session_plan import SequencePolicy
from binome_shared.contracts.sessions_messages import (
    Absence,
    Attendance,
    CancellationReason,
    ObjectiveOutcome,
    ParticipantRole,
)

from .sessions_fakes import DEFAULT_KEYS, FORMED_AT, at, make_plan, make_track

pytestmark = pytest.mark.unit

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
KINDS = (
    "schedule",
    "reschedule",
    "cancel",
    "skip",
    "held",
    "held",
    "missed",
    "train",
    "dissolve",
    "set_objective",
    "progress",
    "close_objective",
    "session_feedback",
    "final_feedback",
    "check_stall",
    "close_if_ended",
)

commands = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(KINDS),
            "session": st.integers(min_value=0, max_value=len(DEFAULT_KEYS)),
            "slot_hours": st.integers(min_value=-48, max_value=24 * 28),
            "value": st.integers(min_value=-1, max_value=101),
            "flag": st.booleans(),
            "advance_hours": st.integers(min_value=0, max_value=24 * 5),
            "targeted": st.integers(min_value=0, max_value=3),
            "dissolve_roll": st.integers(min_value=0, max_value=40),
        }
    ),
    min_size=5,
    max_size=60,
)


FITTING_STATUS = {
    "schedule": SessionStatus.PLANNED,
    "skip": SessionStatus.PLANNED,
    "reschedule": SessionStatus.SCHEDULED,
    "cancel": SessionStatus.SCHEDULED,
    "held": SessionStatus.SCHEDULED,
    "missed": SessionStatus.SCHEDULED,
    "session_feedback": SessionStatus.HELD,
}


def pick_session_key(track: PairTrack, command: dict[str, Any]) -> str:
    """Mostly a session whose status suits the command, so that sequences get somewhere."""
    fitting = [
        session.key
        for session in track.sessions
        if session.status is FITTING_STATUS.get(command["kind"])
    ]
    if command["targeted"] and fitting:
        return fitting[int(command["session"]) % len(fitting)]
    return (*DEFAULT_KEYS, "unknown")[int(command["session"])]


def run(track: PairTrack, command: dict[str, Any], now: datetime) -> None:
    if command["kind"] in FITTING_STATUS or command["kind"] in {"train", "dissolve"}:
        run_session_command(track, command, now)
    else:
        run_follow_up_command(track, command, now)


def run_session_command(track: PairTrack, command: dict[str, Any], now: datetime) -> None:
    key = pick_session_key(track, command)
    slot = now + timedelta(hours=command["slot_hours"])
    match command["kind"]:
        case "schedule":
            track.schedule_session(session_key=key, scheduled_at=slot, now=now)
        case "reschedule":
            track.reschedule_session(session_key=key, scheduled_at=slot, now=now)
        case "cancel":
            track.cancel_session(session_key=key, reason=CancellationReason.OTHER, now=now)
        case "skip":
            track.skip_session(session_key=key, now=now)
        case "held":
            scheduled_at = track.session(key).scheduled_at if key in DEFAULT_KEYS else None
            held_at = slot if command["flag"] else None
            if command["targeted"] and scheduled_at is not None:
                held_at = min(scheduled_at, now)
            track.report_held(session_key=key, now=now, attendance=Attendance.FULL, held_at=held_at)
        case "missed":
            track.report_missed(session_key=key, now=now, missed_by=Absence.BOTH)
        case "session_feedback":
            track.give_session_feedback(
                author=ParticipantRole.MENTOR if command["flag"] else ParticipantRole.MENTEE,
                session_key=key,
                rating=command["value"] % 7,
                good_fit=command["flag"] if command["slot_hours"] % 2 else None,
                now=now,
            )
        case "train":
            track.record_mentor_trained(now=now)
        case "dissolve":
            if command["dissolve_roll"] == 17:  # rare, so that sequences live longer
                track.dissolve(now=now)


def run_follow_up_command(track: PairTrack, command: dict[str, Any], now: datetime) -> None:
    objective_id = f"obj-{command['session'] % 3}"
    side = ParticipantRole.MENTOR if command["flag"] else ParticipantRole.MENTEE
    match command["kind"]:
        case "set_objective":
            track.set_objective(objective_id=objective_id, side=side, statement="Objectif", now=now)
        case "progress":
            track.update_objective_progress(
                objective_id=objective_id, progress_percent=command["value"], now=now
            )
        case "close_objective":
            outcome = ObjectiveOutcome.MET if command["flag"] else ObjectiveOutcome.NOT_MET
            track.close_objective(objective_id=objective_id, outcome=outcome, now=now)
        case "final_feedback":
            track.give_final_feedback(author=side, rating=command["value"] % 7, now=now)
        case "check_stall":
            track.check_stall(now=now)
        case "close_if_ended":
            track.close_if_programme_ended(now=now)
        case other:
            raise AssertionError(f"unknown command kind {other}")


def assert_history_is_sound(track: PairTrack, history: list[SessionsDomainEvent]) -> None:
    completions = Counter(e.theme_key for e in history if isinstance(e, SessionCompleted))
    assert all(count == 1 for count in completions.values())
    assert track.sessions_held == sum(completions.values())
    assert sum(isinstance(e, PairCompleted) for e in history) <= (
        1 if track.status is PairStatus.COMPLETED else 0
    )
    closing = next((i for i, e in enumerate(history) if isinstance(e, PairCompleted)), len(history))
    assert not any(isinstance(e, SessionScheduled | SessionCompleted) for e in history[closing:])
    stall_changes = [type(e) for e in history if isinstance(e, PairStalled | PairResumed)]
    assert stall_changes == [PairStalled, PairResumed] * (len(stall_changes) // 2) + (
        [PairStalled] if len(stall_changes) % 2 else []
    )
    if track.plan.sequence_policy is SequencePolicy.STRICT:
        statuses = [s.status for s in track.sessions]
        done = {SessionStatus.HELD, SessionStatus.SKIPPED}
        for position, session in enumerate(track.sessions):
            if session.status is SessionStatus.HELD:
                assert all(status in done for status in statuses[:position])
        held_times = [s.held_at for s in track.sessions if s.held_at is not None]
        assert held_times == sorted(held_times)


@PROPERTY_SETTINGS
@given(
    script=commands,
    strict=st.booleans(),
    training_required=st.booleans(),
)
def test_random_command_sequences_keep_every_invariant(
    script: list[dict[str, Any]], strict: bool, training_required: bool
) -> None:
    plan = make_plan(
        sequence_policy=SequencePolicy.STRICT if strict else SequencePolicy.FREE,
        mentor_training_required=training_required,
    )
    track = make_track(plan=plan, mentor_trained=False)
    now = FORMED_AT
    history: list[SessionsDomainEvent] = []

    for command in script:
        now += timedelta(hours=command["advance_hours"])
        before, version = track.to_dict(), track.version
        try:
            run(track, command, now)
        except CommandRejectedError:
            assert track.to_dict() == before
            assert track.events == []
        new_events = track.pull_events()
        history.extend(new_events)
        assert track.version >= version + (1 if new_events else 0)
        assert PairTrack.from_dict(track.to_dict()).to_dict() == track.to_dict()
        assert_history_is_sound(track, history)


@PROPERTY_SETTINGS
@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=1, max_value=24 * 21), st.booleans()), max_size=60
    ),
    stall_after_weeks=st.integers(min_value=4, max_value=10),
)
def test_a_stall_is_recorded_once_per_silence_and_never_missed(
    steps: list[tuple[int, bool]], stall_after_weeks: int
) -> None:
    track = make_track(plan=make_plan(stall_after_weeks=stall_after_weeks, cadence_weeks=3))
    threshold = timedelta(weeks=stall_after_weeks)
    now = FORMED_AT
    history: list[SessionsDomainEvent] = []

    for advance_hours, meet in steps:
        now += timedelta(hours=advance_hours)
        session = track.next_session_to_hold()
        if meet and session is not None and track.status is PairStatus.ACTIVE:
            try:
                track.schedule_session(
                    session_key=session.key, scheduled_at=now - timedelta(hours=1), now=now
                )
                track.report_held(session_key=session.key, now=now)
            except CommandRejectedError:
                pass  # before the programme opens: nothing was held
        detect_stalls([track], now)
        history.extend(track.pull_events())

        silent_for = now - track.last_activity_at()
        if track.status is PairStatus.ACTIVE:
            assert track.is_stalled == (silent_for >= threshold)
        stalls = [e for e in history if isinstance(e, PairStalled | PairResumed)]
        assert all(isinstance(e, PairStalled) == (i % 2 == 0) for i, e in enumerate(stalls))


@PROPERTY_SETTINGS
@given(
    sizes=st.dictionaries(
        st.sampled_from(["finance", "legal", "ops", "board", "hr", "it"]),
        st.integers(min_value=1, max_value=12),
        max_size=6,
    ),
    threshold=st.integers(min_value=1, max_value=7),
)
def test_no_group_smaller_than_the_threshold_can_be_seen_or_deduced(
    sizes: dict[str, int], threshold: int
) -> None:
    tracks = [
        make_track(pair_id=f"{unit}-{n}", mentee_id=f"{unit}-{n}", mentee_business_unit=unit)
        for unit, size in sizes.items()
        for n in range(size)
    ]

    progress = compute_progress(
        programme_id="prog-orange-2025", tracks=tracks, suppression_threshold=threshold
    )

    total_people = sum(sizes.values())
    assert progress.total.suppressed == (total_people < threshold)
    hidden = [group for group in progress.groups if group.suppressed]
    for group in progress.groups:
        if sizes[group.group] < threshold:
            assert group.suppressed
        if group.suppressed:
            assert group.people is None
            assert group.figures is None
        else:
            assert group.people == sizes[group.group]
            assert group.figures is not None
    if not progress.total.suppressed and hidden:
        assert sum(sizes[group.group] for group in hidden) >= threshold
    assert progress.total.suppressed or len(hidden) != 1 or sizes[hidden[0].group] >= threshold


@PROPERTY_SETTINGS
@given(
    attempts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(DEFAULT_KEYS) - 1),
            st.sampled_from(["hold", "hold", "skip", "miss"]),
        ),
        min_size=1,
        max_size=30,
    ),
    strict=st.booleans(),
)
def test_sessions_attempted_in_any_order_respect_the_sequence_and_complete_once(
    attempts: list[tuple[int, str]], strict: bool
) -> None:
    policy = SequencePolicy.STRICT if strict else SequencePolicy.FREE
    track = make_track(plan=make_plan(sequence_policy=policy))
    now = at("2025-01-20")
    history: list[SessionsDomainEvent] = []

    for index, action in attempts:
        now += timedelta(days=2)
        key = DEFAULT_KEYS[index]
        try:
            if action == "skip":
                track.skip_session(session_key=key, now=now)
            else:
                if track.session(key).status is SessionStatus.PLANNED:
                    track.schedule_session(
                        session_key=key, scheduled_at=now - timedelta(hours=2), now=now
                    )
                if action == "hold":
                    track.report_held(session_key=key, now=now)
                else:
                    track.report_missed(session_key=key, now=now)
        except CommandRejectedError:
            pass
        history.extend(track.pull_events())
        assert_history_is_sound(track, history)

    done = {SessionStatus.HELD, SessionStatus.SKIPPED}
    all_done = all(session.status in done for session in track.sessions)
    assert (track.status is PairStatus.COMPLETED) == all_done
