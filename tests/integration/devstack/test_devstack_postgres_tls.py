"""A real service reaches the local PostgreSQL over verified TLS, and refuses a stranger.

The local cluster serves TLS with a certificate of its own authority. A service given
``sslmode=verify-full`` and that authority's certificate gets ready and processes a command
over encrypted connections; given another authority, it stays not ready, says the server's
certificate could not be verified, and keeps trying without crashing. Runs on a private
PostgreSQL (own directory and port); Kafka is the shared stack's.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from binome_devstack import Stack, ensure_stack
from binome_devstack.stack import stop_stack
from tests.integration.messaging.factories import programme_defined
from tests.integration.runtime.test_runtime_readiness import ready_answer
from tests.support.platform import (
    Kafka,
    ProvisionedDatabase,
    ServiceProcess,
    build_template,
    create_test_database,
    drop_template,
    drop_test_database,
)
from tests.support.private_stack import private_settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

UNVERIFIED = "the Postgres server's certificate could not be verified"


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[Stack]:
    settings = private_settings()
    stack = ensure_stack(kafka=False, settings=settings)
    yield stack
    stop_stack(settings=settings)
    shutil.rmtree(settings.stack_dir, ignore_errors=True)


@pytest.fixture
async def database(tls_postgres: Stack) -> AsyncIterator[ProvisionedDatabase]:
    """This module's services and tests use a database of the private, TLS-serving cluster."""
    template = await build_template(tls_postgres.settings.admin_dsn)
    created = await create_test_database(template)
    yield created
    await drop_test_database(created)
    await drop_template(template)


def _ca_file(stack: Stack) -> Path:
    assert stack.postgres is not None
    return stack.postgres.certificates.ca_file


def _start_pairing(service_factory: Any, ca_file: Path) -> ServiceProcess:
    service: ServiceProcess = service_factory(
        "pairing",
        BINOME_DATABASE_SSLMODE="verify-full",
        BINOME_DATABASE_SSL_ROOT_CERT_FILE=str(ca_file),
    )
    return service


async def _encrypted_connections(database: ProvisionedDatabase) -> list[bool]:
    conn = await database.connect("pairing")
    try:
        rows = await conn.fetch(
            "SELECT s.ssl FROM pg_stat_ssl AS s JOIN pg_stat_activity AS a USING (pid) "
            "WHERE a.application_name = 'binome-pairing'"
        )
    finally:
        await conn.close()
    return [row["ssl"] for row in rows]


async def test_a_service_verifies_the_local_postgres_and_works_over_tls(
    tls_postgres: Stack,
    database: ProvisionedDatabase,
    kafka: Kafka,
    service_factory: Any,
) -> None:
    pairing = _start_pairing(service_factory, _ca_file(tls_postgres))
    await pairing.wait_ready()

    await kafka.publish(programme_defined())
    await eventually(lambda: database.fetchval("pairing", "SELECT count(*) FROM programmes"), 1)
    encrypted = await _encrypted_connections(database)
    assert encrypted, "the service's pool is connected"
    assert all(encrypted), "every connection of the service is encrypted"
    assert UNVERIFIED not in pairing.log_path.read_text(errors="replace")


async def test_a_server_certificate_of_another_authority_is_refused_without_a_crash(
    service_factory: Any, tmp_path: Path
) -> None:
    stranger = tmp_path / "other-ca.crt"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    pairing = _start_pairing(service_factory, stranger)

    async def refusals() -> int:
        return min(pairing.log_path.read_text(errors="replace").count(UNVERIFIED), 2)

    await eventually(refusals, 2, timeout=30)
    status, body = await ready_answer(pairing)
    assert status == 503
    assert body["checks"]["postgres"] is False
    assert pairing.process is not None
    assert pairing.process.poll() is None, pairing.log_tail()
    pairing.process.send_signal(signal.SIGTERM)
    assert await pairing.wait_exit(timeout=20) == 0, pairing.log_tail()
