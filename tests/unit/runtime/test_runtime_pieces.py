"""The runtime's pure pieces: declared topic shapes, group membership, the ASGI lifespan."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from binome_shared.contracts.topics import NOTIFICATIONS_EVENTS, PAIRING_EVENTS
from binome_shared.runtime.asgi import ServiceApp
from binome_shared.runtime.health import GroupMembership, OperatorMetrics, exposition
from binome_shared.runtime.topics import (
    DeclaredTopic,
    TopicMismatch,
    TopicsTooSmallError,
    declared_topics,
    mismatches_of,
)

pytestmark = pytest.mark.unit


def test_every_topic_is_declared_with_its_partitions_and_a_one_partition_dlq() -> None:
    assert declared_topics([PAIRING_EVENTS, NOTIFICATIONS_EVENTS, PAIRING_EVENTS], "t.") == [
        DeclaredTopic("t.binome.notifications.events", 3),
        DeclaredTopic("t.binome.notifications.events.dlq", 1),
        DeclaredTopic("t.binome.pairing.events", 6),
        DeclaredTopic("t.binome.pairing.events.dlq", 1),
    ]


def test_a_service_declares_dead_letter_topics_only_for_what_it_reads() -> None:
    """Its principal writes dead letters for the topics it reads, and may not even see the
    dead-letter topics of the topics it publishes (those belong to their readers)."""
    assert declared_topics(
        [PAIRING_EVENTS, NOTIFICATIONS_EVENTS], "t.", dead_letters_of=[PAIRING_EVENTS]
    ) == [
        DeclaredTopic("t.binome.notifications.events", 3),
        DeclaredTopic("t.binome.pairing.events", 6),
        DeclaredTopic("t.binome.pairing.events.dlq", 1),
    ]


def test_only_existing_topics_with_fewer_partitions_than_declared_are_mismatches() -> None:
    declared = declared_topics([PAIRING_EVENTS])
    counts = {"binome.pairing.events": 3, "binome.pairing.events.dlq": 4}

    assert mismatches_of(declared, counts) == [TopicMismatch("binome.pairing.events", 3, 6)]
    assert mismatches_of(declared, {"binome.pairing.events": 12}) == []
    assert mismatches_of(declared, {}) == []


def test_the_refusal_names_each_topic_its_partitions_and_the_declared_count() -> None:
    error = TopicsTooSmallError([TopicMismatch("a", 3, 6), TopicMismatch("b.dlq", 0, 1)])

    assert str(error).startswith("topic a has 3 partition(s), 6 declared / le topic a a 3")
    assert "topic b.dlq has 0 partition(s), 1 declared" in str(error)


def _joined(membership: GroupMembership) -> bool:
    return membership.joined


def test_group_membership_follows_assignments_and_rebalances() -> None:
    membership = GroupMembership()
    assert not _joined(membership)

    membership.on_partitions_assigned({TopicPartition("t", 0), TopicPartition("t", 1)})
    assert _joined(membership)
    membership.on_partitions_revoked({TopicPartition("t", 0)})
    assert not _joined(membership), "a rebalance is under way"
    membership.on_partitions_assigned(set())
    assert _joined(membership), "a replica with no partition has joined all the same"
    membership.left()
    assert not _joined(membership)


async def test_the_lifespan_runs_start_up_and_shutdown_and_reports_them() -> None:
    calls: list[str] = []

    async def started() -> None:
        calls.append("startup")

    async def stopped() -> None:
        calls.append("shutdown")

    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = ServiceApp(routes=[], on_startup=started, on_shutdown=stopped)
    await app({"type": "lifespan"}, receive, send)

    assert calls == ["startup", "shutdown"]
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_a_failing_start_up_is_reported_to_the_server() -> None:
    async def broken() -> None:
        raise RuntimeError("no")

    async def nothing() -> None:
        return None

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ServiceApp(routes=[], on_startup=broken, on_shutdown=nothing)(
        {"type": "lifespan"}, receive, send
    )

    assert [message["type"] for message in sent] == ["lifespan.startup.failed"]


def test_relay_totals_are_read_at_scrape_time_and_absent_before_the_relay_starts() -> None:
    """The /metrics counters are the relay's own totals, whatever was scraped before."""
    registry = CollectorRegistry()
    relay: SimpleNamespace | None = None
    OperatorMetrics(service="pairing", registry=registry, relay=lambda: relay)
    assert b"binome_relay" not in exposition(registry)

    relay = SimpleNamespace(set_aside_total=0, published_by_topic={"t.events": 5}, errors_total={})
    first = exposition(registry).decode()
    assert 'binome_relay_set_aside_total{service="pairing"} 0.0' in first
    assert 'binome_relay_published_total{service="pairing",topic="t.events"} 5.0' in first
    assert "binome_relay_errors_total" not in first, "a family without series is left out"

    relay.set_aside_total = 2
    relay.published_by_topic["t.events"] = 9
    relay.errors_total["MessageSizeTooLargeError"] = 2
    second = exposition(registry).decode()
    assert 'binome_relay_set_aside_total{service="pairing"} 2.0' in second
    assert 'binome_relay_published_total{service="pairing",topic="t.events"} 9.0' in second
    assert (
        'binome_relay_errors_total{error="MessageSizeTooLargeError",service="pairing"} 2.0'
        in second
    )
