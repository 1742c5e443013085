"""Configuration from the environment (12-factor), with defaults that work on a laptop."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from binome_shared.runtime.action_links import ActionLinkSettings
from binome_shared.runtime.http_auth import HttpAuthSettings
from binome_shared.runtime.kafka_security import KafkaSecuritySettings
from binome_shared.runtime.postgres_tls import DatabaseTlsSettings
from binome_shared.runtime.topic_policy import TopicPolicySettings

LOCAL_KAFKA = "127.0.0.1:19092"
LOCAL_POSTGRES = "127.0.0.1:15432"


def local_database_url(service: str) -> str:
    """The local stack's DSN for a service's own role (password = role name, locally only)."""
    role = f"binome_{service}"
    return f"postgresql://{role}:{role}@{LOCAL_POSTGRES}/binome"


class ServiceSettings(
    KafkaSecuritySettings,
    DatabaseTlsSettings,
    TopicPolicySettings,
    HttpAuthSettings,
    ActionLinkSettings,
):
    """Settings every service shares; each service subclasses it to set its own defaults.

    Kafka security, Postgres TLS, the topic policy, the bearer tokens and the action links
    are kept in their own classes (``kafka_security``, ``postgres_tls``, ``topic_policy``,
    ``http_auth``, ``action_links``) so
    that tools which are not services (the HR import, the topic provisioning) read the same
    settings.
    """

    model_config = SettingsConfigDict(env_prefix="BINOME_", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default=LOCAL_KAFKA, description="Kafka bootstrap servers, comma-separated."
    )
    database_url: str = Field(description="DSN of the service's own Postgres role.")
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP endpoints bind.")
    http_port: int = Field(description="Port of /health, /ready, /metrics, /asyncapi.json.")
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: Literal["json", "text"] = Field(
        default="json", description="`json` for machines, `text` for a person at a terminal."
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending migrations at start-up (off when a Job does it)."
    )
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (several deployments, one cluster)."
    )
    consumer_batch_size: int = Field(default=500, ge=1, description="Records per transaction.")
    consumer_max_attempts: int = Field(
        default=3, ge=1, description="Attempts before a failing message is dead-lettered."
    )
    relay_batch_size: int = Field(
        default=1000, ge=1, description="Outbox rows claimed, sent and marked per transaction."
    )
    relay_poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="Outbox polling period when no NOTIFY wakes the relay."
    )
    db_pool_max_size: int = Field(default=10, ge=3, description="Postgres connections at most.")
    graceful_timeout_seconds: float = Field(
        default=25.0,
        gt=0,
        description="Time given to the work in hand (a batch, a relay batch, an e-mail) on "
        "SIGTERM or SIGINT.",
    )
    clock: Literal["system", "simulated"] = Field(
        default="system",
        description="`simulated`: the demo moves time via POST /admin/clock (never in production).",
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses to start with any unsafe setting (all listed at once).",
    )
    instance_id: str = Field(
        default_factory=socket.gethostname,
        description="This replica's name in logs and client ids.",
    )
