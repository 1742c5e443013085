"""Loading of the deployment files (compose, kustomize trees) and the settings they may use.

The settings lists mirror the services' environment variables as documented in
docs/operations.md; they are meant to be replaced by the real settings classes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from binome_integrations.report.server import ReportServerSettings
from binome_notifications.bootstrap import NotificationsSettings
from binome_pairing.bootstrap import PairingSettings
from binome_sessions.bootstrap import SessionsSettings
from binome_shared.db_cli import ProvisionSettings
from binome_shared.runtime.environment import known_variables, variable_name
from binome_shared.runtime.postgres_tls import PostgresTlsSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

Manifest = dict[str, Any]

SERVICE_PORTS: dict[str, int] = {"pairing": 8001, "sessions": 8002, "notifications": 8003}
IMAGE_UID = 10001
# The only writable path of the read-only containers (an emptyDir / tmpfs), not a temp file.
WRITABLE_TMP = "/tmp"  # noqa: S108


def _environment_names(settings: type[BaseSettings]) -> frozenset[str]:
    """The variables a settings class reads: each field's, and its ``…_FILE`` form."""
    return known_variables(settings)


# Read from the real settings classes, so the manifests can only name variables that exist.
_OPENTELEMETRY = frozenset({"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"})
SERVICE_SETTINGS: frozenset[str] = (
    _environment_names(PairingSettings) | _environment_names(SessionsSettings) | _OPENTELEMETRY
)
NOTIFICATIONS_SETTINGS: frozenset[str] = _environment_names(NotificationsSettings) | _OPENTELEMETRY
PROVISION_SETTINGS: frozenset[str] = _environment_names(ProvisionSettings)
REPORT_SETTINGS: frozenset[str] = _environment_names(ReportServerSettings)
REPORT_PORT = 8004
ALL_SETTINGS: frozenset[str] = NOTIFICATIONS_SETTINGS | PROVISION_SETTINGS

SETTINGS_BY_PROGRAM: dict[str, frozenset[str]] = {
    "binome-pairing": SERVICE_SETTINGS,
    "binome-sessions": SERVICE_SETTINGS,
    "binome-notifications": NOTIFICATIONS_SETTINGS,
    "binome-db": PROVISION_SETTINGS,
    "binome-report": REPORT_SETTINGS,
}

REQUIRED_SERVICE_SETTINGS: frozenset[str] = frozenset(
    {
        "BINOME_KAFKA_BOOTSTRAP_SERVERS",
        "BINOME_DATABASE_URL",
        "BINOME_HTTP_HOST",
        "BINOME_HTTP_PORT",
        "OTEL_SERVICE_NAME",
    }
)
REQUIRED_NOTIFICATIONS_SETTINGS: frozenset[str] = REQUIRED_SERVICE_SETTINGS | {
    "BINOME_SMTP_HOST",
    "BINOME_SMTP_PORT",
    "BINOME_SMTP_FROM",
    "BINOME_PUBLIC_BASE_URL",
}
REQUIRED_PROVISION_SETTINGS: frozenset[str] = frozenset(
    variable_name(ProvisionSettings, field)
    for field in ProvisionSettings.model_fields
    if field not in PostgresTlsSettings.model_fields  # plaintext is fine inside compose
) - {"BINOME_LOG_LEVEL"}


def required_settings(service: str) -> frozenset[str]:
    """Environment variables a service cannot start without."""
    if service == "notifications":
        return REQUIRED_NOTIFICATIONS_SETTINGS
    return REQUIRED_SERVICE_SETTINGS


def load_documents(path: Path) -> list[Manifest]:
    """Every non-empty YAML document of a file, each required to be a mapping."""
    with path.open(encoding="utf-8") as stream:
        documents = [document for document in yaml.safe_load_all(stream) if document]
    for document in documents:
        assert isinstance(document, dict), f"{path}: a document is not a mapping"
    return documents


def load_compose() -> Manifest:
    """docker-compose.yml as a mapping (anchors and merge keys resolved by PyYAML)."""
    (document,) = load_documents(COMPOSE_FILE)
    return document


@dataclass(frozen=True)
class KustomizeTree:
    """The files one kustomization reaches through resources, components and patches."""

    manifests: tuple[tuple[Path, Manifest], ...]
    kustomizations: tuple[tuple[Path, Manifest], ...]
    patches: tuple[tuple[Path, Manifest], ...]
    generator_files: tuple[Path, ...]

    def objects(self, kind: str) -> list[Manifest]:
        """Resources (not patches) of one kind, in the order they were reached."""
        return [manifest for _, manifest in self.manifests if manifest.get("kind") == kind]

    def one(self, kind: str, name: str) -> Manifest:
        """The single resource of this kind and name; fails when absent or duplicated."""
        matches = [item for item in self.objects(kind) if item["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name!r}, found {len(matches)}"
        return matches[0]

    def referenced_files(self) -> set[Path]:
        """Every file the tree reads, kustomization files included."""
        groups = (self.manifests, self.kustomizations, self.patches)
        files = {path for group in groups for path, _ in group}
        return files | set(self.generator_files)


def _kustomization_file(directory: Path) -> Path:
    path = directory / "kustomization.yaml"
    assert path.is_file(), f"{directory} has no kustomization.yaml"
    return path


def _walk(
    directory: Path,
    manifests: list[tuple[Path, Manifest]],
    kustomizations: list[tuple[Path, Manifest]],
    patches: list[tuple[Path, Manifest]],
    generator_files: list[Path],
) -> None:
    kustomization_path = _kustomization_file(directory)
    (kustomization,) = load_documents(kustomization_path)
    kustomizations.append((kustomization_path, kustomization))
    entries = [*kustomization.get("resources", []), *kustomization.get("components", [])]
    for entry in entries:
        target = (directory / entry).resolve()
        assert target.exists(), f"{kustomization_path} references missing {entry}"
        if target.is_dir():
            _walk(target, manifests, kustomizations, patches, generator_files)
        else:
            manifests.extend((target, document) for document in load_documents(target))
    for patch in kustomization.get("patches", []):
        if "path" in patch:
            patch_path = (directory / patch["path"]).resolve()
            assert patch_path.is_file(), f"{kustomization_path} patches missing {patch['path']}"
            patches.extend((patch_path, document) for document in load_documents(patch_path))
    for generator in kustomization.get("configMapGenerator", []):
        for file_entry in generator.get("files", []):
            generated_from = (directory / str(file_entry).split("=")[-1]).resolve()
            assert generated_from.is_file(), f"{kustomization_path} generates from missing file"
            generator_files.append(generated_from)


def load_kustomize_tree(directory: Path) -> KustomizeTree:
    """Follow a kustomization's resources/components recursively; referenced files must exist."""
    manifests: list[tuple[Path, Manifest]] = []
    kustomizations: list[tuple[Path, Manifest]] = []
    patches: list[tuple[Path, Manifest]] = []
    generator_files: list[Path] = []
    _walk(directory.resolve(), manifests, kustomizations, patches, generator_files)
    return KustomizeTree(
        manifests=tuple(manifests),
        kustomizations=tuple(kustomizations),
        patches=tuple(patches),
        generator_files=tuple(generator_files),
    )


def pod_spec(workload: Manifest) -> Manifest:
    """The pod spec of a Deployment or a Job."""
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def all_containers(workload: Manifest) -> Iterator[Manifest]:
    """Init containers then main containers of a workload."""
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def environment_names(container: Manifest, tree: KustomizeTree) -> set[str]:
    """Variables a container receives: env entries plus the keys of its envFrom sources."""
    names = {variable["name"] for variable in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            config_map = tree.one("ConfigMap", source["configMapRef"]["name"])
            names |= set(config_map.get("data", {}))
        elif "secretRef" in source:
            secret = tree.one("Secret", source["secretRef"]["name"])
            names |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
        else:
            raise AssertionError(f"unexpected envFrom source {source}")
    return names


def environment_value(container: Manifest, name: str) -> str:
    """The literal value of one env entry of a container."""
    values = [
        variable["value"] for variable in container.get("env", []) if variable["name"] == name
    ]
    assert len(values) == 1, f"{container['name']} sets {name} {len(values)} times"
    value: str = values[0]
    return value


def _missing(message: str) -> None:
    """Skipped on a workstation without the tool, but a failure under CI (``CI=true``): a
    render test that silently skips in CI would let a broken overlay through."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}, and CI must run the deployment tests")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of a command-line tool the deployment tests need."""
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed")
    assert path is not None
    return path


def kustomize_command() -> list[str]:
    """``kubectl kustomize`` (kustomize is built into kubectl), else a standalone
    ``kustomize build`` (``go install sigs.k8s.io/kustomize/kustomize/v5``)."""
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    _missing("neither kubectl nor kustomize is installed")
    raise AssertionError("unreachable")


@cache
def _rendered(overlay: str) -> tuple[Manifest, ...]:
    result = subprocess.run(
        [*kustomize_command(), str(DEPLOY_DIR / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def render(overlay: str) -> tuple[Manifest, ...]:
    """What kustomize renders for ``deploy/<overlay>``."""
    return _rendered(overlay)


def of_kind(documents: tuple[Manifest, ...], kind: str) -> dict[str, Any]:
    """The rendered objects of one kind, by name."""
    return {item["metadata"]["name"]: item for item in documents if item["kind"] == kind}
