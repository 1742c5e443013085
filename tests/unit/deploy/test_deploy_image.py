"""Dockerfile, .dockerignore and requirements.lock: one slim, non-root, reproducible image.

Built in two stages from a base image pinned by digest, with every dependency installed as
locked (versions and hashes) and nothing of the development stack.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .deploy_files import IMAGE_UID, REPO_ROOT

pytestmark = pytest.mark.unit

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
LOCK = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) \\$", re.MULTILINE)
# The development stack: tools of the workstation and CI, never of the image.
DEVELOPMENT_ONLY_SOURCES = {"devstack", "tests", "benchmarks", "docs", "deploy"}
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


def test_both_stages_start_from_python_3_11_slim_pinned_by_digest() -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base[1])
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
    assert copied == {
        "requirements.lock",
        "pyproject.toml",
        "README.md",
        "shared",
        "services",
        "integrations",
    }
    assert copied.isdisjoint(DOCKERIGNORE)
    assert copied.isdisjoint(DEVELOPMENT_ONLY_SOURCES)


def builder_commands() -> list[str]:
    return [arguments for keyword, arguments in stages()[0] if keyword == "RUN"]


def test_dependencies_are_installed_only_as_locked_with_hashes() -> None:
    installs = [command for command in builder_commands() if "pip install" in command]
    (locked, project) = installs
    assert "--require-hashes" in locked
    assert "--no-deps" in locked
    assert "-r requirements.lock" in locked
    # The project itself adds nothing the lock did not already bring.
    assert "pip install --no-deps /wheels/binome-*.whl" in project
    assert "--no-build-isolation" in project


def test_the_build_backend_and_the_development_stack_leave_the_image() -> None:
    (build,) = [command for command in builder_commands() if "pip wheel" in command]
    assert "pip uninstall --yes setuptools wheel" in build
    scripts = PYPROJECT["project"]["scripts"]
    (removal,) = re.findall(r"rm (?:/opt/venv/bin/\S+\s+)+", build)
    removed = set(re.findall(r"/opt/venv/bin/(\S+)", removal))
    assert removed == {
        name for name, target in scripts.items() if target.startswith("binome_devstack")
    }


def test_every_command_left_in_the_image_has_its_package_copied() -> None:
    copied = {
        source
        for keyword, arguments in stages()[0]
        if keyword == "COPY"
        for source in arguments.split()[:-1]
    }
    roots = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"]
    package_root = {f"binome_{root.rsplit('/', 1)[-1]}": root.split("/", 1)[0] for root in roots}
    package_root["binome_shared"] = "shared"
    for name, target in PYPROJECT["project"]["scripts"].items():
        package = target.split(".", 1)[0]
        if package == "binome_devstack":
            continue
        assert package_root[package] in copied, name
    for needed in ("binome-hr-import", "binome-report"):
        assert needed in PYPROJECT["project"]["scripts"]


def locked_versions() -> dict[str, str]:
    return {canonicalize_name(match["name"]): match["version"] for match in PINNED.finditer(LOCK)}


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    locked = locked_versions()
    for declared in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(declared)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock (run pip-compile)"
        assert requirement.specifier.contains(locked[name], prereleases=True), name
    for declared in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(declared)
        assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)])


def test_every_locked_package_carries_hashes() -> None:
    # An entry: a line that starts with a name, and its indented continuation lines.
    entries = re.findall(r"^[A-Za-z0-9].*(?:\n[ \t]+.*)*", LOCK, re.MULTILINE)
    assert len(entries) == len(locked_versions()) > 30
    for entry in entries:
        assert PINNED.match(entry), entry.splitlines()[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


def test_the_lock_holds_no_development_tool() -> None:
    development = {
        canonicalize_name(Requirement(declared).name)
        for declared in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    assert development.isdisjoint(locked_versions())
