"""The published message schemas, read by python-jsonschema with format checking on, the way
a consumer would: each declares its dialect, is valid, and accepts its own examples and the
records Binôme really writes (found through their ``ce_dataschema``)."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import AwareDatetime, BaseModel
from referencing import Registry, Resource

from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.docs.json_schema import (
    DATETIME_MAYBE_NAIVE_PATTERN,
    DIALECT,
    LOCAL_TIME_PATTERN,
    WireJsonSchema,
    schema_path,
)
from binome_shared.messaging.cloudevents import DATASCHEMA_BASE, dataschema_uri
from tests.unit.contracts.contract_samples import (
    DOCS,
    examples_of,
    published_schemas,
    samples,
)

pytestmark = pytest.mark.unit

SCHEMAS = published_schemas()
REGISTRY: Registry[Any] = Registry().with_resources(
    (uri, Resource.from_contents(schema)) for uri, schema in SCHEMAS.items()
)
FORMATS = Draft202012Validator.FORMAT_CHECKER


def validator_for(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY, format_checker=FORMATS)


def problem(ref: str, instance: Any) -> str | None:
    error = best_match(validator_for(ref).iter_errors(instance))
    return None if error is None else f"{ref} at {error.json_path}: {error.message}"


def test_every_message_of_the_catalogue_has_its_schema_at_its_dataschema_uri() -> None:
    for message in CATALOGUE:
        uri = dataschema_uri(message.message_type, message.schema_version.major)
        assert uri == DATASCHEMA_BASE + schema_path(message)
        assert SCHEMAS[uri] == json.loads((DOCS / "schemas" / schema_path(message)).read_text())
    assert len(SCHEMAS) == len(list(CATALOGUE))


@pytest.mark.parametrize("uri", sorted(SCHEMAS), ids=lambda uri: uri.rsplit("/", 1)[-1])
def test_a_schema_declares_2020_12_and_is_valid_under_it(uri: str) -> None:
    schema = SCHEMAS[uri]
    assert schema["$schema"] == DIALECT
    Draft202012Validator.check_schema(schema)
    vocabulary = Draft202012Validator.VALIDATORS.keys() | _ANNOTATIONS
    outside = _keywords(schema) - vocabulary
    assert not outside, f"keywords outside draft 2020-12: {outside}"


def test_the_formats_named_are_ones_the_checker_really_checks() -> None:
    named = {
        value for schema in SCHEMAS.values() for key, value in _walk(schema) if key == "format"
    }
    assert named <= FORMATS.checkers.keys()
    assert {"date", "date-time"} <= named


def test_every_example_in_every_schema_is_valid_where_it_stands() -> None:
    checked = 0
    failures = []
    for uri, schema in SCHEMAS.items():
        for pointer, examples in examples_of(schema):
            for example in examples:
                checked += 1
                if found := problem(f"{uri}#{pointer}", example):
                    failures.append(found)
    assert failures == []
    assert checked >= 150, "the schemas' examples were not all found"


class _Clock(BaseModel):
    local: time
    moment: datetime
    aware: AwareDatetime


def test_times_and_datetimes_claim_a_format_only_when_they_carry_an_offset() -> None:
    schema = _Clock.model_json_schema(schema_generator=WireJsonSchema)["properties"]
    assert schema["local"] == {"title": "Local", "type": "string", "pattern": LOCAL_TIME_PATTERN}
    assert schema["moment"]["pattern"] == DATETIME_MAYBE_NAIVE_PATTERN
    assert "format" not in schema["moment"]
    assert schema["aware"]["format"] == "date-time"
    local = Draft202012Validator(schema["local"], format_checker=FORMATS)
    assert [local.is_valid(t) for t in ("08:30", "16:00:00", "16:00:00.250000")] == [True] * 3
    assert [local.is_valid(t) for t in ("24:00", "8:30", "16:00:00+02:00")] == [False] * 3
    moment = Draft202012Validator(schema["moment"], format_checker=FORMATS)
    for written in ("2027-01-11T00:00:00", "2027-01-11T00:00:00+01:00"):
        clock = _Clock.model_validate(
            {"local": "08:30", "moment": written, "aware": "2027-01-11T00:00:00Z"}
        )
        wire = json.loads(clock.model_dump_json())
        assert moment.is_valid(wire["moment"]), wire
        assert local.is_valid(wire["local"]), wire


def test_every_sample_record_names_a_published_schema_and_follows_it() -> None:
    records = samples()
    failures = [found for sample in records if (found := problem(sample.dataschema, sample.body))]
    assert failures == []
    types = {sample.headers["ce_type"] for sample in records}
    assert b"binome.hr.enrol-participant" in types
    assert len(types) >= 12


def test_format_checking_is_on_so_a_bad_date_fails() -> None:
    programme = next(s for s in samples() if s.headers["ce_type"] == b"binome.hr.define-programme")
    body = programme.body
    body["session_plan"]["starts_on"] = "2027-13-45"
    assert problem(programme.dataschema, body) is not None


_ANNOTATIONS = {
    *("$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"),
    *("deprecated", "readOnly", "writeOnly"),
}
"""2020-12 keywords that validate nothing, so a validator has no function for them."""
_KEYWORD_CONTAINERS = {"properties", "$defs", "patternProperties", "dependentSchemas"}


def _walk(schema: Any) -> list[tuple[str, Any]]:
    """Every (keyword, value) in a schema, sub-schemas included, property names excluded."""
    if isinstance(schema, list):
        return [pair for item in schema for pair in _walk(item)]
    if not isinstance(schema, dict):
        return []
    pairs: list[tuple[str, Any]] = []
    for key, value in schema.items():
        pairs.append((key, value))
        if key in _KEYWORD_CONTAINERS:
            pairs += [pair for sub in value.values() for pair in _walk(sub)]
        elif key not in {"const", "default", "enum", "examples"}:
            pairs += _walk(value)
    return pairs


def _keywords(schema: dict[str, Any]) -> set[str]:
    return {key for key, _ in _walk(schema)}
