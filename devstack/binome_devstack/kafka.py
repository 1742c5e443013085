"""A real single-node Kafka 4.1 broker (KRaft, broker + controller) run with plain ``java``."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Final

from binome_devstack.errors import NotReadyError, PortInUseError, StackError
from binome_devstack.jars import LOG4J2_CONFIG, KafkaJarCache
from binome_devstack.messages import Reporter, log_report, text
from binome_devstack.processes import (
    PidState,
    PidStatus,
    accepts_connections,
    exclusive_lock,
    port_is_free,
    read_pid_status,
    remove_file,
    tail_lines,
    terminate,
    wait_until,
)
from binome_devstack.readiness import kafka_broker_count, run_sync
from binome_devstack.rendering import kafka_listener_port, render_kafka_properties
from binome_devstack.settings import (
    ENV_KAFKA_CONTROLLER_PORT,
    ENV_KAFKA_PORT,
    StackSettings,
)
from binome_devstack.tools import find_java

COMPONENT_NAME: Final = "Kafka"
HEAP: Final = "512m"
BROKER_MAIN_CLASS: Final = "kafka.Kafka"
STORAGE_TOOL_CLASS: Final = "kafka.tools.StorageTool"
DEFAULT_START_TIMEOUT: Final = 120.0
DEFAULT_STOP_TIMEOUT: Final = 30.0
PORT_RELEASE_TIMEOUT: Final = 10.0
PROBE_TIMEOUT: Final = 5.0
RETRY_PAUSE: Final = 0.25
LOG_TAIL_LINES: Final = 30
STORAGE_TOOL_TIMEOUT: Final = 120.0


class KafkaServer:
    """The stack's Kafka broker: its files under ``<stack dir>/kafka``, its process, its port.

    ``stop()`` then ``start()`` keeps the topics (same data dir, same port), which is what
    broker-restart tests need; ``start(fresh_data=True)`` formats empty storage first.
    """

    def __init__(
        self,
        *,
        settings: StackSettings,
        report: Reporter = log_report,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._report = report
        self._jars = KafkaJarCache(root=settings.kafka_jar_cache)
        self._process: subprocess.Popen[bytes] | None = None
        self._launched_at: float | None = None

    @property
    def directory(self) -> Path:
        """``<stack dir>/kafka``."""
        return self.settings.kafka_dir

    @property
    def data_dir(self) -> Path:
        """``log.dirs``: topic data and KRaft metadata."""
        return self.directory / "data"

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

    def pid_status(self) -> PidStatus:
        """What the pid file says, checked against the live processes."""
        return read_pid_status(self.pid_file, marker=str(self.properties_file))

    def is_running(self) -> bool:
        """Whether the broker process of this stack dir is alive."""
        return self.pid_status().state is PidState.RUNNING

    def is_ready(self, *, timeout: float = PROBE_TIMEOUT) -> bool:
        """Whether the broker answers a metadata request listing at least one broker."""
        if not accepts_connections(self.port):
            return False
        try:
            brokers = run_sync(
                lambda: kafka_broker_count(self.kafka_bootstrap, request_timeout=timeout)
            )
        except Exception:  # whatever the client raises, the broker is not serving yet
            return False
        return brokers > 0

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
        status = self.pid_status()
        if status.state is PidState.RUNNING:
            self._check_running_port()
            self._report(text("reused", component=COMPONENT_NAME, where=self.kafka_bootstrap))
            return False
        if status.state is PidState.STALE:
            remove_file(self.pid_file)
            self._report(text("stale_pid", component=COMPONENT_NAME, pid=status.pid))
            # A broker killed a moment ago may still hold its ports while the kernel closes
            # its connections: give them the time a clean stop gets before calling it a clash.
            wait_until(self._ports_free, timeout=PORT_RELEASE_TIMEOUT)
        self._check_ports_free()
        java = find_java()
        libs = self._jars.ensure(report=self._report)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(
            render_kafka_properties(
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir,
            ),
            encoding="utf-8",
        )
        self._report(text("starting", component=COMPONENT_NAME))
        self._launched_at = time.monotonic()
        if fresh_data or not (self.data_dir / "meta.properties").is_file():
            self._format_storage(java=java, libs=libs)
        self._launch(java=java, libs=libs)
        return True

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until a metadata round trip succeeds; raise :class:`NotReadyError` if not."""
        limit = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        reason = text("no_answer", port=self.port)
        while time.monotonic() < deadline:
            exited = self._exit_code()
            if exited is not None:
                reason = text("process_exited", code=exited)
                break
            remaining = max(0.5, min(PROBE_TIMEOUT, deadline - time.monotonic()))
            if self.is_ready(timeout=remaining):
                if self._launched_at is not None:
                    elapsed = time.monotonic() - self._launched_at
                    self._launched_at = None
                    self._report(
                        text(
                            "ready",
                            component=COMPONENT_NAME,
                            seconds=elapsed,
                            where=self.kafka_bootstrap,
                        )
                    )
                return
            time.sleep(RETRY_PAUSE)
        raise NotReadyError(
            text(
                "not_ready",
                component=COMPONENT_NAME,
                timeout=limit,
                reason=reason,
                log=self.server_log,
                tail=self.log_tail(),
            )
        )

    def stop(self, *, timeout: float | None = None) -> bool:
        """SIGTERM the broker, SIGKILL it after ``timeout`` s; True if it was running."""
        with self._lock():
            return self._stop_locked(timeout=self.stop_timeout if timeout is None else timeout)

    def _stop_locked(self, *, timeout: float) -> bool:
        limit = timeout
        status = self.pid_status()
        if status.state is not PidState.RUNNING or status.pid is None:
            remove_file(self.pid_file)
            self._process = None
            return False
        self._report(text("stopping", component=COMPONENT_NAME))
        started = time.monotonic()
        graceful = terminate(status.pid, timeout=limit)
        if self._process is not None:
            self._process.wait()
            self._process = None
        remove_file(self.pid_file)
        wait_until(self._ports_free, timeout=PORT_RELEASE_TIMEOUT)
        if graceful:
            self._report(
                text("stopped", component=COMPONENT_NAME, seconds=time.monotonic() - started)
            )
        else:
            self._report(text("killed", component=COMPONENT_NAME, timeout=limit))
        return True

    def restart(self) -> None:
        """Stop and start again on the same port, keeping the data."""
        with self._lock():
            self._stop_locked(timeout=self.stop_timeout)
            self._start_locked(fresh_data=False)
        self.wait_ready()

    async def astart(self, *, fresh_data: bool = False) -> bool:
        """:meth:`start` without blocking the running event loop."""
        return await asyncio.to_thread(self.start, fresh_data=fresh_data)

    async def astop(self, *, grace_seconds: float | None = None) -> bool:
        """:meth:`stop` without blocking the running event loop."""
        return await asyncio.to_thread(self.stop, timeout=grace_seconds)

    async def arestart(self) -> None:
        """:meth:`restart` without blocking the running event loop."""
        await asyncio.to_thread(self.restart)

    async def await_ready(self, limit_seconds: float | None = None) -> None:
        """:meth:`wait_ready` without blocking the running event loop."""
        await asyncio.to_thread(self.wait_ready, limit_seconds)

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        # Per server, apart from the stack lock that ensure_stack holds around both.
        return exclusive_lock(self.directory / ".lock")

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the broker log, then of the JVM console output."""
        tail = tail_lines(self.server_log, lines) + tail_lines(self.console_log, lines // 3)
        return "\n".join(tail) or text("empty_log")

    def _check_running_port(self) -> None:
        try:
            rendered = self.properties_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        running = kafka_listener_port(rendered)
        if running is not None and running != self.port:
            raise StackError(
                text("port_mismatch", component=COMPONENT_NAME, running=running, wanted=self.port)
            )

    def _check_ports_free(self) -> None:
        for port, variable, what in (
            (self.settings.kafka_port, ENV_KAFKA_PORT, "Kafka"),
            (self.settings.kafka_controller_port, ENV_KAFKA_CONTROLLER_PORT, "Kafka controller"),
        ):
            if not port_is_free(port):
                raise PortInUseError(
                    text("port_in_use", port=port, what=what, variable=variable),
                    port=port,
                    variable=variable,
                )

    def _ports_free(self) -> bool:
        return port_is_free(self.settings.kafka_port) and port_is_free(
            self.settings.kafka_controller_port
        )

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

    def _exit_code(self) -> int | str | None:
        if self._process is not None:
            return self._process.poll()
        if self.pid_status().state is not PidState.RUNNING:
            return "?"
        return None
