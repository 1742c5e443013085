"""Configuration files of the local Kafka broker and PostgreSQL cluster, rendered as text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from binome_devstack.settings import LOOPBACK

KAFKA_NODE_ID: Final = 1
POSTGRES_INCLUDE_FILE: Final = "binome.conf"
POSTGRES_MAX_CONNECTIONS: Final = 200


def _property_value(value: str) -> str:
    # java.util.Properties treats a backslash as an escape character.
    return value.replace("\\", "\\\\")


def render_kafka_properties(*, port: int, controller_port: int, data_dir: Path) -> str:
    """``server.properties`` of a single-node KRaft broker+controller on the loopback."""
    listeners = f"PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}"
    settings: list[tuple[str, str | int]] = [
        ("process.roles", "broker,controller"),
        ("node.id", KAFKA_NODE_ID),
        ("controller.quorum.bootstrap.servers", f"{LOOPBACK}:{controller_port}"),
        ("listeners", listeners),
        ("advertised.listeners", listeners),
        ("controller.listener.names", "CONTROLLER"),
        ("inter.broker.listener.name", "PLAINTEXT"),
        ("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"),
        ("log.dirs", _property_value(str(data_dir))),
        # One node: every internal topic has one replica and needs only that one in sync.
        ("offsets.topic.replication.factor", 1),
        ("offsets.topic.num.partitions", 1),
        ("transaction.state.log.replication.factor", 1),
        ("transaction.state.log.min.isr", 1),
        ("share.coordinator.state.topic.replication.factor", 1),
        ("share.coordinator.state.topic.min.isr", 1),
        ("default.replication.factor", 1),
        ("min.insync.replicas", 1),
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
    lines = ["# Written by binome-stack on every start; edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings]
    return "\n".join(lines) + "\n"


def kafka_listener_port(properties: str, listener: str = "PLAINTEXT") -> int | None:
    """The port of ``listener`` in a rendered ``server.properties``, if there is one."""
    match = re.search(rf"^listeners=.*\b{listener}://[^:,]+:(\d+)", properties, re.MULTILINE)
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
