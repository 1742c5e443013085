"""The life cycle both local servers share: pid file, lock, stale process, readiness, stop."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final

from binome_devstack.errors import NotReadyError, PortInUseError, StackError
from binome_devstack.messages import Reporter, log_report, text
from binome_devstack.processes import (
    PidState,
    PidStatus,
    accepts_connections,
    exclusive_lock,
    port_is_free,
    read_pid_status,
    remove_file,
    terminate,
    wait_until,
)
from binome_devstack.settings import LOOPBACK, StackSettings

DEFAULT_STOP_TIMEOUT: Final = 30.0
PORT_RELEASE_TIMEOUT: Final = 10.0
PROBE_TIMEOUT: Final = 5.0
LOG_TAIL_LINES: Final = 30


@dataclass(frozen=True, kw_only=True)
class ListenPort:
    """A port a server binds, and how to name it when something else holds it."""

    port: int
    variable: str
    what: str


class LocalServer(abc.ABC):
    """One server of the local stack, run from its own directory of the stack dir.

    Subclasses say where their files are, which ports they bind, how to ask whether they
    serve and how to launch them; this class does the rest: the per-server lock, the pid
    file verdict, clearing what a killed server left behind, waiting for readiness and
    stopping with a SIGKILL fallback.
    """

    component_name: ClassVar[str]
    default_start_timeout: ClassVar[float]
    retry_pause: ClassVar[float]

    def __init__(
        self,
        *,
        settings: StackSettings,
        report: Reporter = log_report,
        start_timeout: float | None = None,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        """``start_timeout`` defaults to the server's own ``default_start_timeout``."""
        self.settings = settings
        self.start_timeout = self.default_start_timeout if start_timeout is None else start_timeout
        self.stop_timeout = stop_timeout
        self._report = report
        # The server process when this object launched it as its child, else None.
        self._process: subprocess.Popen[bytes] | None = None

    @property
    @abc.abstractmethod
    def directory(self) -> Path:
        """The server's directory in the stack dir."""

    @property
    def data_dir(self) -> Path:
        """``<directory>/data``: what the server keeps."""
        return self.directory / "data"

    @property
    @abc.abstractmethod
    def pid_file(self) -> Path:
        """Holds the server's pid while it runs."""

    @property
    @abc.abstractmethod
    def port(self) -> int:
        """The port clients connect to on 127.0.0.1."""

    @property
    def where(self) -> str:
        """``127.0.0.1:<port>``, as the messages show it."""
        return f"{LOOPBACK}:{self.port}"

    @abc.abstractmethod
    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server's logs, for error messages."""

    @property
    @abc.abstractmethod
    def _readiness_log(self) -> Path:
        """The log a "not ready" error points a person to."""

    @property
    @abc.abstractmethod
    def _pid_marker(self) -> str:
        """A string in our server's command line, which a reused pid's process lacks."""

    @abc.abstractmethod
    def _listen_ports(self) -> Sequence[ListenPort]:
        """Every port the server binds, client port first."""

    @abc.abstractmethod
    def _configured_port(self) -> int | None:
        """The client port the running server was configured with, if it can be read."""

    @abc.abstractmethod
    def _answers(self, *, timeout: float) -> bool:
        """A real protocol round trip; may raise whatever its client raises."""

    def pid_status(self) -> PidStatus:
        """What the pid file says, checked against the live processes."""
        return read_pid_status(self.pid_file, marker=self._pid_marker)

    def is_running(self) -> bool:
        """Whether this stack dir's server process is alive."""
        return self.pid_status().state is PidState.RUNNING

    def is_ready(self, *, timeout: float = PROBE_TIMEOUT) -> bool:
        """Whether the server accepts a connection and answers a real request."""
        if not accepts_connections(self.port):
            return False
        try:
            return self._answers(timeout=timeout)
        except Exception:  # whatever the client raises, the server is not serving yet
            return False

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the server answers; raise :class:`NotReadyError` if it does not."""
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
                return
            time.sleep(self.retry_pause)
        raise self._not_ready(limit, reason)

    def stop(self, *, timeout: float | None = None) -> bool:
        """Stop the server (SIGKILL after ``timeout`` s at worst); True if it was running."""
        with self._lock():
            return self._stop_locked(timeout=self.stop_timeout if timeout is None else timeout)

    async def astop(self, *, grace_seconds: float | None = None) -> bool:
        """:meth:`stop` without blocking the running event loop."""
        return await asyncio.to_thread(self.stop, timeout=grace_seconds)

    async def arestart(self) -> None:
        """:meth:`restart` without blocking the running event loop."""
        await asyncio.to_thread(self.restart)

    async def await_ready(self, limit_seconds: float | None = None) -> None:
        """:meth:`wait_ready` without blocking the running event loop."""
        await asyncio.to_thread(self.wait_ready, limit_seconds)

    def wipe(self) -> bool:
        """Delete the server's data (it must be stopped); True if there was any."""
        existed = self.data_dir.exists()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return existed

    @abc.abstractmethod
    def restart(self) -> None:
        """Stop and start again on the same port, keeping the data."""

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        # Per server, apart from the stack lock that ensure_stack holds around both.
        return exclusive_lock(self.directory / ".lock")

    def _running_already(self) -> bool:
        """True if our server runs on the wanted port; else clear what a dead one left.

        Raises :class:`StackError` if it runs on another port, :class:`PortInUseError` if
        a port it needs is taken by something else.
        """
        status = self.pid_status()
        if status.state is PidState.RUNNING:
            self._check_running_port()
            return True
        if status.state is PidState.STALE:
            remove_file(self.pid_file)
            self._report(text("stale_pid", component=self.component_name, pid=status.pid))
            # A server killed a moment ago may still hold its ports while the kernel closes
            # its connections: give them the time a clean stop gets before calling it a clash.
            wait_until(self._ports_free, timeout=PORT_RELEASE_TIMEOUT)
        self._check_ports_free()
        return False

    def _check_running_port(self) -> None:
        running = self._configured_port()
        if running is not None and running != self.port:
            raise StackError(
                text(
                    "port_mismatch",
                    component=self.component_name,
                    running=running,
                    wanted=self.port,
                )
            )

    def _check_ports_free(self) -> None:
        for listen in self._listen_ports():
            if not port_is_free(listen.port):
                raise PortInUseError(
                    text(
                        "port_in_use",
                        port=listen.port,
                        what=listen.what,
                        variable=listen.variable,
                    ),
                    port=listen.port,
                    variable=listen.variable,
                )

    def _ports_free(self) -> bool:
        return all(port_is_free(listen.port) for listen in self._listen_ports())

    def _stop_locked(self, *, timeout: float) -> bool:
        status = self.pid_status()
        if status.state is not PidState.RUNNING or status.pid is None:
            if status.state is PidState.STALE:
                remove_file(self.pid_file)
            self._process = None
            return False
        self._report(text("stopping", component=self.component_name))
        started = time.monotonic()
        graceful = self._halt(status.pid, timeout=timeout)
        if self._process is not None:
            self._process.wait()
            self._process = None
        remove_file(self.pid_file)
        wait_until(self._ports_free, timeout=PORT_RELEASE_TIMEOUT)
        if graceful:
            self._report(
                text("stopped", component=self.component_name, seconds=time.monotonic() - started)
            )
        else:
            self._report(text("killed", component=self.component_name, timeout=timeout))
        return True

    def _halt(self, pid: int, *, timeout: float) -> bool:
        """End the server process; True if it stopped without SIGKILL."""
        return terminate(pid, timeout=timeout)

    def _exit_code(self) -> int | str | None:
        """Our child's exit code, ``"?"`` if the server is gone otherwise, None if it runs."""
        if self._process is not None:
            return self._process.poll()
        if self.pid_status().state is not PidState.RUNNING:
            return "?"
        return None

    def _not_ready(self, limit: float, reason: str) -> NotReadyError:
        return NotReadyError(
            text(
                "not_ready",
                component=self.component_name,
                timeout=limit,
                reason=reason,
                log=self._readiness_log,
                tail=self.log_tail(),
            )
        )
