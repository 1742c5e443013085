"""docker-compose.yml: the workstation stack has every piece, wired and checked for health."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from .deploy_files import (
    PROVISION_SETTINGS,
    REQUIRED_PROVISION_SETTINGS,
    SERVICE_PORTS,
    SETTINGS_BY_PROGRAM,
    WRITABLE_TMP,
    load_compose,
    required_settings,
)

pytestmark = pytest.mark.unit

COMPOSE = load_compose()
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = sorted(SERVICE_PORTS)

# Compose interpolates ${NAME:-default}; a container sees the default unless overridden.
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):-(?P<default>[^}]*)\}")


def resolved(value: object) -> str:
    """A compose value as the container sees it with no .env file."""
    return INTERPOLATION.sub(lambda match: match["default"], str(value))


def published_container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(mapping).rsplit(":", 1)[-1].split("/")[0]) for mapping in service["ports"]}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"}
    return " ".join(test[1:])


def kafka_environment() -> dict[str, str]:
    return {name: str(value) for name, value in SERVICES["kafka"]["environment"].items()}


def test_every_service_of_the_stack_is_defined() -> None:
    assert set(SERVICES) == {
        "kafka",
        "postgres",
        "db-provision",
        "mailpit",
        "pairing",
        "sessions",
        "notifications",
        "report",
    }


def test_kafka_runs_single_node_kraft_from_the_apache_image() -> None:
    kafka = SERVICES["kafka"]
    environment = kafka_environment()
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = environment["KAFKA_NODE_ID"]
    controller_port = re.search(r"CONTROLLER://[^,]*:(\d+)", environment["KAFKA_LISTENERS"])
    assert controller_port is not None
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:{controller_port[1]}"
    assert environment["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    protocol_map = dict(
        pair.split(":") for pair in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    listener_names = {
        listener.split("://")[0] for listener in environment["KAFKA_LISTENERS"].split(",")
    }
    assert listener_names <= set(protocol_map)


def test_kafka_internal_topics_fit_a_single_broker() -> None:
    environment = kafka_environment()
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    ):
        assert environment[name] == "1", name


def test_kafka_cluster_id_is_a_valid_kraft_uuid() -> None:
    cluster_id = kafka_environment()["CLUSTER_ID"]
    assert len(cluster_id) == 22
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_kafka_advertises_the_address_the_services_bootstrap_from() -> None:
    advertised = kafka_environment()["KAFKA_ADVERTISED_LISTENERS"].split(",")
    advertised_addresses = {listener.split("://")[1] for listener in advertised}
    for name in APP_SERVICES:
        bootstrap = SERVICES[name]["environment"]["BINOME_KAFKA_BOOTSTRAP_SERVERS"]
        assert bootstrap in advertised_addresses


def test_kafka_healthcheck_asks_the_broker_itself() -> None:
    command = healthcheck_command(SERVICES["kafka"])
    assert re.search(r"/opt/kafka/bin/kafka-(broker-api-versions|topics)\.sh", command)
    assert "--bootstrap-server" in command


def test_kafka_data_is_kept_in_a_named_volume() -> None:
    log_dirs = kafka_environment()["KAFKA_LOG_DIRS"]
    assert f"kafka-data:{log_dirs}" in SERVICES["kafka"]["volumes"]
    assert "kafka-data" in COMPOSE["volumes"]


def test_postgres_is_version_15_with_a_named_volume_and_pg_isready() -> None:
    postgres = SERVICES["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres-data" in COMPOSE["volumes"]
    assert "pg_isready" in healthcheck_command(postgres)
    assert postgres["environment"]["POSTGRES_DB"] == "binome"


def test_db_provision_runs_once_after_postgres_is_healthy() -> None:
    provision = SERVICES["db-provision"]
    assert provision["command"] == ["binome-db", "provision"]
    assert provision["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert provision["restart"] == "no"
    environment = set(provision["environment"])
    assert REQUIRED_PROVISION_SETTINGS <= environment <= PROVISION_SETTINGS


def test_db_provision_admin_dsn_uses_the_postgres_superuser_password() -> None:
    dsn = urlsplit(resolved(SERVICES["db-provision"]["environment"]["BINOME_PG_ADMIN_DSN"]))
    postgres_environment = SERVICES["postgres"]["environment"]
    assert dsn.hostname == "postgres"
    assert dsn.username == postgres_environment["POSTGRES_USER"]
    assert dsn.password == resolved(postgres_environment["POSTGRES_PASSWORD"])
    assert dsn.path == "/binome"


def test_mailpit_offers_smtp_and_its_web_ui_to_the_host() -> None:
    mailpit = SERVICES["mailpit"]
    assert str(mailpit["image"]).startswith("axllent/mailpit:")
    assert published_container_ports(mailpit) == {1025, 8025}
    assert "readyz" in healthcheck_command(mailpit)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_is_built_from_the_dockerfile_and_runs_its_command(name: str) -> None:
    service = SERVICES[name]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert service["command"] == [f"binome-{name}", "serve"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_listens_on_its_port(name: str) -> None:
    service = SERVICES[name]
    port = SERVICE_PORTS[name]
    assert service["environment"]["BINOME_HTTP_PORT"] == str(port)
    assert service["environment"]["BINOME_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - in a container
    assert published_container_ports(service) == {port}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_healthcheck_polls_readiness_with_python(name: str) -> None:
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request" in test[3]
    assert f"http://127.0.0.1:{SERVICE_PORTS[name]}/ready" in test[3]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_starts_after_its_dependencies(name: str) -> None:
    expected = {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "db-provision": {"condition": "service_completed_successfully"},
    }
    if name == "notifications":
        expected["mailpit"] = {"condition": "service_healthy"}
    assert SERVICES[name]["depends_on"] == expected


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_environment_uses_only_known_settings(name: str) -> None:
    environment = set(SERVICES[name]["environment"])
    assert environment <= SETTINGS_BY_PROGRAM[f"binome-{name}"]
    assert required_settings(name) <= environment


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_connects_with_its_own_role_and_the_provisioned_password(name: str) -> None:
    dsn = urlsplit(resolved(SERVICES[name]["environment"]["BINOME_DATABASE_URL"]))
    provision_environment = SERVICES["db-provision"]["environment"]
    assert dsn.username == f"binome_{name}"
    assert dsn.password == resolved(provision_environment[f"BINOME_{name.upper()}_DB_PASSWORD"])
    assert (dsn.hostname, dsn.port, dsn.path) == ("postgres", 5432, "/binome")


@pytest.mark.parametrize("name", [*APP_SERVICES, "db-provision"])
def test_binome_containers_are_hardened_like_the_pods(name: str) -> None:
    service = SERVICES[name]
    assert service["image"] == "binome:local"
    assert service["read_only"] is True
    assert service["tmpfs"] == [WRITABLE_TMP]
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_gets_the_grace_period_of_a_graceful_shutdown(name: str) -> None:
    assert SERVICES[name]["stop_grace_period"] == "30s"


def test_services_migrate_on_start_in_compose() -> None:
    for name in APP_SERVICES:
        assert SERVICES[name]["environment"]["BINOME_MIGRATE_ON_START"] == "true"


def test_notifications_send_mail_to_mailpit() -> None:
    environment = SERVICES["notifications"]["environment"]
    assert environment["BINOME_SMTP_HOST"] == "mailpit"
    assert int(environment["BINOME_SMTP_PORT"]) in published_container_ports(SERVICES["mailpit"])
    assert environment["BINOME_SMTP_STARTTLS"] == "false"


def test_only_loopback_addresses_are_published_to_the_host() -> None:
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_topics_have_one_copy_on_the_single_compose_broker(name: str) -> None:
    # The production defaults (3 copies, 2 in sync) cannot be met by compose's one broker.
    environment = SERVICES[name]["environment"]
    assert environment["BINOME_TOPIC_REPLICATION_FACTOR"] == "1"
    assert environment["BINOME_TOPIC_MIN_INSYNC_REPLICAS"] == "1"
