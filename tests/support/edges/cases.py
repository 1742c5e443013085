"""One hostile (or valid) record of an edge burst, what it should become, and who reads it.

A case is the exact bytes a producer sends (topic, key, value, headers) plus a verdict:
accepted (exactly one effect in every service that handles it), refused (exactly one
dead letter per such service, with a code and a reason), or either (the services must
still agree, and none may crash on it). Every record carries a ``binome_test_case`` header
naming the case: the dead-letter copy keeps the original headers, so a copy on
``<topic>.dlq`` says which case it is, even when the record's own id is garbage.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.topics import TopicSpec
from binome_shared.messaging.cloudevents import encode

CASE_HEADER = "binome_test_case"
SERVICES = ("pairing", "sessions", "notifications")

Headers = tuple[tuple[str, bytes], ...]


class Verdict(StrEnum):
    """What the platform must make of a case."""

    ACCEPT = "accepted"
    REFUSE = "refused"
    EITHER = "accepted or refused"
    """Not judged here; the readers must agree and none may crash (``handler_failed``)."""


@dataclass(frozen=True)
class Probe:
    """A row count in a service's schema that one accepted command raises to exactly 1."""

    service: str
    query: str
    args: tuple[Any, ...]
    what: str


@dataclass(frozen=True)
class Case:
    """One record of a burst and the verdict expected of every service that reads it."""

    label: str
    topic: TopicSpec
    key: bytes | None
    value: bytes | None
    headers: Headers
    verdict: Verdict
    message_type: str
    """A readable name for failure messages (the envelope's type before any mutation)."""
    event_id: uuid.UUID | None = None
    """The record's ``ce_id`` when it is a real id: how an accepted case is looked up."""
    probes: tuple[Probe, ...] = ()
    may_be_set_aside: bool = False
    """Its dead-letter copy cannot fit the broker: the relay may set that copy aside."""

    @property
    def wire_headers(self) -> list[tuple[str, bytes]]:
        return [*self.headers, (CASE_HEADER, self.label.encode())]

    @property
    def readers(self) -> tuple[str, ...]:
        """The services that must judge this record: those routing its type, or every
        subscriber of its topic when the type is unreadable or unknown (each of them
        dead-letters what it cannot read)."""
        subscribers = [name for name in SERVICES if self.topic in _subscriptions()[name]]
        message_type = self._first_type()
        if message_type is None or not CATALOGUE.knows(message_type):
            return tuple(subscribers)
        return tuple(name for name in subscribers if message_type in _routed_types()[name])

    def _first_type(self) -> str | None:
        for name, value in self.headers:
            if name == "ce_type":
                return value.decode("utf-8", errors="replace")
        return None

    def describe(self) -> str:
        return f"{self.message_type} {self.label!r}"


@functools.cache
def _definitions() -> Mapping[str, Any]:
    from binome_notifications.bootstrap import definition as notifications
    from binome_pairing.bootstrap import definition as pairing
    from binome_sessions.bootstrap import definition as sessions

    return {"pairing": pairing(), "sessions": sessions(), "notifications": notifications()}


@functools.cache
def _subscriptions() -> Mapping[str, frozenset[TopicSpec]]:
    return {name: frozenset(d.subscriptions) for name, d in _definitions().items()}


@functools.cache
def _routed_types() -> Mapping[str, frozenset[str]]:
    return {
        name: frozenset(message.message_type for message in d.routes)
        for name, d in _definitions().items()
    }


def case_of(
    label: str,
    envelope: Envelope[Any],
    *,
    verdict: Verdict,
    prefix: str,
    probes: Sequence[Probe] = (),
) -> Case:
    """A case sending ``envelope`` exactly as the platform's own encoder would."""
    record = encode(envelope, topic=envelope.data.topic.full_name(prefix))
    return Case(
        label=label,
        topic=envelope.data.topic,
        key=record.key,
        value=record.value,
        headers=tuple(record.headers),
        verdict=verdict,
        message_type=type(envelope.data).__name__,
        event_id=envelope.id,
        probes=tuple(probes),
    )


def with_header(case: Case, name: str, value: bytes | None, *, verdict: Verdict) -> Case:
    """The case with header ``name`` replaced by ``value`` (removed when ``None``, added
    when the record had no such header: an optional attribute such as ``ce_subject``)."""
    headers: list[tuple[str, bytes]] = []
    for existing, old in case.headers:
        if existing != name:
            headers.append((existing, old))
        elif value is not None:
            headers.append((name, value))
    if value is not None and all(existing != name for existing, _ in case.headers):
        headers.append((name, value))
    event_id = case.event_id if name != "ce_id" else None  # a changed id is not looked up
    return replace(case, headers=tuple(headers), verdict=verdict, probes=(), event_id=event_id)


def with_body(case: Case, value: bytes | None, *, verdict: Verdict) -> Case:
    return replace(case, value=value, verdict=verdict, probes=())


def with_json(case: Case, change: Callable[[dict[str, Any]], object], *, verdict: Verdict) -> Case:
    """The case with its JSON body changed in place by ``change`` and written again
    (ASCII-escaped, so that lone surrogates travel as ``\\ud800`` escapes)."""
    assert case.value is not None
    body = json.loads(case.value)
    change(body)
    return with_body(case, json.dumps(body).encode(), verdict=verdict)


def newer_minor(case: Case, minor: int = 9) -> Case:
    """The valid command as a producer of version 1.``minor`` sends it: one optional
    top-level field more. Readers of an older minor ignore that field: the command stands,
    with the same effect (see docs/compatibility.md)."""

    def add_field(body: dict[str, Any]) -> None:
        body[f"added_in_1_{minor}"] = True

    widened = with_json(case, add_field, verdict=Verdict.ACCEPT)
    versioned = with_header(
        widened, "ce_schemaversion", f"1.{minor}".encode(), verdict=Verdict.ACCEPT
    )
    return replace(versioned, probes=case.probes, event_id=case.event_id)


@dataclass
class Labels:
    """Unique, readable case labels within one test (``e-3``, ``nul-ce_type-4``…)."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    count: int = 0

    def next(self, stem: str) -> str:
        self.count += 1
        return f"{stem}-{self.run}-{self.count}"
