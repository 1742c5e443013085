"""The binome-stack command line: arguments, owner files, env, status."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from binome_devstack import cli
from binome_devstack.processes import PidState
from binome_devstack.settings import StackSettings
from binome_devstack.stack import (
    Component,
    ComponentStatus,
    Stack,
    append_owner_file,
    parse_owner_file,
    read_owner_file,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BINOME_LANG", "en")
    monkeypatch.setenv("BINOME_STACK_DIR", str(tmp_path / "stack"))
    for variable in ("BINOME_STACK_KAFKA_PORT", "BINOME_STACK_PG_PORT"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_up_starts_both_components_by_default() -> None:
    arguments = cli.build_parser().parse_args(["up"])

    assert (arguments.kafka, arguments.postgres, arguments.owner_file) == (True, True, None)


def test_up_can_leave_a_component_out_and_record_ownership() -> None:
    arguments = cli.build_parser().parse_args(["up", "--no-kafka", "--owner-file", "own.txt"])

    assert (arguments.kafka, arguments.postgres) == (False, True)
    assert arguments.owner_file == Path("own.txt")


def test_logs_accepts_only_known_components() -> None:
    parser = cli.build_parser()

    assert parser.parse_args(["logs", "postgres", "-n", "5"]).lines == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["logs", "zookeeper"])


def test_owner_files_list_components_one_per_line(tmp_path: Path) -> None:
    owner_file = tmp_path / "nested" / "owner"

    append_owner_file(owner_file, [Component.POSTGRES])
    append_owner_file(owner_file, [])
    append_owner_file(owner_file, [Component.KAFKA])

    assert owner_file.read_text(encoding="utf-8") == "postgres\nkafka\n"
    assert read_owner_file(owner_file) == {Component.KAFKA, Component.POSTGRES}
    assert read_owner_file(tmp_path / "absent") is None
    assert parse_owner_file("kafka\n\nsomething-else\n") == {Component.KAFKA}


def test_up_writes_only_what_it_started_to_the_owner_file(
    stack_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bool, bool]] = []

    def fake_ensure_stack(
        *, kafka: bool, postgres: bool, settings: StackSettings, **_: object
    ) -> Stack:
        calls.append((kafka, postgres))
        return Stack(
            settings=settings, kafka=None, postgres=None, started=frozenset({Component.KAFKA})
        )

    monkeypatch.setattr(cli, "ensure_stack", fake_ensure_stack)
    owner_file = stack_env / "owner"

    assert cli.main(["up", "--no-postgres", "--owner-file", str(owner_file)]) == 0
    assert calls == [(True, False)]
    assert owner_file.read_text(encoding="utf-8") == "kafka\n"


def test_down_with_an_owner_file_stops_only_what_it_lists_then_deletes_it(
    stack_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[set[Component]] = []

    def fake_stop_stack(*, components: set[Component], **_: object) -> list[Component]:
        stopped.append(set(components))
        return list(components)

    monkeypatch.setattr(cli, "stop_stack", fake_stop_stack)
    owner_file = stack_env / "owner"
    owner_file.write_text("postgres\n", encoding="utf-8")

    assert cli.main(["down", "--owner-file", str(owner_file)]) == 0
    assert stopped == [{Component.POSTGRES}]
    assert not owner_file.exists()


def test_down_with_a_missing_owner_file_stops_nothing(
    stack_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped: list[object] = []
    monkeypatch.setattr(cli, "stop_stack", lambda **kwargs: stopped.append(kwargs))

    assert cli.main(["down", "--owner-file", str(stack_env / "nope")]) == 0
    assert stopped == []
    assert "nothing to stop" in capsys.readouterr().err


def test_env_prints_exports_reflecting_port_overrides(
    stack_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BINOME_STACK_KAFKA_PORT", "29092")
    monkeypatch.setenv("BINOME_STACK_PG_PORT", "25432")

    assert cli.main(["env"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "export BINOME_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092",
        "export BINOME_PG_ADMIN_DSN=postgresql://binome_admin:binome_admin@127.0.0.1:25432/binome",
    ]


def test_status_exits_1_unless_everything_answers(
    stack_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    statuses = [
        ComponentStatus(
            component=Component.KAFKA,
            state=PidState.RUNNING,
            pid=10,
            answering=True,
            where="127.0.0.1:19092",
        ),
        ComponentStatus(
            component=Component.POSTGRES,
            state=PidState.STALE,
            pid=11,
            answering=False,
            where="127.0.0.1:15432",
        ),
    ]
    monkeypatch.setattr(cli, "stack_status", lambda _settings: statuses)

    assert cli.main(["status"]) == 1
    out = capsys.readouterr().out
    assert "Kafka: running (pid 10, 127.0.0.1:19092)" in out
    assert "PostgreSQL: stopped" in out

    monkeypatch.setattr(cli, "stack_status", lambda _settings: statuses[:1])
    assert cli.main(["status"]) == 0


def test_logs_of_a_stack_that_never_ran_say_so(
    stack_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["logs", "kafka"]) == 1
    assert "No kafka log yet" in capsys.readouterr().err


def test_logs_print_the_tail(stack_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from binome_devstack.settings import StackSettings

    log = StackSettings.from_env().postgres_dir / "postgres.log"
    assert log.parent.parent in {stack_env / "stack", Path(tempfile.gettempdir())}
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("first\nsecond\nthird\n", encoding="utf-8")

    assert cli.main(["logs", "postgres", "-n", "2"]) == 0
    assert capsys.readouterr().out == "second\nthird\n"


def test_reset_deletes_the_data_of_kafka_and_postgresql_together(
    stack_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = StackSettings.from_env()
    kafka_data = settings.kafka_dir / "data"
    postgres_data = settings.postgres_dir / "data"
    for data, marker in ((kafka_data, "meta.properties"), (postgres_data, "PG_VERSION")):
        data.mkdir(parents=True)
        (data / marker).write_text("kept until reset\n", encoding="utf-8")
    (settings.postgres_dir / "initialized").write_text("15\n", encoding="utf-8")

    assert cli.main(["reset"]) == 0

    assert not kafka_data.exists()
    assert not postgres_data.exists()
    assert not (settings.postgres_dir / "initialized").exists()
    err = capsys.readouterr().err
    assert f"Kafka: data deleted ({kafka_data})" in err
    assert f"PostgreSQL: data deleted ({postgres_data})" in err
    assert "Stack reset" in err


def test_reset_of_a_stack_without_data_says_it_is_reset(
    stack_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["reset"]) == 0

    err = capsys.readouterr().err
    assert "data deleted" not in err
    assert "Stack reset" in err
