"""The local stack: a real Kafka 4.1 broker (KRaft) and a real PostgreSQL 15, no Docker.

Used by the demo, the tests, CI and developers alike, through ``binome-stack`` or::

    from binome_devstack import ensure_stack

    stack = ensure_stack()
    stack.kafka_bootstrap, stack.admin_dsn
"""

from binome_devstack.errors import MissingToolError, NotReadyError, PortInUseError, StackError
from binome_devstack.kafka import KafkaServer
from binome_devstack.postgres import PostgresServer
from binome_devstack.settings import StackSettings
from binome_devstack.stack import (
    Component,
    Stack,
    ensure_stack,
    reset_stack,
    stack_status,
    stop_stack,
)

__all__ = [
    "Component",
    "KafkaServer",
    "MissingToolError",
    "NotReadyError",
    "PortInUseError",
    "PostgresServer",
    "Stack",
    "StackError",
    "StackSettings",
    "ensure_stack",
    "reset_stack",
    "stack_status",
    "stop_stack",
]
