"""The whole local stack: bring up what is missing, remember who started what, stop it."""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from binome_devstack.kafka import KafkaServer
from binome_devstack.kafka_acls import apply_acls, platform_principals, platform_users
from binome_devstack.kafka_layout import record_layout
from binome_devstack.kafka_tls import KafkaSecrets
from binome_devstack.messages import Reporter, log_report, text
from binome_devstack.postgres import PostgresServer
from binome_devstack.processes import PidState, accepts_connections, exclusive_lock
from binome_devstack.readiness import run_sync
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
    kafka_nodes: tuple[KafkaServer, ...] = ()
    """Every node of the Kafka cluster (``kafka`` is the first); empty without Kafka."""

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:<port>[,…]`` of every broker."""
        return self.settings.kafka_bootstrap

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the ``binome`` database."""
        return self.settings.admin_dsn

    def stop_started(self) -> None:
        """Stop only what this ``ensure_stack`` call started (leave servers it reused)."""
        if Component.KAFKA in self.started:
            stop_together(self.kafka_nodes or ((self.kafka,) if self.kafka else ()))
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
    nodes = kafka_servers(chosen, report) if kafka else []
    postgres_server = PostgresServer(settings=chosen, report=report) if postgres else None
    started: set[Component] = set()

    def stack() -> Stack:
        return Stack(
            settings=chosen,
            kafka=nodes[0] if nodes else None,
            postgres=postgres_server,
            started=frozenset(started),
            kafka_nodes=tuple(nodes),
        )

    with stack_lock(chosen, report=report):
        try:
            if nodes:
                prepare_kafka(chosen)
            # The JVMs boot while PostgreSQL starts: all are mostly waiting.
            for node in nodes:
                if node.start(wait=False):
                    started.add(Component.KAFKA)
            if postgres_server is not None and postgres_server.start():
                started.add(Component.POSTGRES)
            for node in nodes:
                node.wait_ready()
            if nodes and chosen.kafka_secure:
                applied = run_sync(lambda: apply_acls(chosen, platform_principals()))
                report(
                    text("acls_applied", count=applied, principals=len(platform_users()), prefix="")
                )
        except BaseException:
            stack().stop_started()
            raise
    return stack()


def stop_together(servers: Sequence[LocalServer]) -> list[bool]:
    """Stop ``servers`` at the same time; whether each was running.

    The nodes of a cluster go together: stopped one by one, the last ones lose their quorum
    and wait out their controlled shutdown until SIGKILL.
    """
    if len(servers) <= 1:
        return [server.stop() for server in servers]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(servers)) as pool:
        return list(pool.map(lambda server: server.stop(), servers))


def kafka_servers(settings: StackSettings, report: Reporter = log_report) -> list[KafkaServer]:
    """One :class:`KafkaServer` per node of the stack's cluster."""
    return [
        KafkaServer(settings=settings, report=report, node=node) for node in settings.kafka_nodes
    ]


def prepare_kafka(settings: StackSettings) -> None:
    """Record the cluster's shape; on a secured stack, make its certificates and users."""
    record_layout(settings)
    if settings.kafka_secure:
        KafkaSecrets(directory=settings.kafka_secrets_dir).ensure(platform_users())


def _servers(component: Component, settings: StackSettings, report: Reporter) -> list[LocalServer]:
    if component is Component.KAFKA:
        # Node 1 last: wiping it deletes what the whole cluster was made with.
        return list(reversed(kafka_servers(settings, report)))
    return [PostgresServer(settings=settings, report=report)]


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
            for server in _servers(component, chosen, report):
                server.stop()
                if server.wipe():
                    if component not in wiped:
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
            if any(stop_together(_servers(component, chosen, report))):
                stopped.append(component)
            else:
                report(text("not_running", component=_display_name(component)))
    return stopped


def stack_status(settings: StackSettings | None = None) -> list[ComponentStatus]:
    """Each server's pid-file verdict and whether its port answers."""
    chosen = settings or StackSettings.from_env()
    postgres_status = PostgresServer(settings=chosen).pid_status()
    kafka_statuses = [
        ComponentStatus(
            component=Component.KAFKA,
            state=node.pid_status().state,
            pid=node.pid_status().pid,
            answering=accepts_connections(node.port),
            where=node.where,
        )
        for node in kafka_servers(chosen)
    ]
    return [
        *kafka_statuses,
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
