"""AsyncAPI 3.0 documents generated from a service's definition and the message models."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from binome_shared.contracts.base import Message
from binome_shared.contracts.topics import TopicSpec
from binome_shared.runtime.service import ServiceDefinition

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


def message_json_schema(
    message: type[Message], *, ref_template: str = "#/$defs/{model}"
) -> dict[str, Any]:
    """The JSON Schema of a message's body (its CloudEvents ``data``)."""
    schema = message.model_json_schema(ref_template=ref_template, mode="validation")
    schema["$id"] = f"urn:binome:{message.message_type}:{message.schema_version.major}"
    schema["x-binome-type"] = message.message_type
    schema["x-binome-version"] = str(message.schema_version)
    schema["x-binome-kind"] = str(message.message_kind)
    schema["x-binome-topic"] = message.topic.name
    return schema


def asyncapi_document(definition: ServiceDefinition) -> dict[str, Any]:
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
        messages[message_name(message)] = {
            "name": message.message_type,
            "title": message.__name__,
            "summary": (message.__doc__ or "").strip().split("\n")[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
            "payload": body,
            "bindings": {"kafka": {"key": {"type": "string", "description": _key(message)}}},
        }
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
        "asyncapi": "3.0.0",
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


def _channel_id(topic: TopicSpec) -> str:
    return topic.name.replace(".", "-")


def _key(message: type[Message]) -> str:
    return message.key_field or "programme_id"


def _version() -> str:
    try:
        return version("binome")
    except PackageNotFoundError:
        return "0.0.0"
