"""A project-local PostgreSQL 15 cluster whose data survives every ``up``/``down``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from binome_devstack.errors import NotReadyError, PortInUseError, StackError
from binome_devstack.messages import Reporter, log_report, text
from binome_devstack.processes import (
    PidState,
    PidStatus,
    accepts_connections,
    exclusive_lock,
    port_is_free,
    process_alive,
    read_pid_status,
    remove_file,
    tail_lines,
    terminate,
    wait_until,
)
from binome_devstack.readiness import ensure_database, postgres_select_one, run_sync
from binome_devstack.rendering import (
    POSTGRES_INCLUDE_FILE,
    include_directive,
    postgres_conf_port,
    render_pg_hba,
    render_postgres_conf,
)
from binome_devstack.settings import (
    ENV_PG_PORT,
    PG_ADMIN_PASSWORD,
    PG_ADMIN_USER,
    PG_DATABASE,
    POSTGRES_MAJOR_VERSION,
    StackSettings,
)
from binome_devstack.tools import (
    as_postgres_user,
    find_postgres_bindir,
    postgres_system_user,
    running_as_root,
)

COMPONENT_NAME: Final = "PostgreSQL"
MAINTENANCE_DATABASE: Final = "postgres"
INITIALIZED_MARKER: Final = "initialized"
DEFAULT_START_TIMEOUT: Final = 60.0
DEFAULT_STOP_TIMEOUT: Final = 30.0
PORT_RELEASE_TIMEOUT: Final = 10.0
PROBE_TIMEOUT: Final = 5.0
RETRY_PAUSE: Final = 0.2
LOG_TAIL_LINES: Final = 30
COMMAND_TIMEOUT: Final = 180.0
PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


class PostgresServer:
    """The stack's PostgreSQL cluster under ``<stack dir>/postgres``, run with ``pg_ctl``.

    As root, initdb and pg_ctl run as the ``postgres`` system user (initdb refuses root) and
    the cluster's directories belong to that user; otherwise they run as the caller.
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
        self._bindir: Path | None = None

    @property
    def directory(self) -> Path:
        """``<stack dir>/postgres``."""
        return self.settings.postgres_dir

    @property
    def data_dir(self) -> Path:
        """PGDATA; kept across restarts."""
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        """The server log (``pg_ctl -l``)."""
        return self.directory / "postgres.log"

    @property
    def pid_file(self) -> Path:
        """The postmaster's own lock file, which holds its pid."""
        return self.data_dir / "postmaster.pid"

    @property
    def socket_dir(self) -> Path:
        """Where the unix socket lives."""
        return self.settings.pg_socket_dir

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1."""
        return self.settings.pg_port

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the ``binome`` database."""
        return self.settings.admin_dsn

    def pid_status(self) -> PidStatus:
        """What ``postmaster.pid`` says, checked against the live processes."""
        return read_pid_status(self.pid_file, marker=str(self.data_dir))

    def is_running(self) -> bool:
        """Whether this stack's postmaster is alive."""
        return self.pid_status().state is PidState.RUNNING

    def is_ready(self, *, timeout: float = PROBE_TIMEOUT) -> bool:
        """Whether a real connection answers ``SELECT 1``."""
        if not accepts_connections(self.port):
            return False
        dsn = self.settings.dsn_for(MAINTENANCE_DATABASE)
        try:
            return run_sync(lambda: postgres_select_one(dsn, request_timeout=timeout)) == 1
        except Exception:  # whatever the driver raises, the server is not serving yet
            return False

    def start(self) -> bool:
        """Start the cluster (creating it the first time); True if this call started it."""
        with self._lock():
            return self._start_locked()

    def _start_locked(self) -> bool:
        status = self.pid_status()
        if status.state is PidState.RUNNING:
            self._check_running_port()
            self.wait_ready()
            self._ensure_database()
            self._report(text("reused", component=COMPONENT_NAME, where=self._where()))
            return False
        if status.state is PidState.STALE:
            remove_file(self.pid_file)
            self._report(text("stale_pid", component=COMPONENT_NAME, pid=status.pid))
            # A server killed a moment ago may still hold its port while the kernel closes
            # its connections: give it the time a clean stop gets before calling it a clash.
            wait_until(lambda: port_is_free(self.port), timeout=PORT_RELEASE_TIMEOUT)
        if not port_is_free(self.port):
            raise PortInUseError(
                text("port_in_use", port=self.port, what=COMPONENT_NAME, variable=ENV_PG_PORT),
                port=self.port,
                variable=ENV_PG_PORT,
            )
        bindir = self._find_bindir()
        started = time.monotonic()
        self._prepare_directories()
        if not self._initialized():
            self._initdb(bindir)
        self._write_private(
            self.data_dir / POSTGRES_INCLUDE_FILE,
            render_postgres_conf(port=self.port, socket_dir=self.socket_dir),
        )
        self._report(text("starting", component=COMPONENT_NAME))
        self._run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(self.start_timeout)),
            ],
            not_ready=True,
        )
        self.wait_ready()
        self._ensure_database()
        self._report(
            text(
                "ready",
                component=COMPONENT_NAME,
                seconds=time.monotonic() - started,
                where=self._where(),
            )
        )
        return True

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until ``SELECT 1`` succeeds; raise :class:`NotReadyError` if it does not."""
        limit = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        reason = text("no_answer", port=self.port)
        while time.monotonic() < deadline:
            if not self.is_running():
                reason = text("process_exited", code="?")
                break
            remaining = max(0.5, min(PROBE_TIMEOUT, deadline - time.monotonic()))
            if self.is_ready(timeout=remaining):
                return
            time.sleep(RETRY_PAUSE)
        raise self._not_ready(limit, reason)

    def stop(self, *, timeout: float | None = None) -> bool:
        """``pg_ctl stop -m fast``, then immediate, then SIGKILL; True if it was running."""
        with self._lock():
            return self._stop_locked(timeout=self.stop_timeout if timeout is None else timeout)

    def _stop_locked(self, *, timeout: float) -> bool:
        limit = timeout
        status = self.pid_status()
        if status.state is not PidState.RUNNING or status.pid is None:
            if status.state is PidState.STALE:
                remove_file(self.pid_file)
            return False
        self._report(text("stopping", component=COMPONENT_NAME))
        started = time.monotonic()
        bindir = self._find_bindir()
        graceful = True
        for mode in ("fast", "immediate"):
            self._run(
                [
                    str(bindir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    str(int(limit)),
                ],
                check=False,
            )
            if not process_alive(status.pid):
                break
            graceful = False
        else:
            terminate(status.pid, timeout=limit)
        remove_file(self.pid_file)
        wait_until(lambda: port_is_free(self.port), timeout=PORT_RELEASE_TIMEOUT)
        if graceful:
            self._report(
                text("stopped", component=COMPONENT_NAME, seconds=time.monotonic() - started)
            )
        else:
            self._report(text("killed", component=COMPONENT_NAME, timeout=limit))
        return True

    def restart(self) -> None:
        """Stop and start again on the same port; the data stays."""
        with self._lock():
            self._stop_locked(timeout=self.stop_timeout)
            self._start_locked()

    async def astart(self) -> bool:
        """:meth:`start` without blocking the running event loop."""
        return await asyncio.to_thread(self.start)

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
        """The last lines of the server log."""
        return "\n".join(tail_lines(self.log_file, lines)) or text("empty_log")

    def _where(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _not_ready(self, limit: float, reason: str) -> NotReadyError:
        return NotReadyError(
            text(
                "not_ready",
                component=COMPONENT_NAME,
                timeout=limit,
                reason=reason,
                log=self.log_file,
                tail=self.log_tail(),
            )
        )

    def _find_bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_postgres_bindir(self.settings.pg_bindir)
        return self._bindir

    def _check_running_port(self) -> None:
        try:
            rendered = (self.data_dir / POSTGRES_INCLUDE_FILE).read_text(encoding="utf-8")
        except OSError:
            return
        running = postgres_conf_port(rendered)
        if running is not None and running != self.port:
            raise StackError(
                text("port_mismatch", component=COMPONENT_NAME, running=running, wanted=self.port)
            )

    def _initialized(self) -> bool:
        if not (self.directory / INITIALIZED_MARKER).is_file():
            return False
        try:
            found = (self.data_dir / "PG_VERSION").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return False
        if found != str(POSTGRES_MAJOR_VERSION):
            raise StackError(
                text(
                    "pg_version_mismatch",
                    path=self.data_dir,
                    found=found,
                    wanted=POSTGRES_MAJOR_VERSION,
                )
            )
        return True

    def _prepare_directories(self) -> None:
        for directory in (self.directory, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            self._give_to_server_user(directory)
        if running_as_root():
            probe = subprocess.run(  # noqa: S603 - fixed argument list, no shell
                as_postgres_user(
                    ["test", "-w", str(self.directory), "-a", "-x", str(self.directory)]
                ),
                check=False,
                cwd="/",
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
            )
            if probe.returncode != 0:
                raise StackError(text("not_traversable", path=self.directory))

    def _initdb(self, bindir: Path) -> None:
        self._report(text("initdb", path=self.data_dir))
        (self.directory / INITIALIZED_MARKER).unlink(missing_ok=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        password_file = self.directory / ".pwfile"
        self._write_private(password_file, PG_ADMIN_PASSWORD + "\n")
        try:
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    f"--username={PG_ADMIN_USER}",
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                ]
            )
        finally:
            password_file.unlink(missing_ok=True)
        self._write_private(self.data_dir / "pg_hba.conf", render_pg_hba())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(include_directive())
        (self.directory / INITIALIZED_MARKER).write_text(
            f"{POSTGRES_MAJOR_VERSION}\n", encoding="utf-8"
        )

    def _ensure_database(self) -> None:
        maintenance_dsn = self.settings.dsn_for(MAINTENANCE_DATABASE)
        created = run_sync(
            lambda: ensure_database(maintenance_dsn, name=PG_DATABASE, owner=PG_ADMIN_USER)
        )
        if created:
            self._report(text("database_created", name=PG_DATABASE))

    def _write_private(self, path: Path, content: str) -> None:
        path.write_text(content, encoding="utf-8")
        path.chmod(PRIVATE_FILE_MODE)
        self._give_to_server_user(path)

    def _give_to_server_user(self, path: Path) -> None:
        if running_as_root():
            account = postgres_system_user()
            os.chown(path, account.pw_uid, account.pw_gid)

    def _run(
        self, command: Sequence[str], *, check: bool = True, not_ready: bool = False
    ) -> subprocess.CompletedProcess[str]:
        full_command = as_postgres_user(command) if running_as_root() else list(command)
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            full_command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
            timeout=COMMAND_TIMEOUT,
        )
        if check and result.returncode != 0:
            if not_ready:
                raise self._not_ready(
                    self.start_timeout, text("process_exited", code=result.returncode)
                )
            raise StackError(
                text(
                    "command_failed",
                    command=" ".join(command),
                    code=result.returncode,
                    output=(result.stdout + result.stderr).strip(),
                )
            )
        return result
