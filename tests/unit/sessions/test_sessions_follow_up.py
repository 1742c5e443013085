"""Follow-up over time with a fake clock: stalls once per silence, completion, programme end."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from binome_sessions.domain import (
    PairCompleted,
    PairResumed,
    PairStalled,
    PairStatus,
    SessionCancelled,
    close_expired,
    detect_stalls,
)
from binome_shared.contracts.sessions_messages import (
    CancellationReason,
    CompletionReason,
)

from .sessions_fakes import DEFAULT_KEYS, FakeClock, at, event_names, hold, make_plan, make_track

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
PROGRAMME_OPENS = datetime(2025, 1, 13, tzinfo=PARIS)
PROGRAMME_CLOSES = datetime(2025, 7, 5, tzinfo=PARIS)


def test_a_silent_pair_stalls_at_the_threshold_from_the_programme_start() -> None:
    track = make_track()

    assert detect_stalls([track], PROGRAMME_OPENS + timedelta(weeks=6, minutes=-1)) == []
    assert detect_stalls([track], PROGRAMME_OPENS + timedelta(weeks=6)) == [track]

    assert track.events == [
        PairStalled(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=PROGRAMME_OPENS + timedelta(weeks=6),
            silent_since=PROGRAMME_OPENS,
            last_session_at=None,
            weeks_silent=6,
        )
    ]
    assert track.is_stalled


def test_a_stall_is_recorded_once_per_silence() -> None:
    track = make_track()
    clock = FakeClock(start=PROGRAMME_OPENS)

    for _ in range(20):
        detect_stalls([track], clock.advance(weeks=1))

    assert event_names(track) == ["PairStalled"]


def test_a_held_session_ends_the_stall_and_a_later_silence_stalls_again() -> None:
    track = make_track()
    detect_stalls([track], PROGRAMME_OPENS + timedelta(weeks=7))

    hold(track, "kick-off", at("2025-03-03"))
    detect_stalls([track], at("2025-04-14", 9))
    detect_stalls([track], at("2025-04-14", 11))

    stalled_once, _, _, resumed, stalled_again = track.events
    assert isinstance(stalled_once, PairStalled)
    assert resumed == PairResumed(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-03-03", 12),
        silent_since=PROGRAMME_OPENS,
        resumed_at=at("2025-03-03"),
    )
    assert stalled_again == PairStalled(
        pair_id="pair-1",
        programme_id="prog-orange-2025",
        occurred_at=at("2025-04-14", 11),
        silent_since=at("2025-03-03"),
        last_session_at=at("2025-03-03"),
        weeks_silent=6,
    )


def test_a_late_report_of_an_old_session_does_not_end_a_stall_still_under_way() -> None:
    track = make_track()
    detect_stalls([track], at("2025-04-01"))

    hold(track, "kick-off", at("2025-01-20"), now=at("2025-04-01", 12))

    assert event_names(track) == ["PairStalled", "SessionScheduled", "SessionCompleted"]
    assert track.is_stalled
    assert detect_stalls([track], at("2025-04-08")) == []


def test_a_pair_formed_late_counts_its_silence_from_its_formation() -> None:
    formed_at = at("2025-03-03")
    track = make_track(formed_at=formed_at)

    assert track.stall_due_at() == formed_at + timedelta(weeks=6)
    assert detect_stalls([track], formed_at + timedelta(weeks=5)) == []
    assert detect_stalls([track], formed_at + timedelta(weeks=6)) == [track]


def test_stall_due_at_follows_the_last_held_session_and_is_none_while_stalled() -> None:
    track = make_track(plan=make_plan(stall_after_weeks=4))
    assert track.stall_due_at() == PROGRAMME_OPENS + timedelta(weeks=4)

    hold(track, "kick-off", at("2025-01-20"))
    assert track.stall_due_at() == at("2025-01-20") + timedelta(weeks=4)

    track.check_stall(now=at("2025-03-01"))
    assert track.stall_due_at() is None


def test_a_pair_keeping_to_the_cadence_never_stalls_over_six_months() -> None:
    track = make_track()
    clock = FakeClock(start=PROGRAMME_OPENS)
    next_session = iter(DEFAULT_KEYS)

    for week in range(1, 26):
        now = clock.advance(weeks=1)
        if week % 3 == 0 and track.status is PairStatus.ACTIVE:
            hold(track, next(next_session), now - timedelta(hours=3), now=now)
        detect_stalls([track], now)

    assert "PairStalled" not in event_names(track)
    assert track.status is PairStatus.COMPLETED
    assert track.completion_reason is CompletionReason.PLAN_COMPLETED


def test_completed_and_dissolved_pairs_never_stall() -> None:
    completed = make_track(pair_id="p-done", plan=make_plan(sessions=[make_plan().sessions[0]]))
    hold(completed, "kick-off", at("2025-01-20"))
    dissolved = make_track(pair_id="p-gone")
    dissolved.dissolve(now=at("2025-01-20"))
    completed.pull_events()
    dissolved.pull_events()

    assert detect_stalls([completed, dissolved], at("2025-06-30")) == []
    assert completed.events == dissolved.events == []


def test_detect_stalls_returns_only_the_pairs_it_changed() -> None:
    silent = make_track(pair_id="silent")
    active = make_track(pair_id="active")
    hold(active, "kick-off", at("2025-02-17"))

    changed = detect_stalls([silent, active], at("2025-03-01"))

    assert [track.pair_id for track in changed] == ["silent"]


def test_the_programme_end_closes_running_pairs_and_cancels_their_appointments() -> None:
    track = make_track()
    hold(track, "kick-off", at("2025-01-20"))
    track.schedule_session(
        session_key="social-networks", scheduled_at=at("2025-07-04"), now=at("2025-06-01")
    )
    track.pull_events()

    assert close_expired([track], PROGRAMME_CLOSES - timedelta(seconds=1)) == []
    assert close_expired([track], PROGRAMME_CLOSES) == [track]

    assert track.events == [
        SessionCancelled(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=PROGRAMME_CLOSES,
            theme_key="social-networks",
            session_number=2,
            cancelled_starts_at=at("2025-07-04"),
            reason=CancellationReason.PROGRAMME_ENDED,
            sequence=1,
        ),
        PairCompleted(
            pair_id="pair-1",
            programme_id="prog-orange-2025",
            occurred_at=PROGRAMME_CLOSES,
            reason=CompletionReason.PROGRAMME_ENDED,
            sessions_held=1,
            sessions_planned=6,
            objectives_met=0,
            objectives_set=0,
        ),
    ]
    assert (track.status, track.completion_reason) == (
        PairStatus.COMPLETED,
        CompletionReason.PROGRAMME_ENDED,
    )
    assert close_expired([track], PROGRAMME_CLOSES + timedelta(days=1)) == []


def test_closing_a_stalled_pair_ends_its_stall() -> None:
    track = make_track()
    detect_stalls([track], at("2025-05-01"))

    close_expired([track], PROGRAMME_CLOSES)

    assert event_names(track) == ["PairStalled", "PairCompleted"]
    assert not track.is_stalled


def test_close_expired_leaves_completed_and_dissolved_pairs_alone() -> None:
    completed = make_track(pair_id="p-done", plan=make_plan(sessions=[make_plan().sessions[0]]))
    hold(completed, "kick-off", at("2025-01-20"))
    dissolved = make_track(pair_id="p-gone")
    dissolved.dissolve(now=at("2025-01-20"))

    assert close_expired([completed, dissolved], PROGRAMME_CLOSES) == []
    assert completed.completion_reason is CompletionReason.PLAN_COMPLETED
