"""Envelopes on Kafka, following the CloudEvents 1.0 Kafka protocol binding, binary mode.

Context attributes travel as ``ce_*`` headers (so routers need not parse the body), the
payload is the JSON record value, and the record key is the envelope's partition key.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError

from binome_shared.contracts.base import Envelope, Message, SchemaVersion
from binome_shared.contracts.registry import (
    Registry,
    UnknownMessageTypeError,
    UnknownSchemaVersionError,
)
from binome_shared.contracts.text import CONTROL_CHARACTER, REFERENCE_MAX_LENGTH

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]
_T = TypeVar("_T")
_SPEC_VERSION_BYTES = SPEC_VERSION.encode()
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """What a producer sends: topic, key, value and headers."""

    topic: str
    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True, slots=True)
class ReceivedRecord:
    """What a consumer got: the raw bytes and where they came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    header_values: Mapping[str, bytes] = field(init=False, repr=False, compare=False)
    """The headers by name, the first of a repeated name winning: looked up many times."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "header_values", dict(reversed(self.headers)))

    def header(self, name: str) -> str | None:
        value = self.header_values.get(name)
        return None if value is None else value.decode("utf-8", errors="replace")

    @classmethod
    def of(cls, record: Any) -> ReceivedRecord:
        """The bytes of a consumer record (aiokafka's ``ConsumerRecord``), headers kept raw."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=list(record.headers or ()),
        )


class RejectionCode(StrEnum):
    """Why a record could not even be read; each is dead-lettered at once."""

    MALFORMED_JSON = "malformed_json"
    MISSING_ATTRIBUTE = "missing_attribute"
    INVALID_ATTRIBUTE = "invalid_attribute"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_VERSION = "unknown_version"
    SCHEMA_INVALID = "schema_invalid"


class UndecodableRecordError(ValueError):
    """A record that cannot become an envelope, with a machine code and a human reason."""

    def __init__(self, code: RejectionCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


_EXTENSIONS = {
    "tenantid": "tenant_id",
    "programmeid": "programme_id",
    "correlationid": "correlation_id",
    "causationid": "causation_id",
}


def encode(envelope: Envelope[Any], *, topic: str) -> KafkaRecord:
    """The Kafka record for an envelope, ready for a producer."""
    version = envelope.schema_version
    headers: Headers = [
        ("ce_specversion", _SPEC_VERSION_BYTES),
        ("ce_id", str(envelope.id).encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_time", envelope.time.isoformat().encode()),
        *_type_headers(envelope.type, version.major, version.minor),
        ("ce_tenantid", envelope.tenant_id.encode()),
        ("ce_programmeid", envelope.programme_id.encode()),
        ("ce_correlationid", str(envelope.correlation_id).encode()),
        ("content-type", _CONTENT_TYPE_BYTES),
    ]
    if envelope.causation_id is not None:
        headers.append(("ce_causationid", str(envelope.causation_id).encode()))
    if envelope.subject is not None:
        headers.append(("ce_subject", envelope.subject.encode()))
    return KafkaRecord(
        topic=topic,
        key=envelope.partition_key().encode(),
        # The serializer's own bytes: model_dump_json() would decode them to text first.
        value=envelope.data.__pydantic_serializer__.to_json(envelope.data),
        headers=headers,
    )


DATASCHEMA_BASE = "https://binome.example/schemas/"
"""Where Binôme's message schemas are published; ``docs/schemas/`` mirrors it file for file.

A record's ``ce_dataschema`` is this base plus ``messages/<type>.v<major>.json``, which is
also the schema's ``$id``: a consumer maps the base to its copy of ``docs/schemas/`` (or
to wherever it publishes them) and finds the file. One URI per major version, as
CloudEvents asks: minor versions only add optional fields, so the URI need not change.
"""


def dataschema_uri(message_type: str, major: int) -> str:
    """The URI of the JSON Schema that bodies of this type and major version follow."""
    return f"{DATASCHEMA_BASE}messages/{message_type}.v{major}.json"


@functools.lru_cache(maxsize=512)
def _type_headers(message_type: str, major: int, minor: int) -> tuple[tuple[str, bytes], ...]:
    """The headers that depend only on the type and version: built once, reused per record."""
    return (
        ("ce_type", message_type.encode()),
        ("ce_schemaversion", f"{major}.{minor}".encode()),
        ("ce_dataschema", dataschema_uri(message_type, major).encode()),
    )


def decode(record: ReceivedRecord, registry: Registry) -> Envelope[Message]:
    """The envelope a record carries, upcast to the current major of its type.

    Raises UndecodableRecordError with the precise reason when the record is not a valid
    Binôme message: such a record is dead-lettered, never retried.
    """
    attributes = _read_attributes(record.header_values)
    missing = [f"ce_{name}" for name in _REQUIRED if not attributes[name]]
    if missing:
        raise UndecodableRecordError(
            RejectionCode.MISSING_ATTRIBUTE, f"missing header(s): {', '.join(missing)}"
        )
    if attributes["specversion"] != SPEC_VERSION:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"ce_specversion is {_shown(attributes['specversion'])}, expected {SPEC_VERSION!r}",
        )
    message_type = str(attributes["type"])
    try:
        version = _schema_version(str(attributes["schemaversion"]))
    except (ValueError, ValidationError):
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"ce_schemaversion {_shown(attributes['schemaversion'])} is not MAJOR.MINOR",
        ) from None
    try:
        reader = registry.reader_for(message_type, version)
    except UnknownMessageTypeError:
        raise UndecodableRecordError(
            RejectionCode.UNKNOWN_TYPE, f"unknown message type {_shown(message_type)}"
        ) from None
    except UnknownSchemaVersionError as error:
        raise UndecodableRecordError(RejectionCode.UNKNOWN_VERSION, str(error)) from None
    data = _read_body(record.value, reader, message_type)
    event_id = _uuid("id", attributes["id"])
    causation = attributes["causationid"]
    try:
        return _ENVELOPE(
            id=event_id,
            source=attributes["source"],
            time=_parsed(
                "time", str(attributes["time"]), datetime.fromisoformat, "an RFC 3339 time"
            ),
            tenant_id=attributes["tenantid"],
            programme_id=attributes["programmeid"],
            correlation_id=_uuid("correlationid", attributes["correlationid"]) or event_id,
            causation_id=_uuid("causationid", causation) if causation else None,
            subject=attributes["subject"],
            schema_version=version,
            data=registry.upcast(data),
        )
    except ValidationError as error:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE, _describe_attribute_errors(error)
        ) from None


ATTRIBUTE_MAX_BYTES = 4 * REFERENCE_MAX_LENGTH
"""No context attribute is longer than a reference (400 characters of up to 4 bytes): a
longer header is refused before it is even decoded."""

_SHOWN_MAX_CHARACTERS = 80


def _shown(text: str | None) -> str:
    """A value quoted in a reason: escaped by repr, cut to a readable length."""
    if text is not None and len(text) > _SHOWN_MAX_CHARACTERS:
        return repr(text[:_SHOWN_MAX_CHARACTERS]) + "…"
    return repr(text)


def _read_attributes(values: Mapping[str, bytes]) -> dict[str, str | None]:
    """Every ``ce_*`` attribute as text, or None when absent; refuses what no reader may see.

    Invalid UTF-8, control characters and overlong values are refused rather than repaired:
    a replacement character would make one service store an id another service refuses.
    """
    return {
        name: None if (raw := values.get(header)) is None else _attribute_text(header, raw)
        for name, header in _ATTRIBUTE_HEADERS
    }


def _attribute_text(header: str, raw: bytes) -> str:
    if len(raw) > ATTRIBUTE_MAX_BYTES:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"{header} is {len(raw)} bytes long; at most {ATTRIBUTE_MAX_BYTES} are accepted",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"{header} is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})",
        ) from None
    control = CONTROL_CHARACTER.search(text)
    if control is not None:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE,
            f"{header} contains the control character U+{ord(control.group()):04X} "
            f"at position {control.start()}",
        )
    return text


def _parsed(name: str, text: str, parse: Callable[[str], _T], expected: str) -> _T:
    """One attribute read by ``parse``; a ValueError refuses the record, naming the header."""
    try:
        return parse(text)
    except ValueError:
        raise UndecodableRecordError(
            RejectionCode.INVALID_ATTRIBUTE, f"ce_{name} {_shown(text)} is not {expected}"
        ) from None


def _uuid(name: str, text: str | None) -> uuid.UUID | None:
    return None if text is None else _parsed(name, text, uuid.UUID, "a UUID")


_HEADER_OF_FIELD = {
    "id": "ce_id",
    "source": "ce_source",
    "time": "ce_time",
    "tenant_id": "ce_tenantid",
    "programme_id": "ce_programmeid",
    "correlation_id": "ce_correlationid",
    "causation_id": "ce_causationid",
    "subject": "ce_subject",
}


def _describe_attribute_errors(error: ValidationError) -> str:
    """Each refused attribute by its header name, with pydantic's reason (never the value)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field_name = str(item["loc"][0]) if item["loc"] else ""
        problems.append(f"{_HEADER_OF_FIELD.get(field_name, field_name)}: {item['msg']}")
    return "invalid CloudEvents attribute(s): " + "; ".join(problems)


@functools.lru_cache(maxsize=64)
def _schema_version(text: str) -> SchemaVersion:
    """Versions are few and immutable: parse each spelling once."""
    return SchemaVersion.parse(text)


def _read_body(value: bytes | None, reader: type[Message], message_type: str) -> Message:
    """The payload, parsed and validated in one pass by pydantic's JSON reader."""
    try:
        return reader.model_validate_json(value or b"")
    except ValidationError as error:
        problems = error.errors(include_url=False)
        if problems and problems[0]["type"] == "json_invalid":
            raise UndecodableRecordError(
                RejectionCode.MALFORMED_JSON, f"body is not JSON: {problems[0]['msg']}"
            ) from None
        raise UndecodableRecordError(
            RejectionCode.SCHEMA_INVALID, _describe_validation_error(message_type, error)
        ) from None


_ENVELOPE = Envelope[Message]  # parametrised once: pydantic's generic lookup is not free

_REQUIRED = (
    "specversion",
    "id",
    "type",
    "source",
    "time",
    "schemaversion",
    "tenantid",
    "programmeid",
)
_OPTIONAL = ("correlationid", "causationid", "subject")
_ATTRIBUTE_HEADERS = tuple((name, f"ce_{name}") for name in _REQUIRED + _OPTIONAL)


def _describe_validation_error(message_type: str, error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '(body)'}: {item['msg']}"
        for item in error.errors(include_url=False)[:10]
    ]
    more = error.error_count() - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{message_type} body is invalid: " + "; ".join(problems) + suffix
