"""Waiting for an asynchronous platform to reach a state, and reading its metrics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx


async def eventually(
    check: Callable[[], Awaitable[Any]], expected: Any, *, timeout: float = 60
) -> None:
    """Poll ``check`` until it returns ``expected``; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"expected {expected!r}, still {value!r} after {timeout} s")


async def metric(url: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus counter on a service's /metrics, over matching labels."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{url}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
