"""The secured and three-node shapes of the local Kafka: properties, ports, layout, ACLs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aiokafka.protocol.admin import CreateAclsRequest_v1

from binome_devstack.errors import StackError
from binome_devstack.kafka_acls import acl_requests, platform_principals
from binome_devstack.kafka_layout import read_layout, record_layout, with_recorded_layout
from binome_devstack.rendering import (
    KafkaNodeShape,
    KafkaSecurityFiles,
    kafka_listener_port,
    render_kafka_node,
)
from binome_devstack.settings import StackSettings

pytestmark = pytest.mark.unit

SECURITY = KafkaSecurityFiles(
    keystore=Path("/s/broker-keystore.pem"),
    truststore=Path("/s/ca.pem"),
    super_user="binome-stack-admin",
    super_password="p4ss",
)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in text.splitlines() if not line.startswith("#"))
    return {key: value for key, _, value in pairs}


def _settings(tmp_path: Path, **changes: Any) -> StackSettings:
    return dataclasses.replace(
        StackSettings(stack_dir=tmp_path, cache_root=tmp_path / "cache"), **changes
    )


def test_a_secured_node_listens_sasl_ssl_with_the_standard_authorizer() -> None:
    rendered = render_kafka_node(
        KafkaNodeShape(port=9092, controller_port=9093, data_dir=Path("/d"), security=SECURITY)
    )
    properties = _properties(rendered)
    assert properties["listeners"] == "SASL_SSL://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL"
    assert properties["inter.broker.listener.name"] == "SASL_SSL"
    assert properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert properties["ssl.keystore.type"] == "PEM"
    assert properties["authorizer.class.name"].endswith("StandardAuthorizer")
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["super.users"] == "User:binome-stack-admin;User:ANONYMOUS"
    assert 'username="binome-stack-admin" password="p4ss";' in rendered
    assert kafka_listener_port(rendered) == 9092


def test_a_cluster_node_has_static_voters_and_replicated_internal_topics() -> None:
    voters = ((1, 9093), (2, 9095), (3, 9097))
    properties = _properties(
        render_kafka_node(
            KafkaNodeShape(
                node_id=2, port=9094, controller_port=9095, data_dir=Path("/d"), voters=voters
            )
        )
    )
    assert properties["node.id"] == "2"
    assert properties["controller.quorum.voters"] == (
        "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    )
    assert "controller.quorum.bootstrap.servers" not in properties
    for key in ("offsets.topic.replication.factor", "default.replication.factor"):
        assert properties[key] == "3"
    for key in ("transaction.state.log.min.isr", "min.insync.replicas"):
        assert properties[key] == "2"


def test_cluster_nodes_take_every_other_port_and_their_own_folders(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_port=19092, kafka_controller_port=19093, kafka_brokers=3)
    assert [settings.kafka_node_port(node) for node in settings.kafka_nodes] == [
        19092,
        19094,
        19096,
    ]
    assert settings.kafka_node_controller_port(3) == 19097
    assert settings.kafka_bootstrap == "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"
    assert settings.kafka_node_dir(1) == tmp_path / "kafka"
    assert settings.kafka_node_dir(3) == tmp_path / "kafka-3"


def test_a_cluster_whose_ports_overlap_postgres_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError):
        _settings(tmp_path, kafka_port=15428, kafka_controller_port=15429, kafka_brokers=3)


@pytest.mark.parametrize("brokers", [0, 2, 5])
def test_only_one_or_three_nodes(tmp_path: Path, brokers: int) -> None:
    with pytest.raises(StackError):
        _settings(tmp_path, kafka_brokers=brokers)


def test_the_layout_is_recorded_and_read_back(tmp_path: Path) -> None:
    record_layout(_settings(tmp_path, kafka_brokers=3, kafka_secure=True))
    assert read_layout(_settings(tmp_path)) == (3, True)
    restored = with_recorded_layout(_settings(tmp_path))
    assert (restored.kafka_brokers, restored.kafka_secure) == (3, True)


def test_another_shape_over_formatted_storage_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kafka" / "data").mkdir(parents=True)
    (tmp_path / "kafka" / "data" / "meta.properties").write_text("", encoding="utf-8")
    record_layout(_settings(tmp_path))  # a one-node plain stack from before layouts: fine
    with pytest.raises(StackError, match="brokers=1 plain"):
        record_layout(_settings(tmp_path, kafka_secure=True))


def test_a_plain_one_node_stack_writes_no_layout(tmp_path: Path) -> None:
    record_layout(_settings(tmp_path))
    assert read_layout(_settings(tmp_path)) is None


def test_one_acl_request_per_operation_of_every_principal() -> None:
    principals = platform_principals("t.")
    expected = sum(len(acl.operations) for p in principals for acl in p.acls)
    creations = [
        creation
        for request in acl_requests(principals)
        for creation in request.build(CreateAclsRequest_v1).creations
    ]
    assert len(creations) == expected
    # (resource type, name, pattern, principal, host, operation, permission): Kafka's codes.
    assert (2, "t.binome.pairing.events", 3, "User:binome-pairing-kafka", "*", 4, 3) in creations
    assert (3, "t.binome-pairing", 3, "User:binome-pairing-kafka", "*", 3, 3) in creations
    assert not any(
        name == "t.binome.sessions.events" and principal == "User:binome-pairing-kafka"
        for _, name, _, principal, *_ in creations
    )
