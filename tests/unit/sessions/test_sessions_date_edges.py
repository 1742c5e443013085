"""At the edges of the years contracts allow, the sessions service computes without overflow.

A programme ending on 9999-12-31 once made the day after it overflow; the contracts now stop
commands at 2000–2199. These tests drive a pair through its whole life at both edges, in the
time zones furthest ahead of and behind UTC, and check every public fact it publishes is a
valid event (events allow a year more on each side, for the UTC spelling and derived times).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from binome_sessions.domain import PairTrack, close_expired, detect_stalls
from binome_sessions.translation import command_action, public_event
from binome_shared.contracts import sessions_messages as public
from binome_shared.contracts.base import Event
from binome_shared.contracts.session_plan import MAX_PLANNED_SESSIONS, SessionPlan

pytestmark = pytest.mark.unit

AHEAD = "Pacific/Kiritimati"  # UTC+14
BEHIND = "Etc/GMT+12"  # UTC-12

EDGES = [
    pytest.param(date(2000, 1, 1), date(2000, 12, 31), AHEAD, id="first-days-ahead-of-utc"),
    pytest.param(date(2000, 1, 1), date(2000, 12, 31), BEHIND, id="first-days-behind-utc"),
    pytest.param(date(2199, 1, 1), date(2199, 12, 31), AHEAD, id="last-days-ahead-of-utc"),
    pytest.param(date(2199, 1, 1), date(2199, 12, 31), BEHIND, id="last-days-behind-utc"),
]


def _plan(starts_on: date, ends_on: date, zone: str) -> SessionPlan:
    # The longest plan, cadence and stall threshold: the furthest any date is pushed.
    title = {"fr": "Séance", "en": "Session"}
    return SessionPlan.model_validate(
        {
            "sessions": [
                {"key": f"s{number}", "title": title, "description": title}
                for number in range(1, MAX_PLANNED_SESSIONS + 1)
            ],
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "time_zone": zone,
            "cadence_weeks": 12,
            "stall_after_weeks": 52,
        }
    )


def _start(plan: SessionPlan, formed_at: datetime) -> PairTrack:
    return PairTrack.start(
        pair_id="p-edge",
        programme_id="prog-edge",
        plan=plan,
        mentor_id="M1",
        mentee_id="E1",
        mentor_business_unit="Digital",
        mentee_business_unit="Finance",
        mentor_trained=True,
        formed_at=formed_at,
    )


def _published(track: PairTrack, plan: SessionPlan) -> list[Event]:
    """Every public fact for the track's new events, each validated by its contract."""
    return [
        type(fact).model_validate(fact.model_dump())
        for fact in (public_event(event, plan) for event in track.pull_events())
    ]


@pytest.mark.parametrize(("starts_on", "ends_on", "zone"), EDGES)
def test_a_pair_lives_its_whole_programme_at_the_edges(
    starts_on: date, ends_on: date, zone: str
) -> None:
    plan = _plan(starts_on, ends_on, zone)
    local = ZoneInfo(zone)
    opens = datetime.combine(starts_on, datetime.min.time(), local)
    track = _start(plan, opens)
    (planned,) = _published(track, plan)
    assert isinstance(planned, public.SessionPlanned)

    first_slot = opens  # the programme's very first instant, written in its own offset
    last_slot = datetime.combine(ends_on, datetime.max.time(), local).replace(microsecond=0)
    for number, slot in ((1, first_slot), (2, last_slot)):
        command_action(
            public.ScheduleSession(
                pair_id="p-edge", session_number=number, starts_at=slot, duration_minutes=480
            )
        )(track, first_slot)
    scheduled = _published(track, plan)
    assert [type(fact) for fact in scheduled] == [public.SessionScheduled] * 2

    command_action(
        public.ReportSessionHeld(
            pair_id="p-edge", session_number=1, held_at=first_slot, duration_minutes=600
        )
    )(track, first_slot + timedelta(hours=10))
    assert any(isinstance(fact, public.SessionCompleted) for fact in _published(track, plan))

    silent_until = first_slot + timedelta(weeks=52)
    assert detect_stalls([track], silent_until) == [track]
    assert any(isinstance(fact, public.PairStalled) for fact in _published(track, plan))

    after_the_end = track.programme_closes_at() + timedelta(days=1)
    assert close_expired([track], after_the_end) == [track]
    completed = [fact for fact in _published(track, plan) if isinstance(fact, public.PairCompleted)]
    assert len(completed) == 1


@pytest.mark.parametrize(("starts_on", "ends_on", "zone"), EDGES)
def test_a_pair_formed_long_after_its_programme_still_computes_its_targets(
    starts_on: date, ends_on: date, zone: str
) -> None:
    plan = _plan(starts_on, ends_on, zone)
    late = datetime(2200, 12, 31, 23, 59, tzinfo=ZoneInfo(AHEAD))  # the last envelope time
    track = _start(plan, late)
    assert max(session.target_on for session in track.sessions) <= ends_on
