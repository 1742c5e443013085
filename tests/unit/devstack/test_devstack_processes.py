"""Pid-file staleness, ports and log tails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from binome_devstack.processes import (
    PidState,
    classify_pid,
    exclusive_lock,
    port_is_free,
    process_alive,
    read_pid_status,
    tail_lines,
)

pytestmark = pytest.mark.unit

MARKER = "/stack/kafka/server.properties"


def _classify(
    content: str | None, *, alive: bool = True, command_line: str | None = f"java {MARKER}"
) -> tuple[PidState, int | None]:
    status = classify_pid(
        content=content,
        marker=MARKER,
        is_alive=lambda _pid: alive,
        command_line=lambda _pid: command_line,
    )
    return status.state, status.pid


def test_no_pid_file_means_absent() -> None:
    assert _classify(None) == (PidState.ABSENT, None)


def test_a_live_process_running_our_server_is_running() -> None:
    assert _classify("4242\n") == (PidState.RUNNING, 4242)


def test_a_dead_process_leaves_a_stale_pid_file() -> None:
    assert _classify("4242\n", alive=False) == (PidState.STALE, 4242)


def test_a_reused_pid_running_something_else_is_stale() -> None:
    assert _classify("4242", command_line="/usr/bin/vim notes.txt") == (PidState.STALE, 4242)


def test_an_unreadable_command_line_gets_the_benefit_of_the_doubt() -> None:
    assert _classify("4242", command_line=None) == (PidState.RUNNING, 4242)


@pytest.mark.parametrize("content", ["", "  \n", "not-a-pid", "-3", "0"])
def test_garbage_in_a_pid_file_is_stale(content: str) -> None:
    assert _classify(content) == (PidState.STALE, None)


def test_postmaster_pid_files_are_read_by_their_first_line() -> None:
    postmaster = f"4242\n{MARKER}\n1700000000\n15432\n"

    assert _classify(postmaster) == (PidState.RUNNING, 4242)


def test_this_process_is_alive_and_a_reaped_child_is_not(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    pid_file = tmp_path / "child.pid"
    pid_file.write_text(f"{child.pid}\n", encoding="utf-8")

    assert process_alive(os.getpid())
    assert not process_alive(child.pid)
    assert read_pid_status(pid_file, marker="anything").state is PidState.STALE


def test_our_own_command_line_matches_its_marker(tmp_path: Path) -> None:
    pid_file = tmp_path / "self.pid"
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")

    assert read_pid_status(pid_file, marker="python").state is PidState.RUNNING
    assert read_pid_status(tmp_path / "missing.pid", marker="x").state is PidState.ABSENT


def test_a_listening_port_is_not_free() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert not port_is_free(port)
    assert port_is_free(port)


def test_tail_lines_returns_the_last_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {number}\n" for number in range(100)), encoding="utf-8")

    assert tail_lines(log, 3) == ["line 97", "line 98", "line 99"]
    assert tail_lines(tmp_path / "absent.log", 3) == []


def test_a_held_lock_makes_the_next_holder_wait_then_admits_it(tmp_path: Path) -> None:
    lock_file = tmp_path / "nested" / ".lock"
    waited = threading.Event()
    entered = threading.Event()

    def second_holder() -> None:
        with exclusive_lock(lock_file, on_wait=waited.set):
            entered.set()

    with exclusive_lock(lock_file):
        contender = threading.Thread(target=second_holder)
        contender.start()
        assert waited.wait(timeout=30)
        assert not entered.is_set()
    contender.join(timeout=30)

    assert entered.is_set()
