"""Fixtures of the end-to-end tests that play whole programmes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.lifecycle_platform import (
    LifeCyclePlatform,
    ServiceFactory,
    start_platform,
    stop_platform,
)
from tests.support.platform import Kafka, ProvisionedDatabase
from tests.support.tenant_cast import START


@pytest.fixture
async def lifecycle_platform(
    service_factory: ServiceFactory, kafka: Kafka, database: ProvisionedDatabase, tmp_path: Path
) -> AsyncIterator[LifeCyclePlatform]:
    """The three services on a simulated clock at the programmes' start, a real SMTP sink,
    bearer tokens, and the watches on every event and dead-letter topic."""
    started = await start_platform(
        service_factory=service_factory,
        kafka=kafka,
        database=database,
        mail_dir=tmp_path / "mail",
        now=START,
    )
    yield started
    await stop_platform(started)
