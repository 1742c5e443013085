"""Real protocol round trips that prove a server serves, not just that its port is open."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import asyncpg
from aiokafka.client import AIOKafkaClient

ResultT = TypeVar("ResultT")


def run_sync(make_coroutine: Callable[[], Coroutine[Any, Any, ResultT]]) -> ResultT:
    """Run a coroutine to completion from sync code, even when called inside an event loop.

    Inside a running loop (a pytest-asyncio test calling the sync API) the coroutine gets
    its own loop in a worker thread, so the caller's loop is blocked but not re-entered.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, make_coroutine()).result()


async def kafka_broker_count(bootstrap: str, *, request_timeout: float, **security: Any) -> int:
    """Fetch cluster metadata from ``bootstrap`` and return how many brokers it lists.

    ``security``: aiokafka's TLS/SASL keyword arguments for a secured stack.
    """
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(1, int(request_timeout * 1000)),
        client_id="binome-stack-readiness",
        **security,
    )
    try:
        async with asyncio.timeout(request_timeout):
            await client.bootstrap()
            return len(client.cluster.brokers())
    finally:
        await client.close()


async def postgres_select_one(dsn: str, *, request_timeout: float) -> int:
    """Connect to ``dsn`` and return the result of ``SELECT 1``."""
    connection = await asyncpg.connect(dsn, timeout=request_timeout)
    try:
        value = await connection.fetchval("SELECT 1", timeout=request_timeout)
    finally:
        await connection.close(timeout=request_timeout)
    return int(value)


async def ensure_database(maintenance_dsn: str, *, name: str, owner: str) -> bool:
    """Create database ``name`` owned by ``owner`` unless it exists; True if created."""
    connection = await asyncpg.connect(maintenance_dsn)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted_name = await connection.fetchval("SELECT quote_ident($1)", name)
        quoted_owner = await connection.fetchval("SELECT quote_ident($1)", owner)
        try:
            await connection.execute(f"CREATE DATABASE {quoted_name} OWNER {quoted_owner}")
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await connection.close()
