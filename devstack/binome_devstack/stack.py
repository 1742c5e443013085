"""The whole local stack: bring up what is missing, remember who started what, stop it."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from binome_devstack.kafka import KafkaServer
from binome_devstack.messages import Reporter, log_report, text
from binome_devstack.postgres import PostgresServer
from binome_devstack.processes import PidState, accepts_connections, exclusive_lock
from binome_devstack.server import LocalServer
from binome_devstack.settings import StackSettings


class Component(enum.StrEnum):
    """A server of the local stack."""

    KAFKA = "kafka"
    POSTGRES = "postgres"


ALL_COMPONENTS: Final = (Component.KAFKA, Component.POSTGRES)


@dataclass(frozen=True, kw_only=True)
class Stack:
    """The running servers ``ensure_stack`` returned and which of them it started itself."""

    settings: StackSettings
    kafka: KafkaServer | None
    postgres: PostgresServer | None
    started: frozenset[Component] = field(default_factory=frozenset)

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:<port>`` of the broker."""
        return self.settings.kafka_bootstrap

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the ``binome`` database."""
        return self.settings.admin_dsn

    def stop_started(self) -> None:
        """Stop only what this ``ensure_stack`` call started (leave servers it reused)."""
        if Component.KAFKA in self.started and self.kafka is not None:
            self.kafka.stop()
        if Component.POSTGRES in self.started and self.postgres is not None:
            self.postgres.stop()


@dataclass(frozen=True, kw_only=True)
class ComponentStatus:
    """One line of ``binome-stack status``."""

    component: Component
    state: PidState
    pid: int | None
    answering: bool
    where: str

    @property
    def healthy(self) -> bool:
        """Running and accepting connections."""
        return self.state is PidState.RUNNING and self.answering

    def describe(self) -> str:
        """A sentence for a person."""
        name = _display_name(self.component)
        if self.healthy:
            return text("status_running", component=name, pid=self.pid, where=self.where)
        if self.state is PidState.RUNNING:
            return text("status_not_answering", component=name, pid=self.pid, where=self.where)
        if self.state is PidState.STALE:
            return text("status_stale", component=name, pid=self.pid)
        return text("status_stopped", component=name)


def _display_name(component: Component) -> str:
    return "Kafka" if component is Component.KAFKA else "PostgreSQL"


@contextlib.contextmanager
def stack_lock(settings: StackSettings, *, report: Reporter) -> Iterator[None]:
    """Serialise ``up``/``down`` on one stack dir (parallel CI jobs, two terminals)."""
    with exclusive_lock(
        settings.lock_file, on_wait=lambda: report(text("stack_locked", path=settings.stack_dir))
    ):
        yield


def ensure_stack(
    *,
    kafka: bool = True,
    postgres: bool = True,
    settings: StackSettings | None = None,
    report: Reporter = log_report,
) -> Stack:
    """Make sure the requested servers run and answer; start those that do not.

    Both servers keep their data from one start to the next (:func:`reset_stack` wipes
    them together). If a server fails to come up, the ones this call started are stopped
    again.
    """
    chosen = settings or StackSettings.from_env()
    kafka_server = KafkaServer(settings=chosen, report=report) if kafka else None
    postgres_server = PostgresServer(settings=chosen, report=report) if postgres else None
    started: set[Component] = set()
    with stack_lock(chosen, report=report):
        try:
            # The JVM boots while PostgreSQL starts: both are mostly waiting.
            if kafka_server is not None and kafka_server.start(wait=False):
                started.add(Component.KAFKA)
            if postgres_server is not None and postgres_server.start():
                started.add(Component.POSTGRES)
            if kafka_server is not None:
                kafka_server.wait_ready()
        except BaseException:
            Stack(
                settings=chosen,
                kafka=kafka_server,
                postgres=postgres_server,
                started=frozenset(started),
            ).stop_started()
            raise
    return Stack(
        settings=chosen,
        kafka=kafka_server,
        postgres=postgres_server,
        started=frozenset(started),
    )


def _server(component: Component, settings: StackSettings, report: Reporter) -> LocalServer:
    if component is Component.KAFKA:
        return KafkaServer(settings=settings, report=report)
    return PostgresServer(settings=settings, report=report)


def reset_stack(
    *, settings: StackSettings | None = None, report: Reporter = log_report
) -> list[Component]:
    """Stop both servers and delete both their data, so that they start empty together
    (a broker that forgot what the databases say was sent, or the reverse, is never left
    behind); returns the components that had data."""
    chosen = settings or StackSettings.from_env()
    wiped: list[Component] = []
    with stack_lock(chosen, report=report):
        for component in ALL_COMPONENTS:
            server = _server(component, chosen, report)
            server.stop()
            if server.wipe():
                wiped.append(component)
                report(text("wiped", component=_display_name(component), path=server.data_dir))
    report(text("stack_reset"))
    return wiped


def stop_stack(
    *,
    components: Iterable[Component] = ALL_COMPONENTS,
    settings: StackSettings | None = None,
    report: Reporter = log_report,
) -> list[Component]:
    """Stop the given servers of the stack dir; return those that were running."""
    chosen = settings or StackSettings.from_env()
    wanted = set(components)
    stopped: list[Component] = []
    with stack_lock(chosen, report=report):
        for component in ALL_COMPONENTS:
            if component not in wanted:
                continue
            if _server(component, chosen, report).stop():
                stopped.append(component)
            else:
                report(text("not_running", component=_display_name(component)))
    return stopped


def stack_status(settings: StackSettings | None = None) -> list[ComponentStatus]:
    """Each server's pid-file verdict and whether its port answers."""
    chosen = settings or StackSettings.from_env()
    kafka_status = KafkaServer(settings=chosen).pid_status()
    postgres_status = PostgresServer(settings=chosen).pid_status()
    return [
        ComponentStatus(
            component=Component.KAFKA,
            state=kafka_status.state,
            pid=kafka_status.pid,
            answering=accepts_connections(chosen.kafka_port),
            where=chosen.kafka_bootstrap,
        ),
        ComponentStatus(
            component=Component.POSTGRES,
            state=postgres_status.state,
            pid=postgres_status.pid,
            answering=accepts_connections(chosen.pg_port),
            where=f"127.0.0.1:{chosen.pg_port}",
        ),
    ]


def parse_owner_file(content: str) -> set[Component]:
    """The components listed one per line in an owner file (unknown lines ignored)."""
    names = {line.strip() for line in content.splitlines()}
    return {component for component in Component if component.value in names}


def read_owner_file(path: Path) -> set[Component] | None:
    """The components an earlier ``up --owner-file`` started, or None if there is no file."""
    try:
        return parse_owner_file(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def append_owner_file(path: Path, components: Iterable[Component]) -> None:
    """Record ``components`` as started by this caller (one per line, appended)."""
    names = sorted(component.value for component in components)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as owner_file:
        owner_file.writelines(f"{name}\n" for name in names)
