"""The development package, never shipped in the image; the production packages never import it.

Mainly the local stack: a real Kafka 4.1 broker (KRaft) and a real PostgreSQL 15, no Docker,
used by the demo, the tests, CI and developers alike, through ``binome-stack`` or::

    from binome_devstack import ensure_stack

    stack = ensure_stack()
    stack.kafka_bootstrap, stack.admin_dsn

Beside it, what only development needs: the demo and its cohort generator, the generators of
docs and manifests (:mod:`.generators`), the notifications' examples, previews and SMTP sink
(:mod:`.notifications`). / Le paquet de développement : pile locale, démo, générateurs,
aides au développement des notifications ; absent de l'image.
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
