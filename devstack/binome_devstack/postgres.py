"""A project-local PostgreSQL 15 cluster whose data survives every ``up``/``down``.

It accepts TLS as well as plaintext, with a certificate of its own authority
(``<postgres dir>/tls/ca.crt``), so ``BINOME_DATABASE_SSLMODE=verify-full`` can be tried here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.messages import text
from binome_devstack.postgres_certificates import (
    ServerCertificates,
    ensure_certificates,
    render_tls_conf,
)
from binome_devstack.processes import process_alive, tail_lines, terminate
from binome_devstack.readiness import ensure_database, postgres_select_one, run_sync
from binome_devstack.rendering import (
    POSTGRES_INCLUDE_FILE,
    include_directive,
    postgres_conf_port,
    render_pg_hba,
    render_postgres_conf,
)
from binome_devstack.server import LOG_TAIL_LINES, ListenPort, LocalServer
from binome_devstack.settings import (
    ENV_PG_PORT,
    PG_ADMIN_PASSWORD,
    PG_ADMIN_USER,
    PG_DATABASE,
    POSTGRES_MAJOR_VERSION,
)
from binome_devstack.tools import (
    as_postgres_user,
    find_postgres_bindir,
    postgres_system_user,
    running_as_root,
)

MAINTENANCE_DATABASE: Final = "postgres"
INITIALIZED_MARKER: Final = "initialized"
COMMAND_TIMEOUT: Final = 180.0
PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


class PostgresServer(LocalServer):
    """The stack's PostgreSQL cluster under ``<stack dir>/postgres``, run with ``pg_ctl``.

    As root, initdb and pg_ctl run as the ``postgres`` system user (initdb refuses root) and
    the cluster's directories belong to that user; otherwise they run as the caller.
    """

    component_name = "PostgreSQL"
    default_start_timeout = 60.0
    retry_pause = 0.2
    _bindir: Path | None = None

    @property
    def directory(self) -> Path:
        """``<stack dir>/postgres``."""
        return self.settings.postgres_dir

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
    def certificates(self) -> ServerCertificates:
        """The server's TLS certificate, key, and the authority that signed them."""
        return ServerCertificates(self.directory / "tls")

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the ``binome`` database."""
        return self.settings.admin_dsn

    def start(self) -> bool:
        """Start the cluster (creating it the first time); True if this call started it."""
        with self._lock():
            return self._start_locked()

    def _start_locked(self) -> bool:
        if self._running_already():
            self.wait_ready()
            self._ensure_database()
            self._report(text("reused", component=self.component_name, where=self.where))
            return False
        bindir = self._find_bindir()
        started = time.monotonic()
        self._prepare_directories()
        if not self._initialized():
            self._initdb(bindir)
        certificates = self._prepare_certificates()
        self._write_private(
            self.data_dir / POSTGRES_INCLUDE_FILE,
            render_postgres_conf(port=self.port, socket_dir=self.socket_dir)
            + render_tls_conf(certificates),
        )
        self._report(text("starting", component=self.component_name))
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
                component=self.component_name,
                seconds=time.monotonic() - started,
                where=self.where,
            )
        )
        return True

    def restart(self) -> None:
        """Stop and start again on the same port; the data stays."""
        with self._lock():
            self._stop_locked(timeout=self.stop_timeout)
            self._start_locked()

    async def astart(self) -> bool:
        """:meth:`start` without blocking the running event loop."""
        return await asyncio.to_thread(self.start)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server log."""
        return "\n".join(tail_lines(self.log_file, lines)) or text("empty_log")

    @property
    def _readiness_log(self) -> Path:
        return self.log_file

    @property
    def _pid_marker(self) -> str:
        return str(self.data_dir)

    def _listen_ports(self) -> Sequence[ListenPort]:
        return (ListenPort(port=self.port, variable=ENV_PG_PORT, what=self.component_name),)

    def _configured_port(self) -> int | None:
        try:
            rendered = (self.data_dir / POSTGRES_INCLUDE_FILE).read_text(encoding="utf-8")
        except OSError:
            return None
        return postgres_conf_port(rendered)

    def _answers(self, *, timeout: float) -> bool:
        dsn = self.settings.dsn_for(MAINTENANCE_DATABASE)
        return run_sync(lambda: postgres_select_one(dsn, request_timeout=timeout)) == 1

    def _halt(self, pid: int, *, timeout: float) -> bool:
        """``pg_ctl stop -m fast``, then immediate, then SIGKILL."""
        bindir = self._find_bindir()
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
                    str(int(timeout)),
                ],
                check=False,
            )
            if not process_alive(pid):
                return mode == "fast"
        terminate(pid, timeout=timeout)
        return False

    def _find_bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_postgres_bindir(self.settings.pg_bindir)
        return self._bindir

    def wipe(self) -> bool:
        """Delete the cluster (it must be stopped): the next start runs initdb again."""
        (self.directory / INITIALIZED_MARKER).unlink(missing_ok=True)
        return super().wipe()

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

    def _prepare_certificates(self) -> ServerCertificates:
        """Made once per cluster; the server (not root) must own its key, mode 0600."""
        certificates = ensure_certificates(self.certificates.directory)
        for path in (
            certificates.directory,
            certificates.ca_file,
            certificates.cert_file,
            certificates.key_file,
        ):
            self._give_to_server_user(path)
        return certificates

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
