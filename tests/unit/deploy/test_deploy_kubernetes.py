"""Kubernetes manifests: probes, resources, security, migrations and wiring of every workload."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from .deploy_files import (
    ALL_SETTINGS,
    DEPLOY_DIR,
    IMAGE_UID,
    REQUIRED_PROVISION_SETTINGS,
    SERVICE_PORTS,
    SETTINGS_BY_PROGRAM,
    WRITABLE_TMP,
    KustomizeTree,
    Manifest,
    all_containers,
    environment_names,
    environment_value,
    load_kustomize_tree,
    pod_spec,
    required_settings,
)

pytestmark = pytest.mark.unit

BASE = load_kustomize_tree(DEPLOY_DIR / "base")
PRODUCTION = load_kustomize_tree(DEPLOY_DIR / "overlays" / "production")
NETWORK_POLICIES = load_kustomize_tree(DEPLOY_DIR / "components" / "network-policies")
OTEL_COLLECTOR = load_kustomize_tree(DEPLOY_DIR / "components" / "otel-collector")
STRIMZI = load_kustomize_tree(DEPLOY_DIR / "components" / "strimzi")
CLOUDNATIVE_PG = load_kustomize_tree(DEPLOY_DIR / "components" / "cloudnative-pg")
SERVICES = sorted(SERVICE_PORTS)
AUTOSCALED = ["notifications", "sessions"]
EXAMPLE_SECRET_ANNOTATION = "binome.example.org/example-secret"


def deployment(name: str) -> Manifest:
    return BASE.one("Deployment", name)


def main_container(name: str) -> Manifest:
    (container,) = [c for c in pod_spec(deployment(name))["containers"] if c["name"] == name]
    found: Manifest = container
    return found


def workloads(tree: KustomizeTree) -> list[Manifest]:
    return tree.objects("Deployment") + tree.objects("Job")


def every_workload() -> list[Manifest]:
    return workloads(PRODUCTION)


def workload_id(workload: Manifest) -> str:
    return f"{workload['kind']}/{workload['metadata']['name']}"


def assert_http_probe(probe: Manifest, path: str, port: int, container: Manifest) -> None:
    named_ports = {entry["name"]: entry["containerPort"] for entry in container["ports"]}
    probe_port = probe["httpGet"]["port"]
    assert probe["httpGet"]["path"] == path
    assert named_ports.get(probe_port, probe_port) == port


def test_namespace_enforces_the_restricted_pod_security_standard() -> None:
    namespace = BASE.one("Namespace", "binome")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for path, kustomization in BASE.kustomizations[:1] + PRODUCTION.kustomizations[:1]:
        assert kustomization["namespace"] == "binome", path


def test_every_manifest_under_deploy_is_used_by_a_kustomization() -> None:
    used = BASE.referenced_files() | PRODUCTION.referenced_files()
    on_disk = {path.resolve() for path in DEPLOY_DIR.rglob("*.yaml")}
    assert on_disk - used == set()


def test_components_are_kustomize_components_enabled_in_production() -> None:
    for tree in (NETWORK_POLICIES, OTEL_COLLECTOR, STRIMZI, CLOUDNATIVE_PG):
        assert tree.kustomizations[0][1]["kind"] == "Component"
    (production_path, production) = PRODUCTION.kustomizations[0]
    components = {(production_path.parent / entry).resolve() for entry in production["components"]}
    assert components == {
        (DEPLOY_DIR / "components" / name).resolve()
        for name in ("network-policies", "otel-collector", "strimzi", "cloudnative-pg")
    }


@pytest.mark.parametrize("name", SERVICES)
def test_service_runs_its_command_on_its_port(name: str) -> None:
    container = main_container(name)
    assert container["command"] == [f"binome-{name}", "serve"]
    assert container["ports"] == [
        {"name": "http", "containerPort": SERVICE_PORTS[name], "protocol": "TCP"}
    ]
    assert environment_value(container, "BINOME_HTTP_PORT") == str(SERVICE_PORTS[name])
    assert environment_value(container, "OTEL_SERVICE_NAME") == f"binome-{name}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_probes_health_and_readiness(name: str) -> None:
    container = main_container(name)
    port = SERVICE_PORTS[name]
    assert_http_probe(container["livenessProbe"], "/health", port, container)
    assert_http_probe(container["readinessProbe"], "/ready", port, container)
    assert_http_probe(container["startupProbe"], "/health", port, container)
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30


@pytest.mark.parametrize("name", SERVICES)
def test_service_migrates_in_an_init_container_not_on_start(name: str) -> None:
    spec = pod_spec(deployment(name))
    (migrate,) = spec["initContainers"]
    main = main_container(name)
    assert migrate["command"] == [f"binome-{name}", "migrate"]
    assert migrate["image"] == main["image"]
    assert migrate["envFrom"] == main["envFrom"]
    assert environment_value(main, "BINOME_MIGRATE_ON_START") == "false"


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_scraped_by_prometheus(name: str) -> None:
    annotations = deployment(name)["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(SERVICE_PORTS[name]),
        "prometheus.io/path": "/metrics",
    }


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_a_matching_service_and_service_account(name: str) -> None:
    workload = deployment(name)
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = workload["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    service = BASE.one("Service", name)
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": "http", "port": SERVICE_PORTS[name], "targetPort": "http", "protocol": "TCP"}
    ]
    spec = pod_spec(workload)
    account = BASE.one("ServiceAccount", spec["serviceAccountName"])
    assert account["metadata"]["name"] == name
    assert account["automountServiceAccountToken"] is False
    assert spec["automountServiceAccountToken"] is False


@pytest.mark.parametrize("name", SERVICES)
def test_service_shuts_down_gracefully_and_rolls_without_downtime(name: str) -> None:
    workload = deployment(name)
    assert pod_spec(workload)["terminationGracePeriodSeconds"] == 30
    assert workload["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_a_disruption_budget_over_its_pods(name: str) -> None:
    budget = BASE.one("PodDisruptionBudget", name)
    pod_labels = deployment(name)["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("name", AUTOSCALED)
def test_consumers_scale_on_cpu_and_leave_replicas_to_the_autoscaler(name: str) -> None:
    autoscaler = BASE.one("HorizontalPodAutoscaler", name)
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    (metric,) = autoscaler["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "replicas" not in deployment(name)["spec"]
    container = main_container(name)
    assert "cpu" in container["resources"]["requests"]


def test_pairing_is_not_autoscaled() -> None:
    autoscaled = {
        item["spec"]["scaleTargetRef"]["name"] for item in BASE.objects("HorizontalPodAutoscaler")
    }
    assert autoscaled == set(AUTOSCALED)
    assert deployment("pairing")["spec"]["replicas"] == 1


@pytest.mark.parametrize("workload", every_workload(), ids=workload_id)
def test_every_container_has_requests_and_limits(workload: Manifest) -> None:
    for container in all_containers(workload):
        resources = container["resources"]
        for section in ("requests", "limits"):
            assert set(resources[section]) == {"cpu", "memory"}, container["name"]


@pytest.mark.parametrize("workload", every_workload(), ids=workload_id)
def test_every_pod_runs_as_the_image_user_under_runtime_default_seccomp(
    workload: Manifest,
) -> None:
    security = pod_spec(workload)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == IMAGE_UID
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod_spec(workload)["automountServiceAccountToken"] is False


@pytest.mark.parametrize("workload", every_workload(), ids=workload_id)
def test_every_container_is_locked_down(workload: Manifest) -> None:
    for container in all_containers(workload):
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, container["name"]
        assert security["allowPrivilegeEscalation"] is False, container["name"]
        assert security["runAsNonRoot"] is True, container["name"]
        assert security["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert security.get("privileged", False) is False, container["name"]


@pytest.mark.parametrize("workload", workloads(BASE), ids=workload_id)
def test_binome_containers_get_a_writable_tmp(workload: Manifest) -> None:
    volumes = {volume["name"]: volume for volume in pod_spec(workload)["volumes"]}
    for container in all_containers(workload):
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == WRITABLE_TMP]
        assert "emptyDir" in volumes[mount["name"]], container["name"]


@pytest.mark.parametrize("workload", workloads(BASE), ids=workload_id)
def test_binome_containers_use_the_one_image(workload: Manifest) -> None:
    images = {container["image"] for container in all_containers(workload)}
    assert images == {"binome"}
    (image,) = BASE.kustomizations[0][1]["images"]
    assert image["name"] == "binome"


@pytest.mark.parametrize("workload", workloads(BASE), ids=workload_id)
def test_binome_containers_receive_only_known_settings(workload: Manifest) -> None:
    for container in all_containers(workload):
        program = container["command"][0]
        names = environment_names(container, BASE)
        assert names <= SETTINGS_BY_PROGRAM[program], container["name"]


@pytest.mark.parametrize("name", SERVICES)
def test_services_receive_every_required_setting(name: str) -> None:
    names = environment_names(main_container(name), BASE)
    assert required_settings(name) | {"BINOME_MIGRATE_ON_START"} <= names


def test_config_maps_hold_only_known_settings() -> None:
    for tree in (BASE, PRODUCTION):
        for config_map in tree.objects("ConfigMap"):
            if config_map["metadata"]["name"].startswith("binome-"):
                assert set(config_map["data"]) <= ALL_SETTINGS
    for _, patch in PRODUCTION.patches:
        if patch["kind"] == "ConfigMap":
            assert set(patch["data"]) <= ALL_SETTINGS


def test_config_maps_hold_no_secret() -> None:
    for config_map in BASE.objects("ConfigMap"):
        for key, value in config_map["data"].items():
            assert "PASSWORD" not in key
            assert "DSN" not in key
            assert "DATABASE_URL" not in key
            assert "@" not in urlsplit(str(value)).netloc, key


def test_secrets_are_marked_examples_with_placeholder_values() -> None:
    secrets = BASE.objects("Secret")
    assert {secret["metadata"]["name"] for secret in secrets} == {
        "binome-db-provision",
        "binome-pairing",
        "binome-sessions",
        "binome-notifications",
    }
    for secret in secrets:
        assert secret["metadata"]["annotations"][EXAMPLE_SECRET_ANNOTATION] == "true"
        assert "data" not in secret
        for key, value in secret["stringData"].items():
            assert "REPLACE-ME" in value, key


@pytest.mark.parametrize("name", SERVICES)
def test_service_secret_dsn_uses_its_own_role_and_provisioned_password(name: str) -> None:
    dsn = urlsplit(BASE.one("Secret", f"binome-{name}")["stringData"]["BINOME_DATABASE_URL"])
    provision = BASE.one("Secret", "binome-db-provision")["stringData"]
    admin_dsn = urlsplit(provision["BINOME_PG_ADMIN_DSN"])
    assert dsn.username == f"binome_{name}"
    assert dsn.password == provision[f"BINOME_{name.upper()}_DB_PASSWORD"]
    assert (dsn.hostname, dsn.port, dsn.path) == (admin_dsn.hostname, admin_dsn.port, "/binome")


def test_production_deletes_exactly_the_example_secrets() -> None:
    production = PRODUCTION.kustomizations[0][1]
    deletions = [
        patch for patch in production["patches"] if "$patch: delete" in patch.get("patch", "")
    ]
    (deletion,) = deletions
    assert deletion["target"] == {
        "kind": "Secret",
        "annotationSelector": f"{EXAMPLE_SECRET_ANNOTATION}=true",
    }


def test_db_provision_job_runs_the_provisioning_command_with_its_secret() -> None:
    job = BASE.one("Job", "db-provision")
    spec = pod_spec(job)
    (container,) = spec["containers"]
    assert container["command"] == ["binome-db", "provision"]
    assert spec["restartPolicy"] in {"OnFailure", "Never"}
    assert container["envFrom"] == [{"secretRef": {"name": "binome-db-provision"}}]
    assert environment_names(container, BASE) >= REQUIRED_PROVISION_SETTINGS
    assert (
        BASE.one("ServiceAccount", spec["serviceAccountName"])["automountServiceAccountToken"]
        is False
    )
    assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_production_runs_several_replicas_of_each_service() -> None:
    production = PRODUCTION.kustomizations[0][1]
    replicas = {entry["name"]: entry["count"] for entry in production["replicas"]}
    assert replicas == {"pairing": 2, "report": 2}
    minimums = {
        patch["metadata"]["name"]: patch["spec"]["minReplicas"]
        for _, patch in PRODUCTION.patches
        if patch["kind"] == "HorizontalPodAutoscaler"
    }
    assert minimums == {"sessions": 2, "notifications": 2}


def network_policy(name: str) -> Manifest:
    return NETWORK_POLICIES.one("NetworkPolicy", name)


def allowed_ports(rules: list[Manifest]) -> set[object]:
    return {port["port"] for rule in rules for port in rule.get("ports", [])}


def test_network_policies_deny_by_default_and_allow_dns() -> None:
    deny = network_policy("default-deny-all")
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    dns = network_policy("allow-dns")
    assert dns["spec"]["podSelector"] == {}
    (rule,) = dns["spec"]["egress"]
    assert {(port["protocol"], port["port"]) for port in rule["ports"]} == {
        ("UDP", 53),
        ("TCP", 53),
    }


def test_network_policies_let_services_reach_kafka_and_postgres() -> None:
    services = network_policy("allow-services-to-kafka-and-postgres")
    (expression,) = services["spec"]["podSelector"]["matchExpressions"]
    assert set(expression["values"]) == set(SERVICES)
    assert {9092, 5432} <= allowed_ports(services["spec"]["egress"])
    provision = network_policy("allow-db-provision-to-postgres")
    assert provision["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "db-provision"
    }
    assert allowed_ports(provision["spec"]["egress"]) == {5432}


def test_network_policies_let_prometheus_scrape_and_notifications_send() -> None:
    scraping = network_policy("allow-metrics-scraping")
    assert allowed_ports(scraping["spec"]["ingress"]) == {"http"}
    outbound = network_policy("allow-notifications-outbound")
    assert outbound["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "notifications"
    }
    assert {587, 443} <= allowed_ports(outbound["spec"]["egress"])


def test_network_policies_select_pods_that_exist() -> None:
    pod_names = {
        workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        for workload in every_workload()
    }
    for policy in NETWORK_POLICIES.objects("NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        selected = set(selector.get("matchLabels", {}).values())
        for expression in selector.get("matchExpressions", []):
            selected |= set(expression["values"])
        assert selected <= pod_names, policy["metadata"]["name"]


def test_otel_component_points_the_services_at_its_collector() -> None:
    (patch,) = [p for _, p in OTEL_COLLECTOR.patches if p["metadata"]["name"] == "binome-config"]
    endpoint = urlsplit(patch["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    service = OTEL_COLLECTOR.one("Service", "otel-collector")
    ports = {port["name"]: port["port"] for port in service["spec"]["ports"]}
    assert endpoint.hostname == service["metadata"]["name"]
    assert endpoint.port == ports["otlp-http"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in BASE.one("ConfigMap", "binome-config")["data"]


def test_otel_collector_receives_otlp_http_and_exports_traces() -> None:
    (config_path,) = OTEL_COLLECTOR.generator_files
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert "memory_limiter" in traces["processors"]
    assert traces["exporters"]
    collector = OTEL_COLLECTOR.one("Deployment", "otel-collector")
    (container,) = pod_spec(collector)["containers"]
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    assert container["livenessProbe"]["httpGet"]["port"] == "health"
