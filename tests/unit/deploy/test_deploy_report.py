"""The report server on Kubernetes: hardened like the services, probed on endpoints it has,
and reading Kafka in production as its own read-only principal (rendered by kustomize)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trustme

from binome_devstack.generators.deploy_manifests import SECRETS_ROOT
from binome_devstack.kafka_acls import platform_principals
from binome_devstack.service_definitions import REPORT
from binome_integrations.report.events import REPORT_TOPICS
from binome_integrations.report.server import ReportApp, ReportServerSettings
from binome_shared.contracts.acls import Operation, ResourceType, principal_name
from binome_shared.runtime.http_auth import verifier_from
from binome_shared.runtime.kafka_security import aiokafka_security

from .deploy_files import (
    REPORT_PORT,
    REPORT_SETTINGS,
    Manifest,
    of_kind,
    render,
)

pytestmark = pytest.mark.unit

PRODUCTION = "overlays/production"


def report_pod(overlay: str) -> Manifest:
    pod: Manifest = of_kind(render(overlay), "Deployment")[REPORT]["spec"]["template"]["spec"]
    return pod


def report_container(overlay: str) -> Manifest:
    (container,) = report_pod(overlay)["containers"]
    found: Manifest = container
    return found


@pytest.mark.parametrize("overlay", ["base", PRODUCTION])
def test_the_report_runs_its_server_hardened_like_pairing(overlay: str) -> None:
    deployments = of_kind(render(overlay), "Deployment")
    pairing = deployments["pairing"]["spec"]["template"]["spec"]
    (pairing_container, *_) = pairing["containers"]
    pod, container = report_pod(overlay), report_container(overlay)
    assert container["command"] == ["binome-report", "serve"]
    assert container["image"] == pairing_container["image"]
    assert "initContainers" not in pod, "no database, nothing to migrate"
    assert pod["securityContext"] == pairing["securityContext"]
    assert container["securityContext"] == pairing_container["securityContext"]
    assert pod["automountServiceAccountToken"] is False
    assert container["resources"]["limits"]
    assert container["resources"]["requests"]
    assert container["ports"] == [{"name": "http", "containerPort": REPORT_PORT, "protocol": "TCP"}]
    service = of_kind(render(overlay), "Service")[REPORT]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == REPORT_PORT


async def test_its_probes_ask_endpoints_the_server_answers() -> None:
    container = report_container("base")
    paths = {
        container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert {container[p]["httpGet"]["port"] for p in ("livenessProbe", "readinessProbe")} == {
        "http"
    }
    app = ReportApp(source=_NoReports(), verifier=None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://report"
    ) as client:
        for path in sorted(paths):
            assert (await client.get(path)).status_code == 200, path
        assert (await client.get("/no-such-probe")).status_code == 404


class _NoReports:
    async def report(self, tenant_id: str, programme_id: str) -> None:
        raise AssertionError(f"a probe must not build a report ({tenant_id}/{programme_id})")


def _environment(container: Manifest, overlay: str) -> dict[str, str]:
    """The container's variables as the kubelet sets them (an optional key that is absent
    sets nothing)."""
    config_maps = of_kind(render(overlay), "ConfigMap")
    environment: dict[str, str] = {}
    assert "envFrom" not in container, "only the settings it reads, one by one"
    for variable in container["env"]:
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"]["configMapKeyRef"]
        assert reference["key"] == variable["name"], "a shared setting keeps its name"
        data = config_maps[reference["name"]]["data"]
        if reference["key"] in data:
            environment[variable["name"]] = data[reference["key"]]
        else:
            assert reference.get("optional") is True, reference
    return environment


@pytest.mark.parametrize("overlay", ["base", PRODUCTION])
def test_it_receives_every_shared_setting_it_reads_and_no_other(overlay: str) -> None:
    container = report_container(overlay)
    names = {variable["name"] for variable in container["env"]}
    assert names <= REPORT_SETTINGS
    shared = of_kind(render(overlay), "ConfigMap")["binome-config"]["data"]
    assert set(shared) & REPORT_SETTINGS <= set(_environment(container, overlay))


def test_in_production_it_reads_kafka_as_its_own_principal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pod, container = report_pod(PRODUCTION), report_container(PRODUCTION)
    environment = _environment(container, PRODUCTION)
    volumes = {volume["name"]: volume["secret"] for volume in pod["volumes"] if "secret" in volume}
    mounted = {
        f"{mount['mountPath']}/{item['path']}": (volumes[mount["name"]]["secretName"], item["key"])
        for mount in container["volumeMounts"]
        if mount["name"] in volumes
        for item in volumes[mount["name"]]["items"]
    }
    principal = principal_name(REPORT)
    assert mounted[f"{SECRETS_ROOT}/kafka/password"] == (principal, "password")
    ca_secret, _ = mounted[environment["BINOME_KAFKA_SSL_CA_FILE"]]
    contents = {
        "password": "Vt3-generated-by-strimzi",
        "ca.crt": trustme.CA().cert_pem.bytes().decode(),
    }
    for name in ("BINOME_KAFKA_SASL_PASSWORD_FILE", "BINOME_KAFKA_SSL_CA_FILE"):
        secret, key = mounted[environment[name]]
        local = tmp_path / secret / key
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(contents[key], encoding="utf-8")
        environment[name] = str(local)
    assert ca_secret == "binome-cluster-ca-cert"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = ReportServerSettings()
    security = aiokafka_security(settings)
    assert security["security_protocol"] == "SASL_SSL"
    assert security["sasl_mechanism"] == "SCRAM-SHA-512"
    assert security["sasl_plain_username"] == principal
    assert security["sasl_plain_password"] == contents["password"]
    assert settings.http_auth_jwks_url is not None
    assert settings.http_auth_jwks_url.startswith("https://")
    assert verifier_from(settings) is not None


def test_its_kafka_user_may_read_exactly_the_topics_it_replays() -> None:
    users = of_kind(render(PRODUCTION), "KafkaUser")
    acls = users[principal_name(REPORT)]["spec"]["authorization"]["acls"]
    granted = {
        (acl["resource"]["type"], acl["resource"]["name"]): set(acl["operations"]) for acl in acls
    }
    assert granted == {
        ("topic", topic.full_name()): {"Read", "Describe"} for topic in REPORT_TOPICS
    }
    (report,) = [p for p in platform_principals() if p.principal == principal_name(REPORT)]
    for topic in REPORT_TOPICS:
        assert Operation.WRITE not in report.allowed(ResourceType.TOPIC, topic.full_name())
        dead_letters = report.allowed(ResourceType.TOPIC, topic.dead_letter_name())
        assert dead_letters == frozenset()
    assert all(acl.resource_type is ResourceType.TOPIC for acl in report.acls), "no group"
