"""A real single-node Kafka 4.1 broker (KRaft, broker + controller) run with plain ``java``."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from binome_devstack.errors import StackError
from binome_devstack.jars import LOG4J2_CONFIG, KafkaJarCache
from binome_devstack.kafka_acls import client_security
from binome_devstack.kafka_layout import layout_file
from binome_devstack.kafka_tls import SUPER_USER, KafkaSecrets
from binome_devstack.messages import text
from binome_devstack.processes import tail_lines
from binome_devstack.readiness import kafka_broker_count, run_sync
from binome_devstack.rendering import (
    KAFKA_NODE_ID,
    KafkaNodeShape,
    KafkaSecurityFiles,
    kafka_listener_port,
    render_kafka_node,
)
from binome_devstack.server import LOG_TAIL_LINES, ListenPort, LocalServer
from binome_devstack.settings import ENV_KAFKA_CONTROLLER_PORT, ENV_KAFKA_PORT, LOOPBACK
from binome_devstack.tools import find_java

HEAP: Final = "512m"
CLUSTER_NODE_HEAP: Final = "384m"
"""Three JVMs on a 2-core, small-memory CI runner: each gets less than the lone broker."""
BROKER_MAIN_CLASS: Final = "kafka.Kafka"
STORAGE_TOOL_CLASS: Final = "kafka.tools.StorageTool"
STORAGE_TOOL_TIMEOUT: Final = 120.0


class KafkaServer(LocalServer):
    """The stack's Kafka broker: its files under ``<stack dir>/kafka``, its process, its port.

    ``stop()`` then ``start()`` keeps the topics and their messages (same data dir, same
    port), like PostgreSQL keeps its databases: the services' outboxes and inboxes stay in
    step with what the broker holds. Storage is formatted only when it never was, or when
    ``start(fresh_data=True)`` asks for it; ``binome-stack reset`` wipes both servers.
    """

    component_name = "Kafka"
    default_start_timeout = 120.0
    retry_pause = 0.25
    _launched_at: float | None = None

    def __init__(self, *, node: int = KAFKA_NODE_ID, **options: Any) -> None:
        """Node ``node`` (1 to the stack's ``kafka_brokers``); ``options`` go to LocalServer."""
        super().__init__(**options)
        self.node = node

    @property
    def directory(self) -> Path:
        """``<stack dir>/kafka`` (node 1), ``<stack dir>/kafka-<n>`` for the other nodes."""
        return self.settings.kafka_node_dir(self.node)

    @property
    def secrets(self) -> KafkaSecrets:
        """The secured stack's CA, key store and passwords (shared by every node)."""
        return KafkaSecrets(directory=self.settings.kafka_secrets_dir)

    @property
    def logs_dir(self) -> Path:
        """``kafka.logs.dir``: ``server.log`` and the JVM's own output."""
        return self.directory / "logs"

    @property
    def server_log(self) -> Path:
        """The broker's log4j2 log."""
        return self.logs_dir / "server.log"

    @property
    def console_log(self) -> Path:
        """What the JVM wrote on stdout/stderr (crashes before logging starts land here)."""
        return self.logs_dir / "console.log"

    @property
    def properties_file(self) -> Path:
        """The rendered ``server.properties``."""
        return self.directory / "server.properties"

    @property
    def pid_file(self) -> Path:
        """Holds the broker JVM's pid while it runs."""
        return self.directory / "kafka.pid"

    @property
    def port(self) -> int:
        """The client listener port (PLAINTEXT, or SASL_SSL on a secured stack)."""
        return self.settings.kafka_node_port(self.node)

    @property
    def controller_port(self) -> int:
        """The (plaintext, loopback) controller listener port."""
        return self.settings.kafka_node_controller_port(self.node)

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:<port>`` of this node, for Kafka clients."""
        return f"{LOOPBACK}:{self.port}"

    def start(self, *, fresh_data: bool = False, wait: bool = True) -> bool:
        """Start the broker unless it runs already; True if this call launched it.

        With ``wait=False`` the JVM is launched and the call returns at once; call
        :meth:`wait_ready` later (the stack boots PostgreSQL meanwhile).
        """
        with self._lock():
            launched = self._start_locked(fresh_data=fresh_data)
        if wait:
            self.wait_ready()
        return launched

    def _start_locked(self, *, fresh_data: bool) -> bool:
        if self._running_already():
            self._report(text("reused", component=self.component_name, where=self.where))
            return False
        java = find_java()
        libs = KafkaJarCache(root=self.settings.kafka_jar_cache).ensure(report=self._report)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(render_kafka_node(self._shape()), encoding="utf-8")
        self._report(text("starting", component=self.component_name))
        self._launched_at = time.monotonic()
        if fresh_data or not (self.data_dir / "meta.properties").is_file():
            self._format_storage(java=java, libs=libs)
        self._launch(java=java, libs=libs)
        return True

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until a metadata round trip succeeds; raise :class:`NotReadyError` if not."""
        super().wait_ready(timeout)
        if self._launched_at is not None:
            elapsed = time.monotonic() - self._launched_at
            self._launched_at = None
            self._report(
                text("ready", component=self.component_name, seconds=elapsed, where=self.where)
            )

    def wipe(self) -> bool:
        """Delete the node's data; node 1 also deletes what the whole cluster was made with
        (users' passwords, CA, cluster id, layout): they are only valid with that data."""
        existed = super().wipe()
        if self.node == KAFKA_NODE_ID:
            self.secrets.wipe()
            for made_with in (self.settings.kafka_dir / "cluster.id", layout_file(self.settings)):
                made_with.unlink(missing_ok=True)
        return existed

    def restart(self) -> None:
        """Stop and start again on the same port, keeping the data."""
        with self._lock():
            self._stop_locked(timeout=self.stop_timeout)
            self._start_locked(fresh_data=False)
        self.wait_ready()

    async def astart(self, *, fresh_data: bool = False) -> bool:
        """:meth:`start` without blocking the running event loop."""
        return await asyncio.to_thread(self.start, fresh_data=fresh_data)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the broker log, then of the JVM console output."""
        tail = tail_lines(self.server_log, lines) + tail_lines(self.console_log, lines // 3)
        return "\n".join(tail) or text("empty_log")

    @property
    def _readiness_log(self) -> Path:
        return self.server_log

    @property
    def _pid_marker(self) -> str:
        return str(self.properties_file)

    def _shape(self) -> KafkaNodeShape:
        security = None
        if self.settings.kafka_secure:
            security = KafkaSecurityFiles(
                keystore=self.secrets.keystore,
                truststore=self.secrets.ca_file,
                super_user=SUPER_USER,
                super_password=self.secrets.password(SUPER_USER),
            )
        voters: tuple[tuple[int, int], ...] = ()
        if self.settings.kafka_brokers > 1:
            voters = tuple(
                (node, self.settings.kafka_node_controller_port(node))
                for node in self.settings.kafka_nodes
            )
        return KafkaNodeShape(
            node_id=self.node,
            port=self.port,
            controller_port=self.controller_port,
            data_dir=self.data_dir,
            voters=voters,
            security=security,
        )

    def _listen_ports(self) -> Sequence[ListenPort]:
        return (
            ListenPort(port=self.port, variable=ENV_KAFKA_PORT, what="Kafka"),
            ListenPort(
                port=self.controller_port,
                variable=ENV_KAFKA_CONTROLLER_PORT,
                what="Kafka controller",
            ),
        )

    def _configured_port(self) -> int | None:
        try:
            rendered = self.properties_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return kafka_listener_port(rendered)

    def _answers(self, *, timeout: float) -> bool:
        brokers = run_sync(
            lambda: kafka_broker_count(
                self.kafka_bootstrap, request_timeout=timeout, **client_security(self.settings)
            )
        )
        return brokers > 0

    def _java_command(self, *, java: Path, libs: Path, main_class: str) -> list[str]:
        return [
            str(java),
            f"-Xmx{HEAP if self.settings.kafka_brokers == 1 else CLUSTER_NODE_HEAP}",
            # A broker that ran out of heap is useless; dying lets readiness say so.
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            f"{libs}/*",
            main_class,
        ]

    def _run_storage_tool(self, *, java: Path, libs: Path, arguments: list[str]) -> str:
        command = [
            *self._java_command(java=java, libs=libs, main_class=STORAGE_TOOL_CLASS),
            *arguments,
        ]
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=STORAGE_TOOL_TIMEOUT,
            cwd=self.directory,
        )
        if result.returncode != 0:
            raise StackError(
                text(
                    "command_failed",
                    command=f"{STORAGE_TOOL_CLASS} {' '.join(arguments)}",
                    code=result.returncode,
                    output=(result.stdout + result.stderr).strip(),
                )
            )
        return result.stdout.strip()

    def _format_storage(self, *, java: Path, libs: Path) -> None:
        self._report(text("formatting"))
        shutil.rmtree(self.data_dir, ignore_errors=True)
        # Alone, the node is its own voter (--standalone); in a cluster the voters are
        # static in server.properties and every node shares the cluster id.
        quorum = ["--standalone"] if self.settings.kafka_brokers == 1 else []
        users = self.secrets.scram_arguments() if self.settings.kafka_secure else []
        self._run_storage_tool(
            java=java,
            libs=libs,
            arguments=[
                "format",
                *quorum,
                "-t",
                self._cluster_id(java=java, libs=libs),
                "-c",
                str(self.properties_file),
                *users,
            ],
        )

    def _cluster_id(self, *, java: Path, libs: Path) -> str:
        shared = self.settings.kafka_dir / "cluster.id"
        if self.settings.kafka_brokers > 1 and shared.is_file():
            return shared.read_text(encoding="utf-8").strip()
        output = self._run_storage_tool(java=java, libs=libs, arguments=["random-uuid"])
        cluster_id = output.splitlines()[-1].strip()
        if self.settings.kafka_brokers > 1:
            shared.parent.mkdir(parents=True, exist_ok=True)
            shared.write_text(cluster_id + "\n", encoding="utf-8")
        return cluster_id

    def _launch(self, *, java: Path, libs: Path) -> None:
        command = [
            *self._java_command(java=java, libs=libs, main_class=BROKER_MAIN_CLASS),
            str(self.properties_file),
        ]
        with self.console_log.open("ab") as console:
            # A session of its own: the broker outlives `binome-stack up` and ignores its ^C.
            self._process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._process.pid}\n", encoding="utf-8")
