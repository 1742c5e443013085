"""What production exposes (rendered by kustomize): each service's /actions on a host of its
own over TLS, the report's bearer-token endpoints, nothing else; the e-mails' links point at
exactly those hosts; the network policies let the ingress controller in and keep the report
server to Kafka."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from binome_devstack.service_definitions import REPORT
from binome_notifications.bootstrap import NotificationsSettings
from binome_shared.runtime import action_pages
from binome_shared.runtime.production_guard import action_link_base_problems

from .deploy_files import SERVICE_PORTS, Manifest, of_kind, render

pytestmark = pytest.mark.unit

PRODUCTION = "overlays/production"
INGRESS_NAMESPACE = "ingress-nginx"
REPORT_PATH = ("/programmes", "Prefix")
"""The report server answers only GET /programmes/{id}/report[.json] there, bearer-token
protected; its /health and /ready are not under it."""
NEVER_PUBLIC = ["/personal-data", "/metrics", "/deliveries", "/admin/clock", "/health", "/ready"]


def ingresses() -> dict[str, Manifest]:
    return of_kind(render(PRODUCTION), "Ingress")


def routes() -> Iterator[tuple[str, str, str, str]]:
    """(host, path, path type, backend service) of every rule of every Ingress."""
    for ingress in ingresses().values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["port"] == {"name": "http"}
                yield rule["host"], path["path"], path["pathType"], backend["name"]


def public_hosts() -> dict[str, str]:
    """The public host of each backend service."""
    hosts: dict[str, set[str]] = {}
    for host, _, _, service in routes():
        hosts.setdefault(service, set()).add(host)
    assert all(len(names) == 1 for names in hosts.values()), hosts
    return {service: names.pop() for service, names in hosts.items()}


def test_each_service_exposes_only_its_action_pages_and_the_report_its_report() -> None:
    exposed = {(service, path, kind) for _, path, kind, service in routes()}
    assert exposed == {
        *((service, action_pages.PATH, "Exact") for service in SERVICE_PORTS),
        (REPORT, *REPORT_PATH),
    }


@pytest.mark.parametrize("private", NEVER_PUBLIC)
def test_no_private_endpoint_is_routed(private: str) -> None:
    for _, path, kind, _ in routes():
        routed = private == path or (kind == "Prefix" and private.startswith(path.rstrip("/")))
        assert not routed, (private, path)


def test_every_host_is_its_own_and_served_over_tls() -> None:
    hosts = public_hosts()
    assert set(hosts) == {*SERVICE_PORTS, REPORT}
    assert len(set(hosts.values())) == len(hosts), "one host per service: same /actions path"
    for ingress in ingresses().values():
        rule_hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
        assert rule_hosts <= tls_hosts, ingress["metadata"]["name"]
        assert all(entry["secretName"] for entry in ingress["spec"]["tls"])


def test_the_e_mails_link_to_the_ingress_hosts_over_https() -> None:
    config = of_kind(render(PRODUCTION), "ConfigMap")["binome-notifications-config"]["data"]
    bases: dict[str, str] = json.loads(config["BINOME_ACTION_LINK_BASE_URLS"])
    hosts = public_hosts()
    assert bases == {owner: f"https://{hosts[owner]}" for owner in sorted(SERVICE_PORTS)}
    owners = NotificationsSettings.action_link_owners
    assert action_link_base_problems(owners, bases) == []


def _policies_selecting(name: str) -> list[Manifest]:
    """The rendered NetworkPolicies whose pod selector selects pods named ``name``."""
    selected = []
    for policy in of_kind(render(PRODUCTION), "NetworkPolicy").values():
        selector = policy["spec"]["podSelector"]
        labels = selector.get("matchLabels", {})
        if labels and labels.get("app.kubernetes.io/name") != name:
            continue
        if any(
            name not in expression["values"] for expression in selector.get("matchExpressions", [])
        ):
            continue
        selected.append(policy)
    return selected


def _peers(policy: Manifest, direction: str) -> Iterator[tuple[str, object]]:
    """(namespace name or CIDR, port) of every peer of every rule of ``direction``."""
    peer_key = "from" if direction == "ingress" else "to"
    for rule in policy["spec"].get(direction, []):
        for peer in rule.get(peer_key, []):
            if "ipBlock" in peer:
                where = peer["ipBlock"]["cidr"]
            else:
                labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
                where = labels.get("kubernetes.io/metadata.name", "(this namespace)")
            for port in rule.get("ports", []):
                yield where, port["port"]


@pytest.mark.parametrize("name", [*SERVICE_PORTS, REPORT])
def test_the_ingress_controller_reaches_the_http_port(name: str) -> None:
    entries = {entry for policy in _policies_selecting(name) for entry in _peers(policy, "ingress")}
    assert (INGRESS_NAMESPACE, "http") in entries


def test_the_report_server_reaches_kafka_and_no_database() -> None:
    egress = {entry for policy in _policies_selecting(REPORT) for entry in _peers(policy, "egress")}
    assert {("kafka", 9092), ("kafka", 9093)} <= egress
    assert not any(port == 5432 for _, port in egress), egress
    assert not any(where == "postgres" for where, _ in egress), egress
    ingress = {
        entry for policy in _policies_selecting(REPORT) for entry in _peers(policy, "ingress")
    }
    assert ingress == {(INGRESS_NAMESPACE, "http")}, "no /metrics to scrape, no other caller"
