"""Fixtures of the pairing service's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.platform import ProvisionedDatabase


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    """Connections to this test's database as the pairing service (its schema first)."""
    created = await asyncpg.create_pool(
        database.dsn("pairing"), min_size=1, max_size=2, server_settings={"search_path": "pairing"}
    )
    yield created
    await created.close()
