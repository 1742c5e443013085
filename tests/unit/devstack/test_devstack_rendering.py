"""Configuration text of the broker and the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from binome_devstack.rendering import (
    include_directive,
    kafka_listener_port,
    postgres_conf_port,
    render_kafka_properties,
    render_pg_hba,
    render_postgres_conf,
)

pytestmark = pytest.mark.unit


def _properties(text: str) -> dict[str, str]:
    rendered: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            rendered[key] = value
    return rendered


def test_kafka_properties_describe_a_single_kraft_node_on_loopback() -> None:
    rendered = _properties(
        render_kafka_properties(port=19092, controller_port=19093, data_dir=Path("/s/kafka/data"))
    )

    assert rendered["process.roles"] == "broker,controller"
    assert rendered["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert rendered["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert rendered["controller.listener.names"] == "CONTROLLER"
    assert rendered["log.dirs"] == "/s/kafka/data"


def test_kafka_internal_topics_fit_one_broker_and_tests_rebalance_at_once() -> None:
    rendered = _properties(
        render_kafka_properties(port=1, controller_port=2, data_dir=Path("/data"))
    )

    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "offsets.topic.num.partitions",
    ):
        assert rendered[key] == "1", key
    assert rendered["group.initial.rebalance.delay.ms"] == "0"
    assert int(rendered["broker.session.timeout.ms"]) >= 4 * int(
        rendered["broker.heartbeat.interval.ms"]
    )
    assert rendered["auto.create.topics.enable"] == "false", "a topic exists only as declared"
    assert "num.partitions" not in rendered


def test_backslashes_in_paths_are_escaped_for_java_properties() -> None:
    rendered = render_kafka_properties(port=1, controller_port=2, data_dir=Path("/a\\b"))

    assert "log.dirs=/a\\\\b" in rendered


def test_the_running_port_is_read_back_from_rendered_files() -> None:
    kafka = render_kafka_properties(port=29092, controller_port=29093, data_dir=Path("/d"))
    postgres = render_postgres_conf(port=25432, socket_dir=Path("/s/run"))

    assert kafka_listener_port(kafka) == 29092
    assert kafka_listener_port(kafka, "CONTROLLER") == 29093
    assert postgres_conf_port(postgres) == 25432
    assert kafka_listener_port("nothing=here\n") is None
    assert postgres_conf_port("") is None


def test_postgres_listens_on_loopback_only_with_room_for_services() -> None:
    conf = render_postgres_conf(port=15432, socket_dir=Path("/it's/run"))

    assert "listen_addresses = '127.0.0.1'" in conf
    assert "max_connections = 200" in conf
    assert "unix_socket_directories = '/it''s/run'" in conf
    assert "fsync" not in conf


def test_pg_hba_asks_every_tcp_client_for_a_scram_password() -> None:
    rows = [line.split() for line in render_pg_hba().splitlines() if not line.startswith("#")]

    assert ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"] in rows
    assert ["host", "all", "all", "::1/128", "scram-sha-256"] in rows
    assert all(row[-1] == "scram-sha-256" for row in rows)
    assert include_directive() == "include_if_exists = 'binome.conf'\n"
