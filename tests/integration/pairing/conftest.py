"""Fixtures of the pairing service's integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.platform import ProvisionedDatabase


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    """Connections to this test's database as the pairing service (its schema first)."""
    async with database.pool("pairing", connections=2) as created:
        yield created
