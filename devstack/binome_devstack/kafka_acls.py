"""The secured stack's principals and ACLs, taken from the event catalogue, applied for real.

aiokafka's admin client has no ``create_acls``; its protocol module does define Kafka's
CreateAcls request (v1, which Kafka 4.x still serves), so the bindings are sent with it over
the stack's super-user connection. Creating a binding that exists already is a no-op, so
``up --secure`` applies them on every start and an operator can re-apply them at will.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any, Final

from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest

from binome_devstack.errors import StackError
from binome_devstack.kafka_tls import SUPER_USER, KafkaSecrets
from binome_devstack.messages import text
from binome_devstack.settings import StackSettings
from binome_shared.contracts.acls import Operation, PrincipalAcls, ResourceType, platform_acls
from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security

# Kafka's wire codes (org.apache.kafka.common.resource / acl).
RESOURCE_CODES: Final = {ResourceType.TOPIC: 2, ResourceType.GROUP: 3}
OPERATION_CODES: Final = {Operation.READ: 3, Operation.WRITE: 4, Operation.DESCRIBE: 8}
PATTERN_LITERAL: Final = 3
PERMISSION_ALLOW: Final = 3
ANY_HOST: Final = "*"
REQUEST_TIMEOUT_SECONDS: Final = 30.0


def platform_principals(prefix: str = "") -> tuple[PrincipalAcls, ...]:
    """Every service's principal, the report server's (read-only) and HR's, with their ACLs on
    the topics named with ``prefix``."""
    from binome_devstack.service_definitions import (  # noqa: PLC0415 - imports services
        read_only_clients,
        service_definitions,
    )

    return platform_acls(service_definitions(), ALL_TOPICS, prefix, read_only_clients())


def platform_users() -> list[str]:
    """The SCRAM users a secured stack is formatted with (besides its super user)."""
    return [principal.principal for principal in platform_principals()]


def client_security(settings: StackSettings, user: str = SUPER_USER) -> dict[str, Any]:
    """aiokafka keyword arguments to reach the stack as ``user`` ({} for a plain stack)."""
    if not settings.kafka_secure:
        return {}
    secrets = KafkaSecrets(directory=settings.kafka_secrets_dir)
    return aiokafka_security(
        KafkaSecuritySettings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username=user,
            kafka_sasl_password=secrets.password(user),
            kafka_ssl_ca_file=secrets.ca_file,
        )
    )


def acl_requests(principals: Sequence[PrincipalAcls]) -> Iterator[CreateAclsRequest]:
    """One CreateAcls request per (principal, resource, operation), all ALLOW from any host."""
    for principal in principals:
        for acl in principal.acls:
            for operation in acl.operations:
                yield CreateAclsRequest(
                    resource_type=RESOURCE_CODES[acl.resource_type],
                    resource_name=acl.name,
                    resource_pattern_type_filter=PATTERN_LITERAL,
                    principal=f"User:{principal.principal}",
                    host=ANY_HOST,
                    operation=OPERATION_CODES[operation],
                    permission_type=PERMISSION_ALLOW,
                )


async def apply_acls(settings: StackSettings, principals: Sequence[PrincipalAcls]) -> int:
    """Create every binding of ``principals`` on the stack's cluster; return how many."""
    client = AIOKafkaClient(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="binome-stack-acls",
        request_timeout_ms=int(REQUEST_TIMEOUT_SECONDS * 1000),
        **client_security(settings),
    )
    count = 0
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS * 2):
            await client.bootstrap()
            node = client.get_random_node()
            for request in acl_requests(principals):
                response = await client.send(node, request)
                for error_code, message in response.creation_responses:
                    if error_code != 0:
                        raise StackError(
                            text(
                                "command_failed",
                                command="CreateAcls",
                                code=error_code,
                                output=message,
                            )
                        )
                count += 1
    finally:
        await client.close()
    return count


async def apply_platform_acls(settings: StackSettings, prefix: str = "") -> int:
    """:func:`apply_acls` for :func:`platform_principals` (``binome-stack acls``)."""
    return await apply_acls(settings, platform_principals(prefix))
