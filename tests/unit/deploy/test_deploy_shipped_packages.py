"""What the image ships: the packages setuptools finds in the folders the Dockerfile copies.

Development-only code (the local stack, the demo, the generators of docs and manifests, the
cohort generator, the notification previews and SMTP sink) lives in ``binome_devstack``,
which the image leaves out. These tests find the shipped packages the way the wheel build
does, then read every shipped module's imports: each must be the standard library, a
shipped package, or a distribution the image installs from requirements.lock.

Ce que l'image contient : aucun module de développement, et aucun module livré n'importe
ce que l'image n'installe pas.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from setuptools import find_namespace_packages

from .deploy_files import REPO_ROOT

pytestmark = pytest.mark.unit

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DISCOVERY = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
PRODUCTION_PACKAGES = {
    "binome_shared",
    "binome_pairing",
    "binome_sessions",
    "binome_notifications",
    "binome_integrations",
}
# Installed with pip in the builder stage, which the runtime stage copies as is.
LOCKED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def copied_folders() -> set[str]:
    """The sources the Dockerfile's builder stage copies into its build context."""
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    return set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, re.MULTILINE))


@cache
def shipped_packages() -> dict[str, Path]:
    """Dotted package name → folder, for every package the wheel built in the image holds."""
    packages: dict[str, Path] = {}
    for root in DISCOVERY["where"]:
        if root.split("/", 1)[0] not in copied_folders():
            continue
        for name in find_namespace_packages(where=REPO_ROOT / root, include=DISCOVERY["include"]):
            packages[name] = REPO_ROOT / root / name.replace(".", "/")
    return packages


def shipped_modules() -> Iterator[tuple[str, Path]]:
    for package, folder in shipped_packages().items():
        for source in sorted(folder.glob("*.py")):
            yield f"{package}.{source.stem}", source


def imported_roots(source: Path) -> set[str]:
    """The top-level names ``source`` imports (absolute imports; relative ones stay inside)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".", 1)[0])
    return roots


def locked_distributions() -> set[str]:
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(match["name"]) for match in LOCKED.finditer(lock)}


def test_the_image_ships_exactly_the_production_packages() -> None:
    top_level = {name.split(".", 1)[0] for name in shipped_packages()}
    assert top_level == PRODUCTION_PACKAGES


def test_no_development_module_is_shipped() -> None:
    shipped = dict(shipped_modules())
    assert len(shipped) > 100, "package discovery found too little to be the real layout"
    development = [name for name in shipped if "devstack" in name or "_sink" in name]
    assert development == []
    for moved in ("cohort_generator", "preview_cli", "docs_cli", "deploy_manifests"):
        assert not [name for name in shipped if name.endswith(f".{moved}")], moved
    assert "binome_notifications.domain.examples" not in shipped


def test_every_shipped_module_imports_only_what_the_image_installs() -> None:
    distributions_of = packages_distributions()
    installed = locked_distributions()
    foreign: list[str] = []
    for module, source in shipped_modules():
        for root in sorted(imported_roots(source)):
            if root in sys.stdlib_module_names or root in PRODUCTION_PACKAGES:
                continue
            providers = {canonicalize_name(name) for name in distributions_of.get(root, [])}
            if not providers & installed:
                foreign.append(f"{module} imports {root} ({', '.join(sorted(providers))})")
    assert foreign == []


def test_the_import_check_sees_a_development_import() -> None:
    # The check above would pass on an empty walk; it must see what a dev module imports.
    sink = REPO_ROOT / "devstack/binome_devstack/notifications/smtp_sink.py"
    assert "aiosmtpd" in imported_roots(sink)
    assert canonicalize_name("aiosmtpd") not in locked_distributions()


def test_every_folder_of_python_modules_is_a_regular_package() -> None:
    # import-linter (make lint) does not see modules of an implicit namespace package, so a
    # folder without __init__.py would escape the architecture rules without a word.
    namespaces = [
        str(folder.relative_to(REPO_ROOT))
        for root in DISCOVERY["where"]
        for folder in sorted({source.parent for source in (REPO_ROOT / root).rglob("*.py")})
        if not (folder / "__init__.py").exists()
    ]
    assert namespaces == []
