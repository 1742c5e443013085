"""Why a service cannot reach Kafka, told apart: a broker away, or a broker that refuses it.

aiokafka reports every failed bootstrap as ``KafkaConnectionError``, whatever the cause. A
wrong password or an untrusted certificate is a deployment error no wait will fix, so when the
start-up wait fails, one direct connection to the first bootstrap server (aiokafka's
``create_conn``, with the service's own security settings) finds out which, and the service
says so in its log while it stays up and not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import SaslAuthenticationFailed

from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security

PROBE_TIMEOUT_SECONDS = 10.0


def first_server(bootstrap_servers: str) -> tuple[str, int]:
    """The host and port of a comma-separated bootstrap list's first entry (9092 if none)."""
    first = bootstrap_servers.split(",", maxsplit=1)[0].strip()
    host, _, port = first.rpartition(":")
    if not host:
        return first, 9092
    return host.strip("[]"), int(port)


async def kafka_refusal(bootstrap_servers: str, settings: KafkaSecuritySettings) -> str | None:
    """Why the broker refuses this service's connection (authentication failed, or its
    certificate is not trusted), or None when it does not refuse it (away, or fine)."""
    host, port = first_server(bootstrap_servers)
    try:
        connection = await asyncio.wait_for(
            create_conn(host, port, **aiokafka_security(settings)), PROBE_TIMEOUT_SECONDS
        )
    except SaslAuthenticationFailed as error:
        return (
            f"authentication failed: the broker refuses user {settings.kafka_sasl_username!r} "
            f"with this password (BINOME_KAFKA_SASL_USERNAME, BINOME_KAFKA_SASL_PASSWORD_FILE): "
            f"{error}"
        )
    except ssl.SSLCertVerificationError as error:
        return (
            f"certificate not trusted: the broker's certificate does not verify against "
            f"BINOME_KAFKA_SSL_CA_FILE={settings.kafka_ssl_ca_file} ({error.verify_message})"
        )
    except Exception:  # the broker is away or slow: no refusal to report
        return None
    with contextlib.suppress(Exception):
        connection.close()
    return None
