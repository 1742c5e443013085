"""What makes one service different from another: its :class:`ServiceDefinition`.

Kept apart from ``service`` (which builds the app) and ``lifecycle`` (which runs it), both of
which read a definition: neither is imported here, so the runtime's modules form no cycle.
An HTTP handler is given what it may use of the running service through
:class:`RunningService`, which ``lifecycle.ServiceRuntime`` provides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import asyncpg
from faststream.asgi import AsgiResponse

from binome_shared.contracts.base import Message
from binome_shared.contracts.registry import Registry
from binome_shared.contracts.topics import TopicSpec
from binome_shared.db.migrations import Migration
from binome_shared.messaging.routes import Clock, Route
from binome_shared.messaging.scheduler import JobHandler
from binome_shared.runtime.action_kinds import ActionKind
from binome_shared.runtime.http_auth import Caller


class RunningService(Protocol):
    """What an HTTP handler may use of the running service: its pool and its clock."""

    @property
    def pool(self) -> asyncpg.Pool: ...

    @property
    def clock(self) -> Clock: ...


HttpHandler = Callable[[RunningService, Mapping[str, Any]], Awaitable[AsgiResponse]]
"""An open endpoint (no programme data)."""

ProgrammeDataHandler = Callable[
    [RunningService, Caller, Mapping[str, Any]], Awaitable[AsgiResponse]
]
"""An endpoint that returns a tenant's data: the runtime calls it only with a verified bearer
token, and gives it the token's :class:`Caller`, whose tenant it must filter by."""


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """Work a service does every ``every`` (stall checks, progress reports), once per period
    across all replicas."""

    job_type: str
    every: timedelta


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """Everything that makes one service different from another."""

    name: str
    subscriptions: Sequence[TopicSpec]
    routes: Mapping[type[Message], Route]
    publishes: Sequence[type[Message]]
    registry: Registry
    migrations: Sequence[Migration]
    description: str = ""
    http_routes: Mapping[str, HttpHandler] = field(default_factory=dict)
    programme_data_routes: Mapping[str, ProgrammeDataHandler] = field(default_factory=dict)
    """Endpoints that answer only a valid bearer token, for its tenant (docs/http-api.md)."""
    actions: Sequence[ActionKind] = ()
    """What the service's action links can do (``/actions``, docs/actions.md): each kind
    turns a verified link into a command this service handles."""
    jobs: Mapping[str, JobHandler] = field(default_factory=dict)
    periodic_jobs: Sequence[PeriodicJob] = ()
    shutdown_hooks: Sequence[Callable[[], Awaitable[None]]] = ()
    """Closed last, after the consumer, the relay and the jobs stopped (own pools, clients)."""

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of everything this service publishes."""
        return f"/binome/{self.name}"

    def consumer_group(self, prefix: str = "") -> str:
        return f"{prefix}binome-{self.name}"
