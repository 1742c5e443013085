"""A service refuses a wrong configuration plainly, and waits, named, for what is missing.

Settings: a misspelt variable, or production with the laptop's defaults, exits 2 with every
problem listed (no traceback). Database: not provisioned (no schema, no role, no database)
keeps the service not ready with what is missing and the command that fixes it. Topics:
created as the topic policy wants them, or only checked when provisioned as code.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from tests.integration.runtime.test_runtime_readiness import ready_answer
from tests.support.platform import ProvisionedDatabase, ServiceProcess, free_port, service_env
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EXIT_BAD_SETTINGS = 2


def _log(service: ServiceProcess) -> str:
    return service.log_path.read_text(errors="replace")


async def _logged(service: ServiceProcess, text: str) -> bool:
    return text in _log(service)


async def _stops_cleanly(service: ServiceProcess) -> None:
    assert service.process is not None
    assert service.process.poll() is None, "still running, not a crash loop:\n" + _log(service)
    service.process.send_signal(signal.SIGTERM)
    assert await service.wait_exit(timeout=20) == 0, service.log_tail()


# --- settings ---------------------------------------------------------------------------


async def test_a_misspelt_variable_exits_2_naming_it_and_the_closest_setting(
    service_factory: Any,
) -> None:
    service = service_factory("pairing", BINOME_KAFKA_SECURITY_PROTOCL="SASL_SSL")

    assert await service.wait_exit(timeout=30) == EXIT_BAD_SETTINGS
    log = _log(service)
    assert "BINOME_KAFKA_SECURITY_PROTOCL: unknown setting" in log
    assert "did you mean BINOME_KAFKA_SECURITY_PROTOCOL?" in log
    assert "Traceback" not in log


async def test_a_variable_of_another_service_is_refused_too(service_factory: Any) -> None:
    service = service_factory("sessions", BINOME_SMTP_PORT="2525")

    assert await service.wait_exit(timeout=30) == EXIT_BAD_SETTINGS
    assert "BINOME_SMTP_PORT: unknown setting" in _log(service)


async def test_production_with_the_local_defaults_exits_2_listing_every_problem(
    service_factory: Any,
) -> None:
    service = service_factory("sessions", BINOME_ENVIRONMENT="production")

    assert await service.wait_exit(timeout=30) == EXIT_BAD_SETTINGS
    log = _log(service)
    assert "refusing to start in production" in log
    for problem in (
        "BINOME_DATABASE_URL holds a default or placeholder password",
        "Kafka in PLAINTEXT: traffic in clear",
        "Kafka without authentication",
        "BINOME_DATABASE_SSLMODE=prefer: use verify-full",
        "BINOME_CREATE_TOPICS=true",
        "BINOME_TOPIC_REPLICATION_FACTOR=1: at least 3",
        "BINOME_TOPIC_MIN_INSYNC_REPLICAS=1: at least 2",
        "no BINOME_HTTP_AUTH_JWKS_URL nor BINOME_HTTP_AUTH_PUBLIC_KEYS",
    ):
        assert problem in log, problem
    assert "Traceback" not in log


# --- database ---------------------------------------------------------------------------


@pytest.fixture
async def empty_database(admin_dsn: str) -> AsyncIterator[str]:
    """A database nobody provisioned: no service schema in it."""
    name = f"binome_empty_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield name
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _dsn(dsn: str, *, user: str | None = None, database: str | None = None) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}:{user}@{netloc.split('@', 1)[1]}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


async def _waits_for_provisioning(service: ServiceProcess, missing: str) -> None:
    await eventually(lambda: _logged(service, missing), True, timeout=30)
    log = _log(service)
    assert "run `binome-db provision` as the database administrator" in log
    assert "InvalidSchemaNameError" not in log
    assert "Traceback" not in log
    status, body = await ready_answer(service)
    assert status == 503
    assert body["checks"]["postgres"] is False
    await _stops_cleanly(service)


async def test_a_database_without_the_service_schema_names_it_and_the_fix(
    database: ProvisionedDatabase, empty_database: str, service_factory: Any
) -> None:
    dsn = _dsn(database.dsn("pairing"), database=empty_database)
    service = service_factory("pairing", BINOME_DATABASE_URL=dsn)

    await _waits_for_provisioning(
        service, f"schema pairing does not exist (database {empty_database}, role binome_pairing)"
    )


async def test_a_role_that_does_not_exist_is_named_with_the_fix(
    database: ProvisionedDatabase, service_factory: Any
) -> None:
    dsn = _dsn(database.dsn("sessions"), user=f"binome_ghost_{uuid.uuid4().hex[:6]}")
    service = service_factory("sessions", BINOME_DATABASE_URL=dsn)

    await _waits_for_provisioning(
        service, "the role of the DSN does not exist or its password differs"
    )
    assert "the service's role is binome_sessions" in _log(service)


async def test_a_database_that_does_not_exist_is_named_with_the_fix(
    database: ProvisionedDatabase, service_factory: Any
) -> None:
    missing = f"binome_missing_{uuid.uuid4().hex[:10]}"
    dsn = _dsn(database.dsn("sessions"), database=missing)
    service = service_factory("sessions", BINOME_DATABASE_URL=dsn)

    await _waits_for_provisioning(service, f'the database does not exist (database "{missing}"')


# --- topics -----------------------------------------------------------------------------


async def _topic_configs(bootstrap: str, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries}


async def test_missing_topics_are_created_with_the_policy_of_their_class(
    kafka_bootstrap: str, service_factory: Any
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    service = service_factory(
        "sessions", BINOME_TOPIC_PREFIX=prefix, BINOME_EVENTS_RETENTION_HOURS="48"
    )
    await service.wait_ready()

    events = await _topic_configs(kafka_bootstrap, SESSIONS_EVENTS.full_name(prefix))
    # Sessions writes dead letters for what it reads (pairing's events), not for its own.
    dead_letters = await _topic_configs(kafka_bootstrap, PAIRING_EVENTS.dead_letter_name(prefix))
    assert events["retention.ms"] == str(48 * 3_600_000)
    assert events["min.insync.replicas"] == "1"
    assert events["cleanup.policy"] == "delete"
    assert dead_letters["retention.ms"] == str(336 * 3_600_000)
    await _stops_cleanly(service)


async def test_topics_provisioned_as_code_are_only_checked_and_a_missing_one_is_named(
    kafka_bootstrap: str, service_factory: Any
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    service = service_factory("sessions", BINOME_TOPIC_PREFIX=prefix, BINOME_CREATE_TOPICS="false")

    await eventually(lambda: _logged(service, "missing topics / topics absents"), True)
    log = _log(service)
    assert PAIRING_EVENTS.full_name(prefix) in log
    assert "BINOME_CREATE_TOPICS=true" in log
    status, body = await ready_answer(service)
    assert status == 503
    assert body["checks"]["topics"] is False
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert not [name for name in await admin.list_topics() if name.startswith(prefix)]
    finally:
        await admin.close()
    await _stops_cleanly(service)


async def test_migrate_on_an_unprovisioned_database_names_what_is_missing_and_the_fix(
    database: ProvisionedDatabase, empty_database: str, tmp_path: Path
) -> None:
    env = service_env(
        name="sessions",
        database=database,
        bootstrap="127.0.0.1:1",
        prefix="",
        port=free_port(),
    )
    env["BINOME_DATABASE_URL"] = _dsn(database.dsn("sessions"), database=empty_database)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "binome_sessions.cli",
        "migrate",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(migrate.communicate(), timeout=60)
    errors = stderr.decode()

    assert migrate.returncode == 1, errors
    assert f"schema sessions does not exist (database {empty_database}" in errors
    assert "run `binome-db provision`" in errors
    assert "Traceback" not in errors
