"""The constrained types every contract field uses: text, identifiers, dates and instants."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from binome_shared.contracts.base import Message
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import EnrolParticipant, RejectPair
from binome_shared.contracts.moments import CommandMoment, Day, Moment, TimeZoneName
from binome_shared.contracts.sessions_messages import GiveFeedback, ScheduleSession
from binome_shared.contracts.text import (
    CONTROL_CHARACTER,
    MULTILINE_PATTERN,
    SINGLE_LINE_PATTERN,
    Identifier,
    Name,
    free_text,
)
from binome_shared.docs.json_schema import message_json_schema

pytestmark = pytest.mark.unit


class _Texts(BaseModel):
    name: Name
    id: Identifier
    comment: Annotated[str, free_text(300)] = ""


class _Times(BaseModel):
    at: Moment
    asked_at: CommandMoment | None = None
    on: Day | None = None
    zone: TimeZoneName = "UTC"


def _refusal(model: type[BaseModel], **values: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        model(**values)
    (error,) = refused.value.errors()
    return dict(error)


ARBITRARY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=250) | st.sampled_from(
    ["Ines\r\nReply-To: attacker@evil.example", "e\u0301", "\u202eevil", ""]
)


@settings(max_examples=500, deadline=None)
@given(text=ARBITRARY_TEXT)
def test_a_name_is_accepted_as_one_nfc_line_or_refused_naming_the_field(text: str) -> None:
    try:
        accepted = _Texts(name=text, id="x").name
    except ValidationError as refused:
        (error,) = refused.errors()
        assert error["loc"] == ("name",)
        nfc = unicodedata.normalize("NFC", text)
        if CONTROL_CHARACTER.search(text):
            assert error["type"] == "control_character"
        else:
            assert error["type"] in ("string_too_short", "string_too_long")
            assert not 1 <= len(nfc) <= 200
        return
    assert accepted == unicodedata.normalize("NFC", text)
    assert CONTROL_CHARACTER.search(accepted) is None
    assert 1 <= len(accepted) <= 200


@settings(max_examples=500, deadline=None)
@given(text=ARBITRARY_TEXT)
def test_an_identifier_is_kept_exactly_or_refused(text: str) -> None:
    try:
        accepted = _Texts(name="n", id=text).id
    except ValidationError as refused:
        (error,) = refused.errors()
        assert error["loc"] == ("id",)
        assert CONTROL_CHARACTER.search(text) or not 1 <= len(text) <= 200
        return
    assert accepted == text, "ids are opaque: never normalised"


@settings(max_examples=500, deadline=None)
@given(text=ARBITRARY_TEXT)
def test_the_json_schema_patterns_say_what_the_validators_do(text: str) -> None:
    single_line_ok = CONTROL_CHARACTER.search(text) is None
    assert (re.fullmatch(SINGLE_LINE_PATTERN, text) is not None) == single_line_ok
    without_line_breaks = text.replace("\t", "").replace("\n", "").replace("\r", "")
    multiline_ok = CONTROL_CHARACTER.search(without_line_breaks) is None
    assert (re.fullmatch(MULTILINE_PATTERN, text) is not None) == multiline_ok
    try:
        _Texts(name="n", id="x", comment=text[:300])
    except ValidationError:
        assert not multiline_ok
    else:
        assert multiline_ok


@pytest.mark.parametrize(
    "value",
    ["Inès\r\nReply-To: a@evil.example", "Inès\x00", "Inès\x85", "a\u2028b", "\u202eevil", "\t"],
)
def test_a_name_with_a_control_is_refused_with_a_clear_reason(value: str) -> None:
    error = _refusal(_Texts, name=value, id="x")
    assert error["loc"] == ("name",)
    assert error["type"] == "control_character"
    assert "control character" in error["msg"]


def test_free_text_keeps_line_breaks_but_no_other_control() -> None:
    assert _Texts(name="n", id="x", comment="Bien.\r\n\tMerci !").comment == "Bien.\r\n\tMerci !"
    assert _refusal(_Texts, name="n", id="x", comment="a\x00b")["type"] == "control_character"
    assert _refusal(_Texts, name="n", id="x", comment="a\u2029b")["type"] == "control_character"


def test_text_is_normalised_before_its_length_is_counted() -> None:
    decomposed = "e\u0301" * 200  # 400 code points, 200 once composed
    assert _Texts(name=decomposed, id="x").name == "\u00e9" * 200


def test_an_identifier_longer_than_200_characters_is_refused() -> None:
    assert _Texts(name="n", id="p" * 200).id == "p" * 200
    error = _refusal(_Texts, name="n", id="p" * 201)
    assert (error["loc"], error["type"]) == (("id",), "string_too_long")


def test_a_refused_command_field_is_named_by_its_path() -> None:
    with pytest.raises(ValidationError) as refused:
        RejectPair.model_validate({"pair_id": "p" * 1_000_000})
    assert refused.value.errors()[0]["loc"] == ("pair_id",)
    profile = {
        "participant_id": "E1",
        "role": "mentor",
        "full_name": "Ines\r\nReply-To: attacker@evil.example",
        "email": "ines@example.com",
        "birth_year": 1998,
        "department": "D",
        "business_unit": "B",
        "job_grade": 3,
        "site": "Paris",
        "languages": ["fr"],
    }
    with pytest.raises(ValidationError) as refused:
        EnrolParticipant.model_validate({"participant": profile})
    assert refused.value.errors()[0]["loc"] == ("participant", "full_name")


@pytest.mark.parametrize(
    "at",
    [
        datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(2000, 1, 1, tzinfo=timezone(timedelta(hours=14))).astimezone(UTC),
        datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-12))),
        datetime(2027, 1, 14, 9, 30, tzinfo=UTC),
    ],
)
def test_an_event_instant_in_1999_to_2200_is_accepted_and_converts_safely(at: datetime) -> None:
    accepted = _Times(at=at).at
    assert accepted == at
    assert accepted.astimezone(UTC) + timedelta(weeks=52) > accepted


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("0001-01-01T00:00:00+01:00", "year_out_of_range"),
        ("1998-12-31T23:59:59+00:00", "year_out_of_range"),
        ("2201-01-01T00:00:00+00:00", "year_out_of_range"),
        ("9999-12-31T23:59:59-01:00", "year_out_of_range"),
        ("2027-01-14T09:30:00", "timezone_aware"),
    ],
)
def test_an_instant_outside_the_years_or_without_offset_is_refused(value: str, kind: str) -> None:
    error = _refusal(_Times, at=value)
    assert (error["loc"], error["type"]) == (("at",), kind)


def test_commands_keep_a_year_inside_events_to_leave_room_for_derived_times() -> None:
    for outer_year in ("1999-06-01T10:00:00+00:00", "2200-06-01T10:00:00+00:00"):
        assert _Times(at=outer_year).at is not None
        assert _refusal(_Times, at=outer_year, asked_at=outer_year)["loc"] == ("asked_at",)
    for inner_edge in ("2000-01-01T00:00:00+14:00", "2199-12-31T23:59:59-12:00"):
        assert _Times(at=inner_edge, asked_at=inner_edge).asked_at is not None


def test_days_are_bounded_too() -> None:
    assert _Times(at="2027-01-01T00:00:00Z", on="2200-12-31").on == date(2200, 12, 31)
    for day in ("1998-12-31", "2201-01-01", "9999-12-31", "0001-01-01"):
        assert _refusal(_Times, at="2027-01-01T00:00:00Z", on=day)["type"] == "year_out_of_range"


@pytest.mark.parametrize("zone", ["x" * 1_000_000, "Mars/Olympus", "../../etc/passwd", "UTC\x00"])
def test_an_unknown_or_hostile_time_zone_is_refused_not_crashed_on(zone: str) -> None:
    error = _refusal(_Times, at="2027-01-01T00:00:00Z", zone=zone)
    assert error["loc"] == ("zone",)


def test_a_scheduled_session_far_in_the_past_is_refused_before_any_service_computes() -> None:
    with pytest.raises(ValidationError) as refused:
        ScheduleSession.model_validate(
            {"pair_id": "p-1", "session_number": 1, "starts_at": "0001-01-01T00:00:00+01:00"}
        )
    assert refused.value.errors()[0]["loc"] == ("starts_at",)
    with pytest.raises(ValidationError):
        GiveFeedback.model_validate(
            {"pair_id": "p-1", "side": "mentor", "rating": 3, "comment": "ok\x00"}
        )


def _string_schemas(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "string":
            yield path, node
        for key, child in node.items():
            yield from _string_schemas(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _string_schemas(child, f"{path}/{index}")


@pytest.mark.parametrize("message", list(CATALOGUE), ids=lambda message: message.message_type)
def test_every_string_a_schema_accepts_is_bounded_and_patterned(message: type[Message]) -> None:
    schema = message_json_schema(message)
    for path, node in _string_schemas(schema, ""):
        if "enum" in node or "const" in node:
            continue
        if node.get("format") in ("date-time", "date", "time", "uuid"):
            if node["format"] in ("date-time", "date"):
                assert "pattern" in node, f"{path}: years unbounded"
            continue
        assert "pattern" in node, f"{message.__name__}{path}: no pattern"
        bounded_by_shape = not re.search(r"[*+]|\{\d+,\}", node["pattern"])  # e.g. local times
        assert "maxLength" in node or bounded_by_shape, f"{message.__name__}{path}: unbounded"
    json.dumps(schema)
