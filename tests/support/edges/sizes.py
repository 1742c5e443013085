"""Records as large as the broker takes, and no larger: what the broker's limit is, and a
valid-looking command padded to just under it."""

from __future__ import annotations

from dataclasses import replace

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.partitioner import murmur2
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from tests.support.edges.cases import Case, Verdict, with_json

HEADROOM = 64
"""Bytes left under the limit: less than any dead-letter header adds to the copy."""


async def max_message_bytes(bootstrap: str, topic: str) -> int:
    """The largest record batch the broker accepts on ``topic`` (``max.message.bytes``)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    for name, value, *_ in response.resources[0][4]:
        if name == "max.message.bytes":
            return int(value)
    raise AssertionError(f"the broker did not say the max.message.bytes of {topic}")


def batch_size(case: Case) -> int:
    """The size of the one-record batch the producer sends ``case`` in."""
    return int(
        DefaultRecordBatchBuilder.estimate_size_in_bytes(case.key, case.value, case.wire_headers)
    )


def padded_to(case: Case, limit: int) -> Case:
    """``case`` with its participant's name padded until its batch is just under ``limit``
    (the name is then far beyond its 200 characters: every reader refuses it)."""
    padding = 0
    for _ in range(10):  # varint lengths move a few bytes each time

        def pad(body: dict[str, object], extra: int = padding) -> None:
            participant = body["participant"]
            assert isinstance(participant, dict)
            participant["full_name"] = "x" * max(extra, 1)

        candidate = with_json(case, pad, verdict=Verdict.REFUSE)
        missing = limit - HEADROOM - batch_size(candidate)
        if 0 <= missing <= 8:
            return replace(candidate, may_be_set_aside=True)
        padding += missing
    raise AssertionError(f"could not pad {case.label} to {limit - HEADROOM} bytes")


def key_on_another_partition(key: bytes, partitions: int) -> bytes:
    """A key whose records go to another partition than ``key``'s (Kafka's default
    partitioner): its dead-letter copy travels in another batch than ``key``'s."""
    taken = (murmur2(key) & 0x7FFFFFFF) % partitions
    for number in range(1000):
        candidate = f"{key.decode()}-elsewhere-{number}".encode()
        if (murmur2(candidate) & 0x7FFFFFFF) % partitions != taken:
            return candidate
    raise AssertionError("no key found on another partition")
