"""The platform the edge suites burst at: three real services, a programme and a pair."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.edges.stage import EdgeStage, ServiceFactory, start_stage, stop_stage
from tests.support.platform import Kafka, ProvisionedDatabase


@pytest.fixture
async def edge_stage(
    service_factory: ServiceFactory, kafka: Kafka, database: ProvisionedDatabase
) -> AsyncIterator[EdgeStage]:
    stage = await start_stage(service_factory=service_factory, kafka=kafka, database=database)
    yield stage
    await stop_stage(stage)
