"""Outages of one service's view of the infrastructure, without touching the shared stack:
a TCP proxy whose link can be cut and restored, and a server that accepts and never answers."""

from __future__ import annotations

import abc
import asyncio
import contextlib


class _Listener(abc.ABC):
    """A TCP server on a free port of 127.0.0.1, run on the test's event loop."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        self._drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @abc.abstractmethod
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection."""

    @abc.abstractmethod
    def _drop_connections(self) -> None:
        """Abort every open connection."""


class CuttableProxy(_Listener):
    """Forwards 127.0.0.1:<port> to a real server until cut: then open connections drop and
    new ones are closed at once, as if the server were down for whoever uses the proxy."""

    def __init__(self, target_port: int) -> None:
        super().__init__()
        self._target_port = target_port
        self._writers: set[asyncio.StreamWriter] = set()
        self._cut = False

    def cut(self) -> None:
        self._cut = True
        self._drop_connections()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self._cut = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self._target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(
            _pump(reader, upstream_writer), _pump(upstream_reader, writer), return_exceptions=True
        )
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.transport.abort()


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    sink.transport.abort()


class SilentServer(_Listener):
    """Accepts TCP connections and never says a word (an SMTP server that stalls)."""

    def __init__(self) -> None:
        super().__init__()
        self._held: list[asyncio.StreamWriter] = []
        self.connections = 0

    def _drop_connections(self) -> None:
        for writer in self._held:
            writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        del reader
        self.connections += 1
        self._held.append(writer)
