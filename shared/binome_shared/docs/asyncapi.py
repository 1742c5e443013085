"""AsyncAPI 3 documents generated from a service's definition and the message models.

They are written for the official AsyncAPI parser and the generators built on it: the
current specification version, payloads in the AsyncAPI schema format, Binôme's own
metadata only as ``x-`` specification extensions, where the specification allows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from binome_shared.contracts.base import Message, MessageKind
from binome_shared.contracts.topics import TopicSpec
from binome_shared.docs.json_schema import message_json_schema
from binome_shared.messaging.cloudevents import dataschema_uri

ASYNCAPI_VERSION = "3.1.0"


class DocumentedService(Protocol):
    """What a service's AsyncAPI document is made of; a ``ServiceDefinition`` is one.

    A protocol rather than the runtime's class: the runtime serves this document, so the
    document does not import the runtime (no import cycle between the two).
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def subscriptions(self) -> Sequence[TopicSpec]: ...

    @property
    def routes(self) -> Iterable[type[Message]]:
        """The message types the service receives."""
        ...

    @property
    def publishes(self) -> Sequence[type[Message]]: ...


CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka protocol binding, binary content mode.",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_time",
        "ce_schemaversion",
        "ce_tenantid",
        "ce_programmeid",
    ],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "Unique id; idempotency key."},
        "ce_type": {
            "type": "string",
            "description": "Message type, e.g. binome.pairing.pair-formed.",
        },
        "ce_source": {"type": "string", "description": "Producer, e.g. /binome/pairing."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string"},
        "ce_schemaversion": {"type": "string", "pattern": r"^\d+\.\d+$"},
        "ce_dataschema": {
            "type": "string",
            "format": "uri",
            "description": (
                "The body's JSON Schema, also its `$id`: "
                "https://binome.example/schemas/messages/<type>.v<major>.json, "
                "published as docs/schemas/messages/<type>.v<major>.json."
            ),
        },
        "ce_tenantid": {"type": "string", "description": "The organisation."},
        "ce_programmeid": {"type": "string", "description": "The programme."},
        "ce_correlationid": {"type": "string", "format": "uuid"},
        "ce_causationid": {"type": "string", "format": "uuid"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context."},
    },
}


def message_name(message: type[Message]) -> str:
    return f"{message.__name__}V{message.schema_version.major}"


def asyncapi_document(definition: DocumentedService) -> dict[str, Any]:
    """The service's AsyncAPI document: what it receives, what it sends, every schema."""
    received = list(definition.routes)
    sent = list(definition.publishes)
    topics: dict[str, TopicSpec] = {}
    for message in (*received, *sent):
        topics.setdefault(message.topic.name, message.topic)
    for topic in definition.subscriptions:
        topics.setdefault(topic.name, topic)
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for message in (*received, *sent):
        body = message_json_schema(message, ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        messages[message_name(message)] = _message_object(message, _payload(body))
    schemas["CloudEventsHeaders"] = CLOUDEVENTS_HEADERS
    channels = {
        _channel_id(topic): {
            "address": topic.name,
            "description": topic.description,
            "messages": {
                message_name(message): {"$ref": f"#/components/messages/{message_name(message)}"}
                for message in (*received, *sent)
                if message.topic.name == topic.name
            },
            "bindings": {"kafka": {"partitions": topic.partitions}},
        }
        for topic in topics.values()
    }
    operations: dict[str, Any] = {}
    for action, group in (("receive", received), ("send", sent)):
        for topic in topics.values():
            selected = [message for message in group if message.topic.name == topic.name]
            if not selected:
                continue
            operations[f"{action}-{_channel_id(topic)}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{_channel_id(topic)}"},
                "messages": [
                    {"$ref": f"#/channels/{_channel_id(topic)}/messages/{message_name(message)}"}
                    for message in selected
                ],
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": f"binome-{definition.name}",
            "version": _version(),
            "description": definition.description,
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def _message_object(message: type[Message], payload: dict[str, Any]) -> dict[str, Any]:
    uri = dataschema_uri(message.message_type, message.schema_version.major)
    return {
        "name": message.message_type,
        "title": message.__name__,
        "summary": (message.__doc__ or "").strip().split("\n")[0],
        "contentType": "application/json",
        "headers": _headers(message, uri),
        "payload": payload,
        "bindings": {"kafka": {"key": {"type": "string", "description": _key(message)}}},
        "externalDocs": {
            "description": "The body's JSON Schema (draft 2020-12), named by ce_dataschema.",
            "url": uri,
        },
        "x-binome-type": message.message_type,
        "x-binome-version": str(message.schema_version),
        "x-binome-kind": str(message.message_kind),
        "x-binome-topic": message.topic.name,
    }


def _headers(message: type[Message], uri: str) -> dict[str, Any]:
    """The shared CloudEvents headers, with the values fixed for this message."""
    own: dict[str, Any] = {
        "type": "object",
        "properties": {
            "ce_type": {"const": message.message_type},
            "ce_schemaversion": {"pattern": rf"^{message.schema_version.major}\.\d+$"},
            "ce_dataschema": {"const": uri},
        },
    }
    if message.message_kind is MessageKind.EVENT:
        own["required"] = ["ce_dataschema"]  # Binôme writes it; HR platforms need not
    return {"allOf": [{"$ref": "#/components/schemas/CloudEventsHeaders"}, own]}


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    """The body's schema inside the document: no dialect, no `$id` to move `$ref`s' base."""
    return {key: value for key, value in body.items() if key not in {"$schema", "$id"}}


def _channel_id(topic: TopicSpec) -> str:
    return topic.name.replace(".", "-")


def _key(message: type[Message]) -> str:
    return message.key_field or "programme_id"


def _version() -> str:
    try:
        return version("binome")
    except PackageNotFoundError:
        return "0.0.0"
