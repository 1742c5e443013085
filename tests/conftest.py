"""Fixtures shared by every tier. Integration and e2e fixtures use the real local stack:
the one `make test` started, or one these fixtures start (and stop) themselves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.platform import (
    DatabaseTemplate,
    Kafka,
    ProvisionedDatabase,
    ServiceProcess,
    build_template,
    create_test_database,
    create_topics,
    delete_topics,
    drop_template,
    drop_test_database,
    free_port,
    service_env,
)


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    """The local stack (Kafka + PostgreSQL), reused if running, else started for this run."""
    from binome_devstack.stack import ensure_stack

    running = ensure_stack()
    yield running
    running.stop_started()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: object) -> str:
    return str(stack.kafka_bootstrap)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def admin_dsn(stack: object) -> str:
    return str(stack.admin_dsn)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def database_template(admin_dsn: str) -> AsyncIterator[DatabaseTemplate]:
    template = await build_template(admin_dsn)
    yield template
    await drop_template(template)


@pytest.fixture
async def database(database_template: DatabaseTemplate) -> AsyncIterator[ProvisionedDatabase]:
    """A fresh database for this test: schemas, roles' grants and migrations in place."""
    created = await create_test_database(database_template)
    yield created
    await drop_test_database(created)


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> AsyncIterator[str]:
    """Topics of this test's own (``t<random>.binome.…``), created with their DLQs, and
    deleted afterwards with whatever else the test created under the prefix."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka_bootstrap, prefix)
    yield prefix
    await delete_topics(kafka_bootstrap, prefix)


@pytest.fixture
async def kafka(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[Kafka]:
    client = Kafka(kafka_bootstrap, topic_prefix)
    await client.start()
    yield client
    await client.stop()


@pytest.fixture
def service_factory(
    database: ProvisionedDatabase, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> Iterator[object]:
    """Start real service processes for this test; all are killed at the end."""
    started: list[ServiceProcess] = []

    def start(name: str, **extra_env: str) -> ServiceProcess:
        port = free_port()
        process = ServiceProcess(
            name=name,
            env=service_env(
                name=name,
                database=database,
                bootstrap=kafka_bootstrap,
                prefix=topic_prefix,
                port=port,
            ),
            port=port,
            log_path=tmp_path / f"{name}-{len(started)}.log",
        )
        process.start(**extra_env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
async def mail_sink(tmp_path: Path) -> AsyncIterator[object]:
    """The local SMTP sink on this test's event loop: each e-mail an ``.eml`` file."""
    from binome_devstack.notifications.smtp_sink import SmtpSink

    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier."""
    tiers = {"unit", "integration", "e2e"}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()} & tiers
        if len(marks) != 1:
            raise pytest.UsageError(f"{item.nodeid} must be marked with one of {sorted(tiers)}")
