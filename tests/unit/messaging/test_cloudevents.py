"""The CloudEvents Kafka binding: what goes on the wire, and every way a record is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binome_shared.contracts.base import Envelope, Event, Message
from binome_shared.contracts.pairing_events import (
    PAIRING_EVENT_TYPES,
    PairExplanation,
    PairFormed,
    PairSide,
)
from binome_shared.contracts.registry import Registry
from binome_shared.contracts.text import CONTROL_CHARACTER
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.contracts.values import LocalisedText
from binome_shared.messaging.cloudevents import (
    ReceivedRecord,
    RejectionCode,
    UndecodableRecordError,
    decode,
    encode,
)

pytestmark = pytest.mark.unit

REGISTRY = Registry.of(PAIRING_EVENT_TYPES)
NOW = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)


def pair_formed(pair_id: str = "p-1") -> PairFormed:
    return PairFormed(
        pair_id=pair_id,
        round_id="r-1",
        mentor=PairSide(participant_id="Y1", business_unit="Digital"),
        mentee=PairSide(participant_id="X1", business_unit="Finance"),
        explanation=PairExplanation(
            score=0.8,
            breakdown={"needs_coverage": 0.9},
            summary=LocalisedText(fr="Bon binôme", en="Good pair"),
        ),
    )


def envelope(data: Event | None = None) -> Envelope[Event]:
    return Envelope.new(
        data or pair_formed(),
        source="/binome/pairing",
        time=NOW,
        tenant_id="groupe-exemple",
        programme_id="prog-2027",
    )


def received(record_headers: list[tuple[str, bytes]], value: bytes) -> ReceivedRecord:
    return ReceivedRecord(
        topic="binome.pairing.events",
        partition=0,
        offset=7,
        key=b"p-1",
        value=value,
        headers=record_headers,
    )


def test_binary_mode_puts_context_in_ce_headers_and_data_in_the_value() -> None:
    original = envelope()
    record = encode(original, topic="binome.pairing.events")
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == str(original.id).encode()
    assert headers["ce_type"] == b"binome.pairing.pair-formed"
    assert headers["ce_source"] == b"/binome/pairing"
    assert headers["ce_time"] == b"2027-01-14T09:30:00+00:00"
    assert headers["ce_schemaversion"] == b"1.1", "PairFormed 1.1: explanation.imposed"
    assert headers["ce_tenantid"] == b"groupe-exemple"
    assert headers["ce_programmeid"] == b"prog-2027"
    assert headers["content-type"] == b"application/json"
    assert "ce_causationid" not in headers
    assert record.key == b"p-1", "pair events are keyed by pair"
    assert json.loads(record.value)["mentor"]["participant_id"] == "Y1"


def test_a_record_decodes_back_to_the_same_envelope() -> None:
    original = envelope()
    record = encode(original, topic="t")
    assert decode(received(record.headers, record.value), REGISTRY) == original


def test_causation_and_correlation_follow_the_cause() -> None:
    cause = envelope()
    effect = cause.caused(pair_formed("p-2"), source="/binome/sessions", time=NOW)
    assert effect.correlation_id == cause.correlation_id == cause.id
    assert effect.causation_id == cause.id
    record = encode(effect, topic="t")
    assert decode(received(record.headers, record.value), REGISTRY).causation_id == cause.id


def test_programme_scoped_events_are_keyed_by_programme() -> None:
    from binome_shared.contracts.pairing_events import MatchingCompleted

    completed = MatchingCompleted(
        round_id="r", preview=False, mentors=1, mentees=1, pairs=1, pairs_kept=0
    )
    assert encode(envelope(completed), topic="t").key == b"prog-2027"


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda h, v: (h, b"{not json"), RejectionCode.MALFORMED_JSON),
        (lambda h, v: (h, b'{"pair_id": 3}'), RejectionCode.SCHEMA_INVALID),
        (lambda h, v: (_replace(h, "ce_type", b"binome.nope"), v), RejectionCode.UNKNOWN_TYPE),
        (lambda h, v: (_replace(h, "ce_schemaversion", b"2.0"), v), RejectionCode.UNKNOWN_VERSION),
        (
            lambda h, v: (_replace(h, "ce_schemaversion", b"one"), v),
            RejectionCode.INVALID_ATTRIBUTE,
        ),
        (lambda h, v: (_replace(h, "ce_specversion", b"0.3"), v), RejectionCode.INVALID_ATTRIBUTE),
        (lambda h, v: ([x for x in h if x[0] != "ce_id"], v), RejectionCode.MISSING_ATTRIBUTE),
        (lambda h, v: (_replace(h, "ce_id", b"not-a-uuid"), v), RejectionCode.INVALID_ATTRIBUTE),
    ],
    ids=[
        "malformed",
        "schema",
        "unknown-type",
        "future-major",
        "bad-version",
        "spec",
        "no-id",
        "bad-id",
    ],
)
def test_every_unreadable_record_is_refused_with_its_reason(mutate, code) -> None:  # type: ignore[no-untyped-def]
    record = encode(envelope(), topic="t")
    headers, value = mutate(list(record.headers), record.value)
    with pytest.raises(UndecodableRecordError) as refused:
        decode(received(headers, value), REGISTRY)
    assert refused.value.code is code
    assert refused.value.reason


def test_schema_errors_name_the_field() -> None:
    record = encode(envelope(), topic="t")
    body = json.loads(record.value)
    body["explanation"]["score"] = 7
    with pytest.raises(UndecodableRecordError) as refused:
        decode(received(list(record.headers), json.dumps(body).encode()), REGISTRY)
    assert "explanation.score" in refused.value.reason


def test_a_newer_minor_version_with_an_extra_field_is_read() -> None:
    record = encode(envelope(), topic="t")
    body = json.loads(record.value)
    body["added_in_1_1"] = "ignored by 1.0 readers"
    headers = _replace(list(record.headers), "ce_schemaversion", b"1.1")
    decoded = decode(received(headers, json.dumps(body).encode()), REGISTRY)
    assert decoded.data == pair_formed()
    assert str(decoded.schema_version) == "1.1"


class _GreetedV1(Event, type="test.greeted", version=(1, 0), topic=PAIRING_EVENTS):
    name: str


class _GreetedV2(
    Event, type="test.greeted", version=(2, 0), topic=PAIRING_EVENTS, supersedes=_GreetedV1
):
    first_name: str
    last_name: str

    @classmethod
    def upcast(cls, older: object) -> _GreetedV2:
        assert isinstance(older, _GreetedV1)
        first, _, last = older.name.partition(" ")
        return cls(first_name=first, last_name=last)


def test_an_old_major_version_is_upcast_to_the_current_model() -> None:
    registry = Registry.of([_GreetedV2])
    old = Envelope.new(
        _GreetedV1(name="Ada Lovelace"), source="/x", time=NOW, tenant_id="t", programme_id="p"
    )
    record = encode(old, topic="t")
    decoded = decode(received(record.headers, record.value), registry)
    assert decoded.data == _GreetedV2(first_name="Ada", last_name="Lovelace")
    assert decoded.schema_version.major == 1, "the envelope still says what was on the wire"


def _replace(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    assert any(h == name for h, _ in headers)
    return [(h, value if h == name else v) for h, v in headers]


def test_ids_are_unique() -> None:
    assert envelope().id != envelope().id
    assert isinstance(envelope().id, uuid.UUID)


HOSTILE_HEADERS = [
    ("ce_tenantid", b"acme\xff\xfe", "is not valid UTF-8 (byte 0xff at offset 4)"),
    ("ce_tenantid", b"acme\x00", "contains the control character U+0000 at position 4"),
    ("ce_programmeid", b"prog\r\nX-Evil: 1", "contains the control character U+000D"),
    ("ce_source", "/hr/\u202eevil".encode(), "contains the control character U+202E"),
    ("ce_subject", b"p-1\x1b[31m", "contains the control character U+001B"),
    ("ce_type", b"binome.\xc3", "is not valid UTF-8"),
    ("ce_programmeid", b"p" * 2_000_000, "is 2000000 bytes long; at most 1600 are accepted"),
    ("ce_tenantid", b"t" * 201, "String should have at most 200 characters"),
    ("ce_time", b"0001-01-01T00:00:00+01:00", "year 1 is outside 1999–2200"),
    ("ce_time", b"9999-12-31T23:59:59-01:00", "year 9999 is outside 1999–2200"),
    ("ce_time", b"2027-01-14T09:30:00", "Input should have timezone info"),
    ("ce_time", b"yesterday", "is not an RFC 3339 time"),
    ("ce_correlationid", b"not-a-uuid", "is not a UUID"),
    ("ce_causationid", b"\xe9", "is not valid UTF-8"),
]


@pytest.mark.parametrize(
    ("header", "value", "why"),
    HOSTILE_HEADERS,
    ids=[f"{header}-{why[:20]}" for header, _, why in HOSTILE_HEADERS],
)
def test_a_hostile_attribute_is_refused_by_name_never_repaired(
    header: str, value: bytes, why: str
) -> None:
    record = encode(envelope(), topic="t")
    headers = [(name, v) for name, v in record.headers if name != header] + [(header, value)]
    with pytest.raises(UndecodableRecordError) as refused:
        decode(received(headers, record.value), REGISTRY)
    assert refused.value.code is RejectionCode.INVALID_ATTRIBUTE
    assert header in refused.value.reason
    assert why in refused.value.reason
    assert len(refused.value.reason) < 300, "a reason quotes a bounded excerpt at most"
    assert CONTROL_CHARACTER.search(refused.value.reason) is None


@settings(max_examples=300, deadline=None)
@given(tenant=st.binary(max_size=300))
def test_any_tenant_header_is_read_exactly_or_refused_naming_it(tenant: bytes) -> None:
    record = encode(envelope(), topic="t")
    headers = _replace(list(record.headers), "ce_tenantid", tenant)
    decoded = _decoded_or_refusal(received(headers, record.value))
    if isinstance(decoded, UndecodableRecordError):
        assert decoded.code in (RejectionCode.INVALID_ATTRIBUTE, RejectionCode.MISSING_ATTRIBUTE)
        assert "ce_tenantid" in decoded.reason
        assert CONTROL_CHARACTER.search(decoded.reason) is None
        return
    assert decoded.tenant_id.encode() == tenant, "never a replacement character"
    assert CONTROL_CHARACTER.search(decoded.tenant_id) is None
    assert 1 <= len(decoded.tenant_id) <= 200


def _decoded_or_refusal(record: ReceivedRecord) -> Envelope[Message] | UndecodableRecordError:
    try:
        return decode(record, REGISTRY)
    except UndecodableRecordError as refusal:
        return refusal
