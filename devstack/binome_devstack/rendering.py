"""Configuration files of the local Kafka broker and PostgreSQL cluster, rendered as text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from binome_devstack.settings import LOOPBACK

KAFKA_NODE_ID: Final = 1
CLUSTER_REPLICATION_FACTOR: Final = 3
SCRAM_MECHANISM: Final = "SCRAM-SHA-512"
STANDARD_AUTHORIZER: Final = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
POSTGRES_INCLUDE_FILE: Final = "binome.conf"
POSTGRES_MAX_CONNECTIONS: Final = 200


def _property_value(value: str) -> str:
    # java.util.Properties treats a backslash as an escape character.
    return value.replace("\\", "\\\\")


@dataclass(frozen=True, kw_only=True)
class KafkaSecurityFiles:
    """What a SASL_SSL listener is rendered with: the broker's PEM stores and its own user."""

    keystore: Path
    truststore: Path
    super_user: str
    super_password: str


@dataclass(frozen=True, kw_only=True)
class KafkaNodeShape:
    """One node of the local cluster: its id, its ports and the quorum it belongs to."""

    node_id: int = KAFKA_NODE_ID
    port: int
    controller_port: int
    data_dir: Path
    voters: tuple[tuple[int, int], ...] = ()
    """``(node id, controller port)`` of every voter of a multi-node quorum; empty alone."""
    security: KafkaSecurityFiles | None = None


def render_kafka_properties(*, port: int, controller_port: int, data_dir: Path) -> str:
    """``server.properties`` of a single-node KRaft broker+controller on the loopback."""
    return render_kafka_node(
        KafkaNodeShape(port=port, controller_port=controller_port, data_dir=data_dir)
    )


def render_kafka_node(shape: KafkaNodeShape) -> str:
    """``server.properties`` of one KRaft broker+controller node on the loopback."""
    client = "SASL_SSL" if shape.security else "PLAINTEXT"
    listeners = (
        f"{client}://{LOOPBACK}:{shape.port},CONTROLLER://{LOOPBACK}:{shape.controller_port}"
    )
    replicas = min(len(shape.voters), CLUSTER_REPLICATION_FACTOR) or 1
    min_isr = max(1, replicas - 1)
    settings: list[tuple[str, str | int]] = [
        ("process.roles", "broker,controller"),
        ("node.id", shape.node_id),
        *_quorum(shape),
        ("listeners", listeners),
        ("advertised.listeners", listeners),
        ("controller.listener.names", "CONTROLLER"),
        ("inter.broker.listener.name", client),
        ("listener.security.protocol.map", f"CONTROLLER:PLAINTEXT,{client}:{client}"),
        ("log.dirs", _property_value(str(shape.data_dir))),
        # Alone, every internal topic has one replica and needs only that one in sync; in a
        # cluster three copies, two of which must hold a write (one node may be down).
        ("offsets.topic.replication.factor", replicas),
        ("offsets.topic.num.partitions", 1),
        ("transaction.state.log.replication.factor", replicas),
        ("transaction.state.log.min.isr", min_isr),
        ("share.coordinator.state.topic.replication.factor", replicas),
        ("share.coordinator.state.topic.min.isr", min_isr),
        ("default.replication.factor", replicas),
        ("min.insync.replicas", min_isr),
        # Tests join consumer groups constantly; the default 3 s delay only slows them.
        ("group.initial.rebalance.delay.ms", 0),
        # After a SIGKILL the restarted broker waits for its old registration to expire:
        # 9 s by default, 4 s here (still four missed heartbeats on a loaded laptop).
        ("broker.session.timeout.ms", 4000),
        ("broker.heartbeat.interval.ms", 1000),
        # A topic exists only as declared: created by the services, the tests or the demo
        # with its partitions, never by a client that merely names it (3 partitions).
        ("auto.create.topics.enable", "false"),
    ]
    if shape.security is not None:
        settings += _security(shape.security)
    lines = ["# Written by binome-stack on every start; edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings]
    return "\n".join(lines) + "\n"


def _quorum(shape: KafkaNodeShape) -> list[tuple[str, str | int]]:
    if not shape.voters:
        return [("controller.quorum.bootstrap.servers", f"{LOOPBACK}:{shape.controller_port}")]
    # A static quorum: every node knows the three voters from its first start.
    voters = ",".join(f"{node}@{LOOPBACK}:{port}" for node, port in shape.voters)
    return [("controller.quorum.voters", voters)]


def _security(files: KafkaSecurityFiles) -> list[tuple[str, str | int]]:
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{files.super_user}" password="{files.super_password}";'
    )
    return [
        ("sasl.enabled.mechanisms", SCRAM_MECHANISM),
        ("sasl.mechanism.inter.broker.protocol", SCRAM_MECHANISM),
        (f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config", jaas),
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.location", _property_value(str(files.keystore))),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", _property_value(str(files.truststore))),
        ("authorizer.class.name", STANDARD_AUTHORIZER),
        # The controller listener stays plaintext on the loopback, where the nodes talk to
        # their controller as ANONYMOUS: only that and the stack's own user bypass the ACLs.
        ("super.users", f"User:{files.super_user};User:ANONYMOUS"),
        ("allow.everyone.if.no.acl.found", "false"),
    ]


def kafka_listener_port(properties: str, listener: str = "PLAINTEXT|SASL_SSL") -> int | None:
    """The port of the client ``listener`` in a rendered ``server.properties``, if there is one."""
    match = re.search(rf"^listeners=.*\b(?:{listener})://[^:,]+:(\d+)", properties, re.MULTILINE)
    return int(match.group(1)) if match else None


def render_postgres_conf(*, port: int, socket_dir: Path) -> str:
    """Settings included from ``postgresql.conf`` and rewritten on every start."""
    escaped_dir = str(socket_dir).replace("'", "''")
    lines = [
        "# Written by binome-stack on every start; edits are overwritten.",
        f"listen_addresses = '{LOOPBACK}'",
        f"port = {port}",
        f"unix_socket_directories = '{escaped_dir}'",
        f"max_connections = {POSTGRES_MAX_CONNECTIONS}",
        "password_encryption = 'scram-sha-256'",
        "logging_collector = off",
        "log_line_prefix = '%m [%p] %q%u@%d '",
    ]
    return "\n".join(lines) + "\n"


def postgres_conf_port(conf: str) -> int | None:
    """The port in a rendered :func:`render_postgres_conf` text, if there is one."""
    match = re.search(r"^port = (\d+)$", conf, re.MULTILINE)
    return int(match.group(1)) if match else None


def render_pg_hba() -> str:
    """Password (SCRAM) authentication for everyone, on the socket and loopback TCP only."""
    rows = [
        ("local", "all", "all", "", "scram-sha-256"),
        ("host", "all", "all", "127.0.0.1/32", "scram-sha-256"),
        ("host", "all", "all", "::1/128", "scram-sha-256"),
    ]
    lines = ["# Written by binome-stack; TYPE DATABASE USER ADDRESS METHOD"]
    lines += [" ".join(part for part in row if part) for row in rows]
    return "\n".join(lines) + "\n"


def include_directive() -> str:
    """The line appended once to ``postgresql.conf`` so it reads :data:`POSTGRES_INCLUDE_FILE`."""
    return f"include_if_exists = '{POSTGRES_INCLUDE_FILE}'\n"
