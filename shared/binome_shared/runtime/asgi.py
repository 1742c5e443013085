"""The service's ASGI application: a handful of GET routes and a lifespan.

FastStream's ``AsgiFastStream`` starts its broker inside the ASGI start-up, before uvicorn
binds its port: a service waiting for Kafka answered no probe at all and could not be
stopped. Here the start-up only launches the runtime, which starts the broker itself once
Postgres, Kafka and the topics are there; the endpoints answer from the first second.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faststream.asgi import AsgiResponse

logger = logging.getLogger(__name__)

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


class ServiceApp:
    """Routes requests by exact path; runs ``on_startup`` and ``on_shutdown`` in the lifespan."""

    def __init__(
        self,
        *,
        routes: Sequence[tuple[str, Asgi]],
        on_startup: Hook,
        on_shutdown: Hook,
        unrouted: Asgi | None = None,
    ):
        """``unrouted`` answers a path no route serves (a bare 404 when not given)."""
        self.routes = dict(routes)
        self._unrouted = unrouted or AsgiResponse(b"Not Found", 404)
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        route = self.routes.get(scope["path"])
        if route is None:
            await self._unrouted(scope, receive, send)
            return
        await route(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        for phase, hook in (("startup", self._on_startup), ("shutdown", self._on_shutdown)):
            message = await receive()
            if message["type"] != f"lifespan.{phase}":
                return
            try:
                await hook()
            except Exception as error:  # uvicorn reports it and exits non-zero
                logger.exception("service %s failed", phase)
                await send({"type": f"lifespan.{phase}.failed", "message": repr(error)})
                return
            await send({"type": f"lifespan.{phase}.complete"})
