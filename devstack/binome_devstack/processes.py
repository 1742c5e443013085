"""Pid files, liveness, ports and log tails: the process plumbing shared by both servers."""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from binome_devstack.settings import LOOPBACK

POLL_INTERVAL_SECONDS = 0.1


class PidState(enum.StrEnum):
    """What a pid file says about the process it names."""

    ABSENT = "absent"
    RUNNING = "running"
    STALE = "stale"


@dataclass(frozen=True, kw_only=True)
class PidStatus:
    """A pid file's verdict and the pid it held (if it held a readable one)."""

    state: PidState
    pid: int | None = None


def classify_pid(
    *,
    content: str | None,
    marker: str,
    is_alive: Callable[[int], bool],
    command_line: Callable[[int], str | None],
) -> PidStatus:
    """Decide whether a pid file names our live server, or is left over from a dead one.

    A live pid whose command line lacks ``marker`` belongs to an unrelated process that
    reused the number after our server was killed, so the file is stale. An unreadable
    command line (no /proc) is given the benefit of the doubt.
    """
    if content is None:
        return PidStatus(state=PidState.ABSENT)
    first_line = content.strip().splitlines()[0].strip() if content.strip() else ""
    if not first_line.isdigit() or int(first_line) <= 0:
        return PidStatus(state=PidState.STALE)
    pid = int(first_line)
    if not is_alive(pid):
        return PidStatus(state=PidState.STALE, pid=pid)
    line = command_line(pid)
    if line is not None and marker not in line:
        return PidStatus(state=PidState.STALE, pid=pid)
    return PidStatus(state=PidState.RUNNING, pid=pid)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process; reaps it if it is our dead child."""
    with contextlib.suppress(ChildProcessError, OSError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (the postgres user when we are not root)
    return _proc_state(pid) != "Z"


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    after_name = stat.rpartition(")")[2].split()
    return after_name[0] if after_name else None


def process_command_line(pid: int) -> str | None:
    """The command line of ``pid`` joined by spaces, or None where /proc cannot tell."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode("utf-8", errors="replace").strip() or None


def read_pid_status(pid_file: Path, *, marker: str) -> PidStatus:
    """Classify ``pid_file`` against the live processes of this machine."""
    try:
        content: str | None = pid_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        content = None
    return classify_pid(
        content=content,
        marker=marker,
        is_alive=process_alive,
        command_line=process_command_line,
    )


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option the JVM and PostgreSQL set: sockets in TIME_WAIT don't count as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """Whether something accepts a TCP connection on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], *, timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_SECONDS)


def terminate(pid: int, *, timeout: float) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL. True if SIGTERM sufficed."""
    if not _signal(pid, signal.SIGTERM):
        return True
    if wait_until(lambda: not process_alive(pid), timeout=timeout):
        return True
    _signal(pid, signal.SIGKILL)
    wait_until(lambda: not process_alive(pid), timeout=timeout)
    return False


def _signal(pid: int, signum: signal.Signals) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def tail_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of ``path`` (an empty list if it does not exist)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            return [line.rstrip("\n") for line in deque(lines, maxlen=count)]
    except FileNotFoundError:
        return []


def remove_file(path: Path) -> None:
    """Delete ``path`` if it exists."""
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive_lock(path: Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the ``with`` block.

    Not re-entrant: a second acquisition of the same file in the same process blocks.
    ``on_wait`` is called once if another holder makes us wait.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
