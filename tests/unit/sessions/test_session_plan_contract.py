"""The public SessionPlan contract HR sends in ProgrammeDefined."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from binome_shared.contracts.session_plan import (
    FeedbackSettings,
    PlannedSession,
    SequencePolicy,
    SessionPlan,
    default_planned_sessions,
)
from binome_shared.contracts.values import LocalisedText

pytestmark = pytest.mark.unit

DATES: dict[str, Any] = {"starts_on": "2025-01-13", "ends_on": "2025-07-04"}


def test_omitting_sessions_gives_the_default_deroule() -> None:
    plan = SessionPlan.model_validate(DATES)

    assert [session.key for session in plan.sessions] == [
        "kick-off",
        "social-networks",
        "collaborative-tools",
        "generative-ai",
        "cybersecurity-data",
        "review",
    ]
    assert plan.sessions[0].title == LocalisedText(
        fr="Lancement et objectifs", en="Kick-off and objectives"
    )
    assert [session.skippable for session in plan.sessions] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    assert (plan.cadence_weeks, plan.session_duration_minutes, plan.stall_after_weeks) == (3, 60, 6)
    assert plan.sequence_policy is SequencePolicy.STRICT
    assert plan.time_zone == "Europe/Paris"


def test_the_default_deroule_is_written_in_french_and_english() -> None:
    for session in default_planned_sessions():
        for text in (session.title, session.description):
            assert text.fr.strip()
            assert text.en.strip()
            assert text.fr != text.en


def test_a_plan_round_trips_through_json() -> None:
    plan = SessionPlan.model_validate(
        {**DATES, "cadence_weeks": 2, "feedback": {"comment_max_length": 500}}
    )

    assert SessionPlan.model_validate_json(plan.model_dump_json()) == plan


def test_a_session_may_last_longer_than_the_default() -> None:
    plan = SessionPlan.model_validate(
        {
            **DATES,
            "sessions": [
                {
                    "key": "atelier",
                    "title": {"fr": "Atelier", "en": "Workshop"},
                    "description": {"fr": "Pratique.", "en": "Practice."},
                    "duration_minutes": 120,
                },
                {
                    "key": "bilan",
                    "title": {"fr": "Bilan", "en": "Review"},
                    "description": {"fr": "Bilan.", "en": "Review."},
                },
            ],
        }
    )

    assert [plan.duration_of(session) for session in plan.sessions] == [120, 60]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_on": "2025-01-13"}, "ends_on must be after starts_on"),
        ({"stall_after_weeks": 3, "cadence_weeks": 3}, "stall_after_weeks must be longer"),
        ({"time_zone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"unexpected": 1}, "Extra inputs are not permitted"),
        ({"cadence_weeks": 0}, "greater than or equal to 1"),
        ({"sessions": []}, "at least 1 item"),
    ],
)
def test_incoherent_plans_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SessionPlan.model_validate({**DATES, **changes})


def test_session_keys_are_unique_and_slug_shaped() -> None:
    kick_off = default_planned_sessions()[0].model_dump()

    with pytest.raises(ValidationError, match="session keys must be unique"):
        SessionPlan.model_validate({**DATES, "sessions": [kick_off, kick_off]})
    with pytest.raises(ValidationError, match="String should match pattern"):
        PlannedSession.model_validate({**kick_off, "key": "Kick Off"})


def test_a_plan_is_immutable() -> None:
    plan = SessionPlan.model_validate(DATES)

    with pytest.raises(ValidationError, match="frozen"):
        plan.cadence_weeks = 4  # type: ignore[misc]


MODELS: list[type[BaseModel]] = [LocalisedText, PlannedSession, FeedbackSettings, SessionPlan]


@pytest.mark.parametrize("model", MODELS)
def test_every_field_is_documented_with_valid_examples(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        assert field.examples, f"{model.__name__}.{name} has no examples"
        assert field.annotation is not None
        adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
        for example in field.examples:
            adapter.validate_python(example)


def test_the_json_schema_carries_the_descriptions() -> None:
    schema = SessionPlan.model_json_schema()

    assert schema["additionalProperties"] is False
    assert "stall" in schema["properties"]["stall_after_weeks"]["description"]
    assert schema["$defs"]["SequencePolicy"]["enum"] == ["strict", "free"]


def test_dates_are_calendar_days() -> None:
    plan = SessionPlan.model_validate(DATES)
    assert (plan.starts_on, plan.ends_on) == (date(2025, 1, 13), date(2025, 7, 4))
