"""Dockerfile and .dockerignore: one slim, non-root image, built in two stages."""

from __future__ import annotations

import re

import pytest

from .deploy_files import IMAGE_UID, REPO_ROOT

pytestmark = pytest.mark.unit

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
DOCKERIGNORE = {
    line.strip()
    for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE)
    pairs = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def test_both_stages_start_from_python_3_11_slim() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base is not None
    assert base[1] == "python:3.11-slim"
    assert [arguments for keyword, arguments in instructions() if keyword == "FROM"] == [
        "${PYTHON_IMAGE} AS builder",
        "${PYTHON_IMAGE} AS runtime",
    ]


def test_runtime_stage_copies_only_the_built_environment() -> None:
    runtime = stages()[-1]
    copies = [arguments for keyword, arguments in runtime if keyword in {"COPY", "ADD"}]
    assert copies == ["--from=builder /opt/venv /opt/venv"]


def test_runtime_stage_installs_no_build_tools() -> None:
    runtime_commands = " ".join(
        arguments for keyword, arguments in stages()[-1] if keyword == "RUN"
    )
    for tool in ("apt-get", "pip ", "gcc", "build-essential"):
        assert tool not in runtime_commands


def test_runtime_runs_as_the_unprivileged_user() -> None:
    users = [arguments for keyword, arguments in stages()[-1] if keyword == "USER"]
    assert users == [f"{IMAGE_UID}:{IMAGE_UID}"]
    assert "--uid ${BINOME_UID}" in DOCKERFILE
    assert f"ARG BINOME_UID={IMAGE_UID}" in DOCKERFILE


def test_runtime_writes_no_bytecode_and_keeps_home_in_tmp() -> None:
    environment = " ".join(arguments for keyword, arguments in stages()[-1] if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in environment
    assert "HOME=/tmp" in environment
    assert "PATH=/opt/venv/bin:$PATH" in environment
    assert "BINOME_HTTP_HOST=0.0.0.0" in environment


def test_image_defaults_to_a_service_command() -> None:
    (command,) = [arguments for keyword, arguments in stages()[-1] if keyword == "CMD"]
    assert command == '["binome-pairing", "serve"]'


def test_build_context_leaves_out_local_state() -> None:
    assert {
        ".venv",
        ".stack",
        ".git",
        "**/__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "demo-output",
        "tests",
    } <= DOCKERIGNORE


def test_build_context_keeps_what_the_build_copies() -> None:
    copied = {
        source
        for keyword, arguments in stages()[0]
        if keyword == "COPY"
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    }
    assert copied == {"pyproject.toml", "README.md", "shared", "services", "devstack"}
    assert copied.isdisjoint(DOCKERIGNORE)
