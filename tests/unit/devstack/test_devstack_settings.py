"""Where the stack lives and which ports it uses, from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from binome_devstack.errors import StackError
from binome_devstack.settings import (
    MAX_SOCKET_PATH,
    StackSettings,
    default_cache_root,
    find_repo_root,
    socket_dir_for,
)

pytestmark = pytest.mark.unit


def _project(root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n', encoding="utf-8")
    return root


def test_stack_dir_defaults_to_dot_stack_in_the_nearest_binome_project(tmp_path: Path) -> None:
    repo = _project(tmp_path / "repo", "binome")
    _project(repo / "services" / "other", "not-binome")
    deep = repo / "services" / "other" / "src"
    deep.mkdir(parents=True)

    settings = StackSettings.from_env(environ={"HOME": str(tmp_path)}, cwd=deep)

    assert settings.stack_dir == repo.resolve() / ".stack"


def test_without_a_binome_project_the_stack_dir_is_under_cwd(tmp_path: Path) -> None:
    settings = StackSettings.from_env(environ={"HOME": str(tmp_path)}, cwd=tmp_path)

    assert settings.stack_dir == tmp_path.resolve() / ".stack"
    assert find_repo_root(tmp_path) is None


def test_defaults_match_the_documented_ports(tmp_path: Path) -> None:
    settings = StackSettings.from_env(environ={"HOME": str(tmp_path)}, cwd=tmp_path)

    assert (settings.kafka_port, settings.kafka_controller_port, settings.pg_port) == (
        19092,
        19093,
        15432,
    )
    assert settings.env_exports() == [
        "export BINOME_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092",
        "export BINOME_PG_ADMIN_DSN=postgresql://binome_admin:binome_admin@127.0.0.1:15432/binome",
    ]


def test_environment_overrides_dir_and_ports(tmp_path: Path) -> None:
    environ = {
        "HOME": str(tmp_path),
        "BINOME_STACK_DIR": str(tmp_path / "elsewhere"),
        "BINOME_STACK_KAFKA_PORT": "29092",
        "BINOME_STACK_PG_PORT": "25432",
    }

    settings = StackSettings.from_env(environ=environ, cwd=tmp_path)

    assert settings.stack_dir == (tmp_path / "elsewhere").resolve()
    assert settings.kafka_controller_port == 29093
    assert settings.kafka_bootstrap == "127.0.0.1:29092"
    assert settings.admin_dsn.endswith("@127.0.0.1:25432/binome")


@pytest.mark.parametrize("raw", ["abc", "0", "70000", "-5"])
def test_a_bad_port_names_the_variable(tmp_path: Path, raw: str) -> None:
    environ = {"HOME": str(tmp_path), "BINOME_STACK_PG_PORT": raw}

    with pytest.raises(StackError, match="BINOME_STACK_PG_PORT"):
        StackSettings.from_env(environ=environ, cwd=tmp_path)


def test_colliding_ports_are_refused(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path), "BINOME_STACK_PG_PORT": "19093"}

    with pytest.raises(StackError, match="19093"):
        StackSettings.from_env(environ=environ, cwd=tmp_path)


def test_jar_cache_follows_xdg_cache_home(tmp_path: Path) -> None:
    assert default_cache_root({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}) == Path("/xdg/binome")
    assert default_cache_root({"HOME": "/home/u"}) == Path("/home/u/.cache/binome")
    settings = StackSettings.from_env(environ={"XDG_CACHE_HOME": "/xdg"}, cwd=tmp_path)
    assert settings.kafka_jar_cache == Path("/xdg/binome/kafka-4.1.1")


def test_socket_dir_stays_in_the_stack_dir_unless_the_path_is_too_long() -> None:
    short = Path("/work/repo/.stack")
    deep = Path("/" + "d" * MAX_SOCKET_PATH) / ".stack"

    assert socket_dir_for(short) == short / "postgres" / "run"
    fallback = socket_dir_for(deep)
    assert not fallback.is_relative_to(deep)
    assert len(str(fallback)) < MAX_SOCKET_PATH
    assert socket_dir_for(deep) == fallback


def test_postgres_data_moves_out_of_a_folder_the_postgres_user_cannot_reach(tmp_path: Path) -> None:
    from binome_devstack.settings import postgres_dir_for

    private = tmp_path / "private"
    stack_dir = private / "clone" / ".stack"
    stack_dir.mkdir(parents=True)
    private.chmod(0o700)
    try:
        moved = postgres_dir_for(stack_dir, as_root=True)
        assert not moved.is_relative_to(private)
        assert moved == postgres_dir_for(stack_dir, as_root=True), "stable across calls"
        assert postgres_dir_for(stack_dir, as_root=False) == stack_dir / "postgres"
        private.chmod(0o755)
        tmp_path.chmod(0o755)
        if all(p.stat().st_mode & 0o001 for p in tmp_path.resolve().parents):
            assert postgres_dir_for(stack_dir, as_root=True) == stack_dir / "postgres"
    finally:
        private.chmod(0o755)
