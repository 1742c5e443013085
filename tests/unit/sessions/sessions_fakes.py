"""Builders and a fake clock for the sessions domain's unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from binome_sessions.domain import PairTrack
from binome_shared.contracts.session_plan import SessionPlan

PROGRAMME_ID = "prog-orange-2025"
PROGRAMME_START = date(2025, 1, 13)
PROGRAMME_END = date(2025, 7, 4)
FORMED_AT = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
DEFAULT_KEYS = (
    "kick-off",
    "social-networks",
    "collaborative-tools",
    "generative-ai",
    "cybersecurity-data",
    "review",
)


class FakeClock:
    """A clock the test moves by hand: months pass in microseconds."""

    def __init__(self, *, start: datetime = FORMED_AT) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_plan(**overrides: Any) -> SessionPlan:
    fields: dict[str, Any] = {
        "starts_on": PROGRAMME_START,
        "ends_on": PROGRAMME_END,
        "cadence_weeks": 3,
        "stall_after_weeks": 6,
    }
    fields.update(overrides)
    return SessionPlan.model_validate(fields)


def make_track(
    *,
    plan: SessionPlan | None = None,
    pair_id: str = "pair-1",
    mentor_id: str = "mentor-1",
    mentee_id: str = "mentee-1",
    mentor_business_unit: str = "digital",
    mentee_business_unit: str = "finance",
    mentor_trained: bool = True,
    formed_at: datetime = FORMED_AT,
    programme_id: str = PROGRAMME_ID,
) -> PairTrack:
    """A freshly formed pair's track, its PairPlanStarted already taken."""
    track = PairTrack.start(
        pair_id=pair_id,
        programme_id=programme_id,
        plan=plan or make_plan(),
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        mentor_business_unit=mentor_business_unit,
        mentee_business_unit=mentee_business_unit,
        mentor_trained=mentor_trained,
        formed_at=formed_at,
    )
    track.pull_events()
    return track


def at(day: date | str, hour: int = 10) -> datetime:
    """An instant on a programme day, in UTC."""
    on = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(on.year, on.month, on.day, hour, tzinfo=UTC)


def hold(track: PairTrack, key: str, when: datetime, *, now: datetime | None = None) -> None:
    """Schedule then report a session held at ``when``."""
    reported_at = now or when + timedelta(hours=2)
    track.schedule_session(session_key=key, scheduled_at=when, now=reported_at)
    track.report_held(session_key=key, now=reported_at)


def event_names(track: PairTrack) -> list[str]:
    return [type(event).__name__ for event in track.events]
