"""Missing java, mvn or PostgreSQL 15: a clear message and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from binome_devstack import cli
from binome_devstack.errors import MissingToolError
from binome_devstack.tools import (
    DEBIAN_INSTALL_HINT,
    choose_postgres_bindir,
    find_java,
    missing_tools_error,
    missing_tools_message,
    postgres_major_version,
)

pytestmark = pytest.mark.unit


def test_the_message_names_each_missing_tool_and_the_debian_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BINOME_LANG", "en")

    message = missing_tools_message(["java", "postgres"])

    assert "java (a Java 17+ runtime)" in message
    assert "PostgreSQL 15 server binaries" in message
    assert "mvn" not in message.split("\n")[0]
    assert "apt-get install openjdk-17-jre-headless maven postgresql-15" in message, (
        DEBIAN_INSTALL_HINT
    )


def test_the_message_exists_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_LANG", "fr_FR.UTF-8")

    message = missing_tools_message(["mvn"])

    assert message.startswith("Absent de cette machine : mvn (Maven")
    assert DEBIAN_INSTALL_HINT in message


def test_missing_tools_exit_with_code_2() -> None:
    error = missing_tools_error(["java"])

    assert isinstance(error, MissingToolError)
    assert error.exit_code == 2
    assert error.tools == ("java",)


def test_no_java_anywhere_raises_the_missing_tool_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(MissingToolError) as raised:
        find_java()

    assert raised.value.tools == ("java",)


def test_the_cli_prints_the_message_and_returns_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("BINOME_LANG", "en")
    monkeypatch.setenv("BINOME_STACK_DIR", str(tmp_path))

    def no_java(**_: object) -> None:
        raise missing_tools_error(["java"])

    monkeypatch.setattr(cli, "ensure_stack", no_java)

    assert cli.main(["up"]) == 2
    assert "apt-get install openjdk-17-jre-headless" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", 15),
        ("postgres (PostgreSQL) 16.4\n", 16),
        ("bash: postgres: not found", None),
    ],
)
def test_postgres_major_version_is_read_from_version_output(output: str, major: int | None) -> None:
    assert postgres_major_version(output) == major


def test_the_first_candidate_with_postgres_15_programs_wins() -> None:
    versions = {Path("/pg16"): 16, Path("/pg15"): 15, Path("/empty"): None}

    chosen = choose_postgres_bindir(
        [Path("/empty"), Path("/pg16"), Path("/pg15")],
        has_programs=lambda path: path != Path("/empty"),
        major_version=versions.__getitem__,
    )

    assert chosen == Path("/pg15")
    assert (
        choose_postgres_bindir(
            [Path("/pg16")], has_programs=lambda _: True, major_version=versions.__getitem__
        )
        is None
    )
