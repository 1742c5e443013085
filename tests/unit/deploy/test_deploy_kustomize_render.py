"""What `kubectl kustomize` actually renders (skipped without kubectl, except under CI)."""

from __future__ import annotations

import pytest

from .deploy_files import SERVICE_PORTS, of_kind, render

pytestmark = pytest.mark.unit

CLUSTER_SCOPED = {"Namespace"}


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_every_object_lands_in_the_binome_namespace(overlay: str) -> None:
    for item in render(overlay):
        if item["kind"] not in CLUSTER_SCOPED:
            assert item["metadata"]["namespace"] == "binome", item["metadata"]["name"]


@pytest.mark.parametrize(
    ("overlay", "workloads"),
    [
        ("base", [*SERVICE_PORTS, "db-provision"]),
        # CloudNativePG creates the roles and schemas there: no provisioning Job.
        ("overlays/production", list(SERVICE_PORTS)),
    ],
)
def test_binome_image_is_resolved_to_a_registry_reference(
    overlay: str, workloads: list[str]
) -> None:
    for name in workloads:
        kind = "Job" if name == "db-provision" else "Deployment"
        spec = of_kind(render(overlay), kind)[name]["spec"]["template"]["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert container["image"] == "registry.example.com/binome/binome:0.1.0"


def test_base_ships_the_example_secrets_and_no_optional_component() -> None:
    documents = render("base")
    assert len(of_kind(documents, "Secret")) == 4
    assert of_kind(documents, "NetworkPolicy") == {}
    assert "otel-collector" not in of_kind(documents, "Deployment")


def test_production_has_no_example_secret() -> None:
    assert of_kind(render("overlays/production"), "Secret") == {}


def test_production_switches_on_tracing_and_network_policies() -> None:
    documents = render("overlays/production")
    config = of_kind(documents, "ConfigMap")["binome-config"]["data"]
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert "otel-collector" in of_kind(documents, "Deployment")
    assert "default-deny-all" in of_kind(documents, "NetworkPolicy")
    collector = of_kind(documents, "Deployment")["otel-collector"]["spec"]["template"]["spec"]
    (volume,) = collector["volumes"]
    assert volume["configMap"]["name"] in of_kind(documents, "ConfigMap")


def test_production_scales_every_service_to_at_least_two() -> None:
    documents = render("overlays/production")
    assert of_kind(documents, "Deployment")["pairing"]["spec"]["replicas"] == 2
    autoscalers = of_kind(documents, "HorizontalPodAutoscaler")
    assert {name: item["spec"]["minReplicas"] for name, item in autoscalers.items()} == {
        "sessions": 2,
        "notifications": 2,
    }
    for autoscaler in autoscalers.values():
        assert autoscaler["spec"]["metrics"], "the production patch must not drop the metrics"
