"""HTTP/1.1 requests written byte by byte, for what no client library agrees to send: a NUL,
a CR/LF or invalid UTF-8 in the request line or a header, a header of 64 KB.

One request per connection (``Connection: close``); the answer is read to the end and parsed
just enough to judge it: the status, the headers (as bytes, so a smuggled header would show),
the body.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request_bytes(
    method: bytes,
    target: bytes,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    host: bytes = b"127.0.0.1",
) -> bytes:
    """A request exactly as given: nothing is quoted, checked or folded."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host, b"Connection: close"]
    lines += [name + b": " + value for name, value in headers or []]
    if body or method == b"POST":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def exchange(
    port: int, raw: bytes, *, timeout: float = 20.0, piece_size: int | None = None
) -> RawAnswer:
    """Send ``raw`` to 127.0.0.1:``port`` and read the whole answer. With ``piece_size``, the
    bytes leave in pieces of that size, each flushed and followed by a pause, so the server
    reads an incomplete request between them (as across a slow network)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        step = piece_size or len(raw) or 1
        for start in range(0, len(raw), step):
            writer.write(raw[start : start + step])
            await writer.drain()
            if piece_size:
                await asyncio.sleep(0.005)
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return parse(answer)


def parse(answer: bytes) -> RawAnswer:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise AssertionError(f"not an HTTP answer: {answer[:200]!r}")
    headers = [tuple(line.split(b":", 1)) for line in header_lines if b":" in line]
    return RawAnswer(
        status=int(parts[1]),
        headers=[(name.strip(), value.strip()) for name, value in headers],
        body=_unchunked(body)
        if any(name.strip().lower() == b"transfer-encoding" for name, _ in headers)
        else body,
    )


def _unchunked(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
