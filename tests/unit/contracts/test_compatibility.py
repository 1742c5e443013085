"""Every message version ever committed stays readable; minor versions only add optional
fields, and a newer minor is read with the fields this code does not know ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from binome_devstack.service_definitions import service_definitions
from binome_shared.contracts.base import Envelope, Event, Message, MessageKind, SchemaVersion
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.registry import Registry
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.contracts.values import LocalisedText
from binome_shared.docs.json_schema import message_json_schema
from binome_shared.messaging.cloudevents import (
    ReceivedRecord,
    RejectionCode,
    UndecodableRecordError,
    decode,
    encode,
)
from tests.support.samples import AT, sample_payloads

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "messages"
COMMITTED = sorted(SCHEMAS.glob("*.json"))
COMMITTED_VERSIONS: dict[str, dict[str, str]] = {
    entry["dataschema"]: entry
    for entry in json.loads((SCHEMAS.parent / "catalogue.json").read_text())["messages"]
}


def committed_identity(schema: dict[str, Any]) -> tuple[str, SchemaVersion]:
    """The type and version a committed schema was written for, from the committed index;
    a schema the index no longer lists (its major was dropped) stands for its ``.0``."""
    entry = COMMITTED_VERSIONS.get(schema["$id"])
    if entry is not None:
        return entry["type"], SchemaVersion.parse(entry["version"])
    message_type, _, major = schema["$id"].rsplit("/", 1)[-1].removesuffix(".json").rpartition(".v")
    return message_type, SchemaVersion.parse(major)


def test_there_are_committed_schemas_to_check() -> None:
    assert len(COMMITTED) >= len(list(CATALOGUE))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_a_committed_version_is_still_readable_and_only_grew(path: Path) -> None:
    committed: dict[str, Any] = json.loads(path.read_text())
    message_type, version = committed_identity(committed)
    reader = CATALOGUE.reader_for(message_type, version)
    current = message_json_schema(reader)
    lost = set(committed.get("properties", {})) - set(current.get("properties", {}))
    assert not lost, f"{path.stem}: fields removed within major {version.major}: {lost}"
    newly_required = set(current.get("required", [])) - set(committed.get("required", []))
    assert not newly_required, f"{path.stem}: fields became required: {newly_required}"
    assert reader.schema_version.minor >= version.minor


SAMPLES = sample_payloads()
COMMANDS = [payload for payload in SAMPLES if payload.message_kind is MessageKind.COMMAND]


def record_of(payload: Message, *, version: str, extra: dict[str, Any]) -> ReceivedRecord:
    """``payload`` on the wire as version ``version``, its body grown by ``extra`` fields
    (at the top, and inside the first nested object, as a later minor may add them)."""
    encoded = encode(
        Envelope.new(
            payload, source="/hr/test", time=AT, tenant_id="groupe-exemple", programme_id="p-1"
        ),
        topic=payload.topic.name,
    )
    body = json.loads(encoded.value)
    nested = [name for name, value in payload if isinstance(value, BaseModel)]
    for grown in [body, *(body[name] for name in nested[:1])]:
        grown.update(extra)
    return ReceivedRecord(
        topic=encoded.topic,
        partition=0,
        offset=0,
        key=encoded.key,
        value=json.dumps(body).encode(),
        headers=[
            (name, version.encode() if name == "ce_schemaversion" else value)
            for name, value in encoded.headers
        ],
    )


def test_every_command_and_every_consumed_event_has_a_sample() -> None:
    consumed = {message for definition in service_definitions() for message in definition.routes}
    commands = {message for message in CATALOGUE if message.message_kind is MessageKind.COMMAND}
    assert {type(payload) for payload in SAMPLES} >= consumed | commands


@pytest.mark.parametrize("payload", SAMPLES, ids=lambda payload: payload.message_type)
def test_a_newer_minor_version_with_fields_we_do_not_know_is_read(payload: Message) -> None:
    known = payload.schema_version
    record = record_of(
        payload,
        version=f"{known.major}.{known.minor + 1}",
        extra={"added_in_a_later_minor": {"any": ["shape", 1]}},
    )
    read = decode(record, CATALOGUE)
    assert type(read.data) is type(payload), "handlers get the class they are routed by"
    assert read.data == payload
    assert read.schema_version == SchemaVersion(major=known.major, minor=known.minor + 1)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.message_type)
def test_a_command_at_a_version_we_know_still_refuses_a_field_it_does_not_declare(
    command: Message,
) -> None:
    known = command.schema_version
    versions = {f"{known.major}.{minor}" for minor in (known.minor, max(known.minor - 1, 0))}
    for version in versions:
        record = record_of(command, version=version, extra={"typo_field": "x"})
        with pytest.raises(UndecodableRecordError) as refused:
            decode(record, CATALOGUE)
        assert refused.value.code is RejectionCode.SCHEMA_INVALID
        assert "typo_field: Extra inputs are not permitted" in refused.value.reason


class _NamedV1(Event, type="test.named", version=(1, 2), topic=PAIRING_EVENTS):
    name: str
    nickname: LocalisedText | None = None


class _NamedV2(Event, type="test.named", version=(2, 0), topic=PAIRING_EVENTS, supersedes=_NamedV1):
    first_name: str

    @classmethod
    def upcast(cls, older: Message) -> _NamedV2:
        assert type(older) is _NamedV1, "the upcaster gets the declared class, not a reader"
        return cls(first_name=older.name.split()[0])


def test_an_old_major_in_a_newer_minor_is_read_then_upcast() -> None:
    old = _NamedV1(name="Ada Lovelace", nickname=LocalisedText(fr="Ada", en="Ada"))
    record = record_of(old, version="1.7", extra={"added_in_1_7": True})
    read = decode(record, Registry.of([_NamedV2]))
    assert read.data == _NamedV2(first_name="Ada")
