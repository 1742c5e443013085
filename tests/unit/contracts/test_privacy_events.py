"""The proof of erasure (ErasureCompleted): what it carries, how it travels, what it refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.privacy_events import ErasedKind, ErasingService, ErasureCompleted
from binome_shared.contracts.topics import PRIVACY_EVENTS
from binome_shared.messaging.cloudevents import ReceivedRecord, decode, encode

pytestmark = pytest.mark.unit

AT = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def proof(**changes: Any) -> ErasureCompleted:
    fields: dict[str, Any] = {
        "participant_id": "E10442",
        "service": "pairing",
        "erased_at": AT,
        "already_erased": False,
        "erased": {"enrolments": 2, "pairs_ended": 1},
    }
    return ErasureCompleted.model_validate({**fields, **changes})


def test_it_travels_on_the_privacy_topic_keyed_by_the_person() -> None:
    envelope = Envelope.new(
        proof(), source="/binome/pairing", time=AT, tenant_id="acme", programme_id="prog-1"
    )
    assert ErasureCompleted.topic is PRIVACY_EVENTS
    assert envelope.partition_key() == "E10442", "a person's proofs stay in order"
    assert set(PRIVACY_EVENTS.written_by) == {str(service) for service in ErasingService}


def test_it_round_trips_through_the_wire_format() -> None:
    envelope = Envelope.new(
        proof(), source="/binome/pairing", time=AT, tenant_id="acme", programme_id="prog-1"
    )
    record = encode(envelope, topic=PRIVACY_EVENTS.name)
    received = ReceivedRecord(
        topic=record.topic,
        partition=0,
        offset=0,
        key=record.key,
        value=record.value,
        headers=record.headers,
    )
    read = decode(received, CATALOGUE)
    assert read.data == envelope.data
    assert read.data.erased == {"enrolments": 2, "pairs_ended": 1}
    assert read.data.service is ErasingService.PAIRING


def test_a_repeat_carries_no_counts_by_default() -> None:
    again = proof(already_erased=True, erased={})
    assert again.model_dump(mode="json")["erased"] == {}
    assert (
        ErasureCompleted(
            participant_id="E1", service="sessions", erased_at=AT, already_erased=True
        ).erased
        == {}
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service": "reporting"}, "service"),
        ({"erased": {"enrolments": -1}}, "erased"),
        ({"erased": {"profiles\r\nBcc": 1}}, "erased"),
        ({"erased_at": datetime(2027, 3, 1, 9, 30)}, "erased_at"),  # naive: refused
        ({"participant_id": ""}, "participant_id"),
    ],
)
def test_what_it_refuses_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refusal:
        proof(**changes)
    assert {str(error["loc"][0]) for error in refusal.value.errors()} == {field}


def test_it_carries_no_personal_data_only_ids_codes_counts_and_times() -> None:
    schema = ErasureCompleted.model_json_schema()
    assert set(schema["properties"]) == {
        "participant_id",
        "service",
        "erased_at",
        "already_erased",
        "erased",
    }
    [counts] = schema["properties"]["erased"]["patternProperties"].items()
    assert counts == ("^[a-z][a-z_]*$", {"minimum": 0, "maximum": 2147483647, "type": "integer"})


def test_every_kind_a_service_counts_is_a_valid_code() -> None:
    assert proof(erased={str(kind): 1 for kind in ErasedKind}).erased == {
        str(kind): 1 for kind in ErasedKind
    }
