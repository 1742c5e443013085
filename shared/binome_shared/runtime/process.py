"""Running a service process until SIGTERM or SIGINT, whatever state it is in.

uvicorn handles those signals itself, but only by asking its main loop to end, and that loop
starts after the application's start-up: a service still waiting for Postgres never saw the
signal (26 minutes until SIGKILL). Here the signal goes to the service first, which cancels
its start-up or winds down its work, and only then tells uvicorn to close. uvicorn also
re-raised the signal once shut down, so a clean stop ended as "killed by SIGTERM"; a clean
stop now exits 0.

The loop is uvloop's, as uvicorn would have picked: calling ``asyncio.run`` directly had
quietly put every service back on the standard loop, which about halved the one-message
consumer's rate in the messaging benchmark and doubled its latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn
import uvloop

from binome_shared.runtime.lifecycle import ServiceRuntime
from binome_shared.runtime.settings import ServiceSettings

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HTTP_DRAIN_SECONDS = 5
"""Probes and scrapes are short: open HTTP connections get this long to finish."""


class _SignalsLeftToTheService(uvicorn.Server):
    """uvicorn's server without its own signal handlers (the service's runner owns them)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


REQUEST_HEAD_LIMIT_BYTES = 128 * 1024
"""The largest request head (request line and headers) read and judged whatever the packets
it arrives in. uvicorn's own limit (16 KB) applies only to a head still incomplete after a
read, so a 20 KB token passed or failed by how the network cut it, and a refused head was
answered by closing a connection with unread bytes: the client got a reset, not the 400.
Bearer tokens of identity providers listing many groups reach tens of KB."""


def run_service(app: Any, runtime: ServiceRuntime, settings: ServiceSettings) -> int:
    """Serve ``app`` until a stop signal or a fatal start-up error; returns the exit status."""
    return uvloop.run(_serve(app, runtime, settings))


async def _serve(app: Any, runtime: ServiceRuntime, settings: ServiceSettings) -> int:
    server = _SignalsLeftToTheService(
        uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=HTTP_DRAIN_SECONDS,
            h11_max_incomplete_event_size=REQUEST_HEAD_LIMIT_BYTES,
        )
    )
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, runtime.request_stop, signal.Signals(signum).name)
    serving = asyncio.create_task(server.serve(), name="http")
    stopping = asyncio.create_task(runtime.stop_event.wait(), name="stop-signal")
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        # The runtime winds itself down in the application's shutdown, which this starts.
        server.should_exit = True
        await serving
    finally:
        stopping.cancel()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return runtime.exit_code
