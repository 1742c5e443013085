"""``ObjectiveSet`` 2.0 leaves the objective's wording out of the topic; 1.x records, which
carried it, stay readable and reach consumers as 2.0 without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from binome_shared.contracts.base import Envelope, Message, SchemaVersion
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.sessions_messages import (
    SESSIONS_EVENT_TYPES,
    ObjectiveClosed,
    ObjectiveOutcome,
    ObjectiveSet,
    ObjectiveSetV1,
    ParticipantRole,
)
from binome_shared.messaging.cloudevents import dataschema_uri, encode
from tests.support.published import published, read_back

pytestmark = pytest.mark.unit

TYPE = "binome.sessions.objective-set"
SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
TITLE = "Publier un article sur l'IA générative"


def titled() -> ObjectiveSetV1:
    return ObjectiveSetV1(
        pair_id="pair-1", objective_id="o-1", owner=ParticipantRole.MENTEE, title=TITLE
    )


def on_the_wire(data: Message) -> Envelope[Message]:
    return published(data, programme_id="prog-1")


def test_version_2_is_what_sessions_publishes_and_has_no_title() -> None:
    assert ObjectiveSet.message_type == ObjectiveSetV1.message_type == TYPE
    assert ObjectiveSet.schema_version == SchemaVersion(major=2, minor=0)
    assert ObjectiveSet.supersedes is ObjectiveSetV1
    assert set(ObjectiveSet.model_fields) == {"pair_id", "objective_id", "owner"}
    assert ObjectiveSet in SESSIONS_EVENT_TYPES
    assert ObjectiveSetV1 not in SESSIONS_EVENT_TYPES
    assert CATALOGUE.current(TYPE) is ObjectiveSet


def test_a_2_0_record_names_its_major_and_carries_no_wording() -> None:
    event = ObjectiveSet(pair_id="pair-1", objective_id="o-1", owner=ParticipantRole.MENTOR)
    record = encode(on_the_wire(event), topic=event.topic.name)
    headers = dict(record.headers)
    assert headers["ce_schemaversion"] == b"2.0"
    assert headers["ce_dataschema"] == dataschema_uri(TYPE, 2).encode()
    assert json.loads(record.value) == {
        "pair_id": "pair-1",
        "objective_id": "o-1",
        "owner": "mentor",
    }


def test_a_1_0_record_is_read_and_reaches_consumers_as_2_0_without_its_title() -> None:
    envelope = on_the_wire(titled())
    assert dict(encode(envelope, topic="t").headers)["ce_schemaversion"] == b"1.0"

    read = read_back(envelope)

    assert read.data == ObjectiveSet(
        pair_id="pair-1", objective_id="o-1", owner=ParticipantRole.MENTEE
    )
    assert type(read.data) is ObjectiveSet
    assert read.schema_version == SchemaVersion(major=1, minor=0), "what was on the wire"
    assert TITLE not in read.model_dump_json()


def test_every_1_x_is_read_by_the_1_x_model_and_2_x_by_the_2_x_one() -> None:
    newer_minor = CATALOGUE.reader_for(TYPE, SchemaVersion(major=1, minor=4))
    assert issubclass(newer_minor, ObjectiveSetV1)
    assert CATALOGUE.reader_for(TYPE, SchemaVersion(major=1, minor=0)) is ObjectiveSetV1
    assert CATALOGUE.reader_for(TYPE, SchemaVersion(major=2, minor=0)) is ObjectiveSet


def test_2_0_reads_no_other_message() -> None:
    closed = ObjectiveClosed(
        pair_id="pair-1",
        objective_id="o-1",
        owner=ParticipantRole.MENTEE,
        outcome=ObjectiveOutcome.MET,
        progress_percent=100,
    )
    with pytest.raises(TypeError, match="cannot read ObjectiveClosed"):
        ObjectiveSet.upcast(closed)


def committed(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / path).read_text())
    return document


def test_both_majors_are_published_and_indexed() -> None:
    indexed = [entry for entry in committed("catalogue.json")["messages"] if entry["type"] == TYPE]
    assert [(entry["version"], entry["file"]) for entry in indexed] == [
        ("1.0", f"messages/{TYPE}.v1.json"),
        ("2.0", f"messages/{TYPE}.v2.json"),
    ]
    first = committed(f"messages/{TYPE}.v1.json")
    second = committed(f"messages/{TYPE}.v2.json")
    assert first["$id"] == dataschema_uri(TYPE, 1)
    assert "title" in first["required"], "1.x as it was published"
    assert second["$id"] == dataschema_uri(TYPE, 2)
    assert "title" not in second["properties"]
