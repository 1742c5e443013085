"""A service process runs on uvloop, as uvicorn would have chosen."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
import uvloop

from binome_shared.runtime import process

pytestmark = pytest.mark.unit


def test_a_service_runs_on_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def serve(app: object, runtime: object, settings: object) -> int:
        del app, runtime, settings
        loops.append(asyncio.get_running_loop())
        return 3

    monkeypatch.setattr(process, "_serve", serve)
    assert process.run_service(None, cast(Any, None), cast(Any, None)) == 3
    (loop,) = loops
    assert isinstance(loop, uvloop.Loop)
