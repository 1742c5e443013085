"""A real single-node Kafka 4.1 broker (KRaft, broker + controller) run with plain ``java``."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.jars import LOG4J2_CONFIG, KafkaJarCache
from binome_devstack.messages import text
from binome_devstack.processes import tail_lines
from binome_devstack.readiness import kafka_broker_count, run_sync
from binome_devstack.rendering import kafka_listener_port, render_kafka_properties
from binome_devstack.server import LOG_TAIL_LINES, ListenPort, LocalServer
from binome_devstack.settings import ENV_KAFKA_CONTROLLER_PORT, ENV_KAFKA_PORT
from binome_devstack.tools import find_java

HEAP: Final = "512m"
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

    @property
    def directory(self) -> Path:
        """``<stack dir>/kafka``."""
        return self.settings.kafka_dir

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
        """The PLAINTEXT listener port."""
        return self.settings.kafka_port

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:<port>`` for Kafka clients."""
        return self.settings.kafka_bootstrap

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
        self.properties_file.write_text(
            render_kafka_properties(
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir,
            ),
            encoding="utf-8",
        )
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

    def _listen_ports(self) -> Sequence[ListenPort]:
        return (
            ListenPort(port=self.settings.kafka_port, variable=ENV_KAFKA_PORT, what="Kafka"),
            ListenPort(
                port=self.settings.kafka_controller_port,
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
            lambda: kafka_broker_count(self.kafka_bootstrap, request_timeout=timeout)
        )
        return brokers > 0

    def _java_command(self, *, java: Path, libs: Path, main_class: str) -> list[str]:
        return [
            str(java),
            f"-Xmx{HEAP}",
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
        cluster_id = self._run_storage_tool(java=java, libs=libs, arguments=["random-uuid"])
        self._run_storage_tool(
            java=java,
            libs=libs,
            arguments=[
                "format",
                "--standalone",
                "-t",
                cluster_id.splitlines()[-1].strip(),
                "-c",
                str(self.properties_file),
            ],
        )

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
