"""Kafka and Postgres provisioned as code: generated, valid, and wired to the settings.

The Strimzi and CloudNativePG resources are generated from the catalogue (stale files fail
here like stale docs); every rendered object is validated against the Kubernetes schemas and
every custom resource against its CRD's schema; and the production overlay's containers,
given the Secrets it mounts, start under the production guard.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import trustme

from binome_devstack.generators.deploy_manifests import (
    SECRETS_ROOT,
    generated_manifests,
    kafka_user,
    main,
)
from binome_devstack.generators.generated_files import stale_files
from binome_devstack.kafka_acls import platform_principals
from binome_devstack.local_action_keys import new_action_key, private_pem
from binome_devstack.service_definitions import service_definitions
from binome_notifications.bootstrap import NotificationsSettings
from binome_pairing.bootstrap import PairingSettings
from binome_sessions.bootstrap import SessionsSettings
from binome_shared.contracts.acls import platform_acls, principal_name
from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.db.provision import ServiceDatabase
from binome_shared.runtime.environment import FILE_SUFFIX, unknown_variables
from binome_shared.runtime.production_guard import production_problems
from binome_shared.runtime.settings import ServiceSettings

from .deploy_files import DEPLOY_DIR, SERVICE_PORTS, Manifest, of_kind, render, require_tool

pytestmark = pytest.mark.unit

OVERLAYS = ["base", "overlays/production"]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
"""The oldest Kubernetes CloudNativePG 1.26 supports, and the newest schemas packaged."""
CUSTOM_KINDS = {"KafkaTopic", "KafkaUser", "Cluster", "Database"}
CRD_VALIDATION = Path(__file__).parent / "crd_validation"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "pairing": PairingSettings,
    "sessions": SessionsSettings,
    "notifications": NotificationsSettings,
}


def test_generated_manifests_are_up_to_date() -> None:
    documents = generated_manifests(service_definitions())
    assert stale_files(documents, DEPLOY_DIR) == [], "run `binome-manifests generate`"


def test_check_fails_on_a_stale_manifest_and_generate_repairs_it(tmp_path: Path) -> None:
    assert main(["generate", "--deploy-dir", str(tmp_path)]) == 0
    assert main(["check", "--deploy-dir", str(tmp_path)]) == 0
    users = tmp_path / "components/strimzi/generated/kafka-users.yaml"
    users.write_text(users.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    assert main(["check", "--deploy-dir", str(tmp_path)]) == 1
    assert main(["generate", "--deploy-dir", str(tmp_path)]) == 0
    assert main(["check", "--deploy-dir", str(tmp_path)]) == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_object_is_valid_kubernetes(overlay: str, version: str) -> None:
    checked = 0
    for item in render(overlay):
        if item["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(item, version, strict=True)
        checked += 1
    assert checked > 20


def _validate_custom_resources(resources: list[Manifest]) -> list[dict[str, Any]]:
    npm = require_tool("npm")
    node = require_tool("node")
    if not (CRD_VALIDATION / "node_modules").is_dir():
        # Pinned by package-lock.json (with integrity hashes); installed once per checkout.
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=CRD_VALIDATION,
            check=True,
            capture_output=True,
            timeout=600,
        )
    result = subprocess.run(
        [node, "validate.mjs"],
        cwd=CRD_VALIDATION,
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    problems: list[dict[str, Any]] = json.loads(result.stdout)
    return problems


def test_custom_resources_match_their_crd_schemas() -> None:
    resources = [item for item in render("overlays/production") if item["kind"] in CUSTOM_KINDS]
    assert {item["kind"] for item in resources} == CUSTOM_KINDS
    assert _validate_custom_resources(resources) == []


def test_the_crd_validation_can_fail() -> None:
    (principal, *_) = platform_acls(service_definitions(), ALL_TOPICS)
    broken = kafka_user(principal)
    broken["spec"]["authorization"]["acls"][0]["operations"] = ["Read", "Steal"]
    broken["spec"]["authentication"]["type"] = "password-in-clear"
    (problem,) = _validate_custom_resources([broken])
    assert problem["name"] == principal.principal
    assert "must be equal to one of the allowed values" in problem["error"]


def test_production_topics_and_users_are_exactly_the_catalogue() -> None:
    documents = render("overlays/production")
    topics = of_kind(documents, "KafkaTopic")
    expected = {t.name for t in ALL_TOPICS} | {t.dead_letter_name() for t in ALL_TOPICS}
    assert set(topics) == expected
    for topic in topics.values():
        assert topic["spec"]["replicas"] >= 3
        assert int(topic["spec"]["config"]["min.insync.replicas"]) >= 2
        assert "delete" in topic["spec"]["config"]["cleanup.policy"]
    users = of_kind(documents, "KafkaUser")
    principals = platform_principals()
    assert {name: user["spec"] for name, user in users.items()} == {
        principal.principal: kafka_user(principal)["spec"] for principal in principals
    }


def test_cloudnative_pg_has_one_role_and_one_schema_per_service() -> None:
    documents = render("overlays/production")
    (cluster,) = of_kind(documents, "Cluster").values()
    (database,) = of_kind(documents, "Database").values()
    owners = [ServiceDatabase(service) for service in SERVICE_PORTS]
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {owner.role for owner in owners}
    for role in roles.values():
        assert role["login"] is True
        assert role["superuser"] is False
        assert role["createdb"] is False
        assert role["createrole"] is False
    assert {(s["name"], s["owner"]) for s in database["spec"]["schemas"]} == {
        (owner.schema, owner.role) for owner in owners
    }
    assert cluster["spec"]["enableSuperuserAccess"] is False
    assert "Job" not in {item["kind"] for item in documents}


def _container_environment(container: Manifest, documents: tuple[Manifest, ...]) -> dict[str, str]:
    """What a container sees: its ConfigMaps, then its own env (Secrets are not rendered)."""
    config_maps = of_kind(documents, "ConfigMap")
    environment: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment |= config_maps[source["configMapRef"]["name"]]["data"]
    environment |= {variable["name"]: variable["value"] for variable in container.get("env", [])}
    return {name: value for name, value in environment.items() if name.startswith("BINOME_")}


def _mounted_secret_files(pod: Manifest, container: Manifest) -> dict[str, tuple[str, str]]:
    """Path in the container → (Secret, key) for every single-key Secret volume mounted."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    files: dict[str, tuple[str, str]] = {}
    for mount in container.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        for item in secret["items"]:
            files[f"{mount['mountPath']}/{item['path']}"] = (secret["secretName"], item["key"])
    return files


def _secret_content(secret: str, key: str, authority: trustme.CA) -> str:
    if key == "ca.crt":
        return authority.cert_pem.bytes().decode()
    if key == "signing-key.pem":
        return private_pem(new_action_key())
    return f"generated-{secret}-{key}-Qx81"


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_production_containers_find_their_secrets_and_pass_the_production_guard(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = render("overlays/production")
    pod = of_kind(documents, "Deployment")[service]["spec"]["template"]["spec"]
    authority = trustme.CA()
    settings_class = SETTINGS[service]
    for container in [*pod["initContainers"], *pod["containers"]]:
        environment = _container_environment(container, documents)
        mounted = _mounted_secret_files(pod, container)
        for name, path in list(environment.items()):
            if (
                name.endswith(FILE_SUFFIX)
                or name.endswith("_CA_FILE")
                or name.endswith("_ROOT_CERT_FILE")
            ):
                assert path in mounted, f"{container['name']}: {name}={path} is not mounted"
                secret, key = mounted[path]
                local = tmp_path / secret / key
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_text(_secret_content(secret, key, authority), encoding="utf-8")
                environment[name] = str(local)
        assert all(path.startswith(SECRETS_ROOT) for path in mounted)
        assert unknown_variables(environment, settings_class) == []
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings = settings_class()
        assert settings.environment == "production"
        assert settings.kafka_sasl_username == principal_name(service)
        assert mounted[f"{SECRETS_ROOT}/kafka/password"] == (principal_name(service), "password")
        assert production_problems(settings) == [], container["name"]
        for name in environment:
            monkeypatch.delenv(name)
