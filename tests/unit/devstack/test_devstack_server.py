"""The server life cycle both local servers share, driven with a tiny stand-in server.

The stand-in is a Python child that listens on a port, so pid files, stale processes,
SIGTERM/SIGKILL and readiness are real; only the protocol round trip is faked.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from binome_devstack import KafkaServer, PostgresServer
from binome_devstack.errors import NotReadyError, PortInUseError, StackError
from binome_devstack.processes import PidState, port_is_free, process_alive, wait_until
from binome_devstack.rendering import POSTGRES_INCLUDE_FILE, render_kafka_properties
from binome_devstack.server import LOG_TAIL_LINES, ListenPort, LocalServer
from binome_devstack.settings import StackSettings

pytestmark = pytest.mark.unit

LISTENER = (
    "import socket, sys, time\n"
    "server = socket.socket()\n"
    "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "server.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "server.listen()\n"
    "time.sleep(120)\n"
)
DEAD_PID = "999999999\n"


class EchoServer(LocalServer):
    """A stand-in server: its marker is its directory, its log a file nobody writes."""

    component_name = "Echo"
    default_start_timeout = 5.0
    retry_pause = 0.05

    def __init__(self, *, settings: StackSettings, reports: list[str]) -> None:
        super().__init__(settings=settings, report=reports.append, stop_timeout=5.0)
        self.configured_port: int | None = None
        self.answer = True

    @property
    def directory(self) -> Path:
        return self.settings.stack_dir / "echo"

    @property
    def pid_file(self) -> Path:
        return self.directory / "echo.pid"

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    def start(self) -> bool:
        with self._lock():
            if self._running_already():
                return False
            self.directory.mkdir(parents=True, exist_ok=True)
            self._process = subprocess.Popen(
                [sys.executable, "-c", LISTENER, str(self.port), str(self.directory)],
                start_new_session=True,
            )
            self.pid_file.write_text(f"{self._process.pid}\n", encoding="utf-8")
            return True

    def restart(self) -> None:
        with self._lock():
            self._stop_locked(timeout=self.stop_timeout)
        self.start()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return f"last {lines} lines"

    @property
    def _readiness_log(self) -> Path:
        return self.directory / "echo.log"

    @property
    def _pid_marker(self) -> str:
        return str(self.directory)

    def _listen_ports(self) -> Sequence[ListenPort]:
        return (
            ListenPort(port=self.port, variable="ECHO_PORT", what="Echo"),
            ListenPort(
                port=self.settings.kafka_controller_port,
                variable="ECHO_SIDE_PORT",
                what="Echo side",
            ),
        )

    def _configured_port(self) -> int | None:
        return self.configured_port

    def _answers(self, *, timeout: float) -> bool:
        if not self.answer:
            raise ConnectionError(f"no answer within {timeout} s")
        return True


def _free_ports(count: int) -> list[int]:
    free = [port for port in random.sample(range(20000, 32000), 50) if port_is_free(port)]
    return free[:count]


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_LANG", "en")


@pytest.fixture
def settings(tmp_path: Path) -> StackSettings:
    kafka_port, controller_port, pg_port = _free_ports(3)
    return StackSettings(
        stack_dir=tmp_path / "stack",
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        pg_port=pg_port,
        cache_root=tmp_path / "cache",
    )


@pytest.fixture
def reports() -> list[str]:
    return []


@pytest.fixture
def echo(settings: StackSettings, reports: list[str]) -> Iterator[EchoServer]:
    server = EchoServer(settings=settings, reports=reports)
    yield server
    status = server.pid_status()
    if status.state is PidState.RUNNING and status.pid is not None:
        os.kill(status.pid, signal.SIGKILL)
        wait_until(lambda: not server.is_running(), timeout=10)


@pytest.fixture
def held_port() -> Iterator[socket.socket]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder


def _wait_listening(server: LocalServer) -> None:
    assert wait_until(lambda: not port_is_free(server.port), timeout=10)


def test_a_started_server_is_running_ready_then_stopped(
    echo: EchoServer, reports: list[str]
) -> None:
    assert echo.start() is True
    _wait_listening(echo)
    echo.wait_ready()

    assert echo.is_running()
    assert echo.is_ready()
    assert echo.stop() is True
    assert not echo.is_running()
    assert not echo.pid_file.exists()
    assert port_is_free(echo.port)
    assert reports[0] == "Stopping Echo…"
    assert reports[1].startswith("Echo stopped in ")


def test_a_second_start_reuses_the_running_server(echo: EchoServer) -> None:
    echo.start()
    first_pid = echo.pid_status().pid

    assert echo.start() is False
    assert echo.pid_status().pid == first_pid


def test_a_running_server_on_another_port_is_refused(echo: EchoServer) -> None:
    echo.start()
    echo.configured_port = echo.port + 7

    with pytest.raises(StackError, match=f"already running on port {echo.port + 7}"):
        echo.start()


def test_a_sigkilled_server_is_stale_then_cleared_and_started_again(
    echo: EchoServer, reports: list[str]
) -> None:
    echo.start()
    _wait_listening(echo)
    killed = echo.pid_status().pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    assert wait_until(lambda: echo.pid_status().state is PidState.STALE, timeout=10)
    echo._process = None  # as in a later `binome-stack up`, which did not launch it

    assert echo.start() is True
    assert echo.pid_status().pid != killed
    assert reports == [f"Echo: removed a stale pid file (process {killed} is gone)"]


def test_a_foreign_process_on_any_port_is_named_with_its_variable(
    settings: StackSettings, reports: list[str], held_port: socket.socket
) -> None:
    taken = held_port.getsockname()[1]
    echo = EchoServer(
        settings=StackSettings(
            stack_dir=settings.stack_dir,
            kafka_port=settings.kafka_port,
            kafka_controller_port=taken,
            pg_port=settings.pg_port,
            cache_root=settings.cache_root,
        ),
        reports=reports,
    )

    with pytest.raises(PortInUseError) as raised:
        echo.start()

    assert (raised.value.port, raised.value.variable) == (taken, "ECHO_SIDE_PORT")
    assert not echo.pid_file.exists()


def test_stopping_what_does_not_run_returns_false_and_clears_a_stale_pid_file(
    echo: EchoServer, reports: list[str]
) -> None:
    assert echo.stop() is False
    echo.directory.mkdir(parents=True, exist_ok=True)
    echo.pid_file.write_text(DEAD_PID, encoding="utf-8")

    assert echo.stop() is False
    assert not echo.pid_file.exists()
    assert reports == []


def test_a_server_that_ignores_sigterm_is_killed_and_reported(
    echo: EchoServer, reports: list[str]
) -> None:
    echo.directory.mkdir(parents=True)
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('armed', flush=True)\ntime.sleep(120)\n",
            str(echo.directory),
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"armed\n"
    echo.pid_file.write_text(f"{stubborn.pid}\n", encoding="utf-8")

    assert echo.stop(timeout=0.5) is True
    assert not echo.pid_file.exists()
    assert not process_alive(stubborn.pid)
    assert reports == ["Stopping Echo…", "Echo did not stop within 0 s: killed (SIGKILL)"]


def test_waiting_for_a_server_that_exited_names_its_exit_code_and_log(echo: EchoServer) -> None:
    echo.start()
    assert echo._process is not None
    echo._process.kill()
    echo._process.wait()

    with pytest.raises(NotReadyError) as raised:
        echo.wait_ready(timeout=5)

    message = str(raised.value)
    assert f"exited with code {-signal.SIGKILL}" in message
    assert str(echo.directory / "echo.log") in message
    assert f"last {LOG_TAIL_LINES} lines" in message


def test_waiting_for_a_server_not_launched_here_that_is_gone_gives_a_question_mark(
    echo: EchoServer,
) -> None:
    with pytest.raises(NotReadyError, match=r"exited with code \?"):
        echo.wait_ready(timeout=5)


def test_a_server_whose_protocol_fails_is_not_ready(echo: EchoServer) -> None:
    echo.start()
    _wait_listening(echo)
    echo.answer = False

    assert echo.is_running()
    assert echo.is_ready() is False
    with pytest.raises(NotReadyError, match="no answer"):
        echo.wait_ready(timeout=0.5)


def test_each_server_keeps_its_own_timeouts_files_and_ports(settings: StackSettings) -> None:
    kafka = KafkaServer(settings=settings)
    postgres = PostgresServer(settings=settings, start_timeout=9.0)

    assert (kafka.start_timeout, kafka.stop_timeout) == (120.0, 30.0)
    assert (postgres.start_timeout, postgres.stop_timeout) == (9.0, 30.0)
    assert kafka.pid_file == settings.stack_dir / "kafka" / "kafka.pid"
    assert postgres.pid_file == settings.postgres_dir / "data" / "postmaster.pid"
    assert kafka.where == kafka.kafka_bootstrap == f"127.0.0.1:{settings.kafka_port}"
    assert postgres.where == f"127.0.0.1:{settings.pg_port}"


def test_kafka_names_its_controller_port_when_it_is_taken(
    settings: StackSettings, held_port: socket.socket
) -> None:
    taken = held_port.getsockname()[1]
    kafka = KafkaServer(
        settings=StackSettings(
            stack_dir=settings.stack_dir,
            kafka_port=settings.kafka_port,
            kafka_controller_port=taken,
            pg_port=settings.pg_port,
            cache_root=settings.cache_root,
        )
    )

    with pytest.raises(PortInUseError) as raised:
        kafka.start(wait=False)

    assert raised.value.variable == "BINOME_STACK_KAFKA_CONTROLLER_PORT"
    assert "Kafka controller" in str(raised.value)


def test_postgres_names_its_port_when_it_is_taken(
    settings: StackSettings, held_port: socket.socket
) -> None:
    taken = held_port.getsockname()[1]
    postgres = PostgresServer(
        settings=StackSettings(
            stack_dir=settings.stack_dir,
            kafka_port=settings.kafka_port,
            kafka_controller_port=settings.kafka_controller_port,
            pg_port=taken,
            cache_root=settings.cache_root,
        )
    )

    with pytest.raises(PortInUseError) as raised:
        postgres.start()

    assert (raised.value.port, raised.value.variable) == (taken, "BINOME_STACK_PG_PORT")


def test_each_server_reads_the_port_it_was_configured_with(settings: StackSettings) -> None:
    kafka = KafkaServer(settings=settings)
    postgres = PostgresServer(settings=settings)
    kafka.directory.mkdir(parents=True)
    kafka.properties_file.write_text(
        render_kafka_properties(port=23456, controller_port=23457, data_dir=kafka.data_dir),
        encoding="utf-8",
    )
    postgres.data_dir.mkdir(parents=True)
    (postgres.data_dir / POSTGRES_INCLUDE_FILE).write_text("port = 23458\n", encoding="utf-8")

    assert kafka._configured_port() == 23456
    assert postgres._configured_port() == 23458
