"""A real SMTP server for local runs and tests: every accepted message becomes an .eml file.

It can refuse on purpose (e.g. ``451`` for the first N transactions, then accept) so that
delivery retries are exercised against a real server, and it can require AUTH and STARTTLS.
It runs on the caller's event loop: ``async with SmtpSink(directory=...) as sink:``.

It is a development and test tool that a demo drives with tens of thousands of messages, so
storing stays cheap: the subject is read from the raw header block without parsing the
message, and the small file is written on the event loop (no thread hop per message).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

logger = logging.getLogger(__name__)

_SLUG_MAX_LENGTH = 60


class FaultStage(StrEnum):
    """The SMTP step at which an injected refusal is answered."""

    RCPT = "rcpt"
    DATA = "data"


@dataclass(frozen=True, slots=True, kw_only=True)
class SinkFault:
    """Answer ``code`` to the first ``times`` transactions (every one when ``times`` is None)."""

    code: int = 451
    message: str = "4.7.1 Try again later"
    times: int | None = 2
    stage: FaultStage = FaultStage.DATA

    def __post_init__(self) -> None:
        if not 400 <= self.code < 600:
            raise ValueError("an injected fault must be a 4xx or 5xx code")


def subject_slug(subject: str) -> str:
    """A file-name-safe, accent-free, lower-case rendering of a subject."""
    ascii_text = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_SLUG_MAX_LENGTH].rstrip("-") or "no-subject"


def raw_subject(raw: bytes) -> str:
    """The decoded Subject of a raw message (RFC 5322 header block, RFC 2047 words)."""
    header_block = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    found = re.search(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", header_block, re.I | re.M)
    if found is None:
        return ""
    folded = found.group(1).decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", folded).strip()
    try:
        return str(make_header(decode_header(unfolded)))
    except (ValueError, LookupError):  # a malformed encoded word: keep the raw text
        return unfolded


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _SinkHandler:
    """aiosmtpd hooks; names and positional parameters are aiosmtpd's, used or not."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(  # noqa: N802
        self,
        server: Any,  # noqa: ARG002
        session: Any,  # noqa: ARG002
        envelope: Any,
        address: str,
        rcpt_options: list[str],  # noqa: ARG002
    ) -> str:
        refusal = self._sink.refusal_for(FaultStage.RCPT)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self,
        server: Any,  # noqa: ARG002
        session: Any,  # noqa: ARG002
        envelope: Any,
    ) -> str:
        refusal = self._sink.refusal_for(FaultStage.DATA)
        if refusal is not None:
            return refusal
        raw = envelope.original_content or envelope.content or b""
        self._sink.store(bytes(raw))
        return "250 2.0.0 Message accepted"


class SmtpSink:
    """A local SMTP server writing each accepted message to ``directory`` as an .eml file."""

    def __init__(
        self,
        *,
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        fault: SinkFault | None = None,
        credentials: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.directory = directory
        self._tls_context = tls_context
        self.host = host
        self._requested_port = port
        self.fault = fault
        self._credentials = credentials
        self._clock = clock
        self._server: asyncio.Server | None = None
        self.refused = 0
        """Transactions refused on purpose so far."""
        self.stored: list[Path] = []
        """The files written, oldest first."""

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked for)."""
        if self._server is None:
            raise RuntimeError("the sink is not running")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def refusal_for(self, stage: FaultStage) -> str | None:
        """The reply refusing this transaction at ``stage``, if the fault plan says so."""
        fault = self.fault
        if fault is None or fault.stage is not stage:
            return None
        if fault.times is not None and self.refused >= fault.times:
            return None
        self.refused += 1
        return f"{fault.code} {fault.message}"

    def store(self, raw: bytes) -> Path:
        """Write one message; the name sorts by arrival and says what it is about."""
        slug = subject_slug(raw_subject(raw))
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        if not self.directory.is_dir():  # made at start; recreated if someone removed it
            self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{stamp}-{slug}.eml"
        counter = 1
        while target.exists():
            counter += 1
            target = self.directory / f"{stamp}-{slug}-{counter}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(raw)
        partial.replace(target)
        self.stored.append(target)
        logger.info("sink stored message file=%s", target.name)
        return target

    def _authenticate(
        self,
        server: Any,  # noqa: ARG002
        session: Any,  # noqa: ARG002
        envelope: Any,  # noqa: ARG002
        mechanism: str,  # noqa: ARG002
        auth_data: Any,
    ) -> AuthResult:
        if self._credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = self._credentials
        accepted = auth_data.login == login.encode() and auth_data.password == password.encode()
        return AuthResult(success=accepted, handled=False)

    def _protocol(self) -> SMTP:
        requires_auth = self._credentials is not None
        with warnings.catch_warnings():
            # The sink listens on a local address for development; AUTH without TLS is a
            # deliberate choice there, and aiosmtpd warns about it on every connection.
            warnings.simplefilter("ignore", UserWarning)
            return SMTP(
                _SinkHandler(self),
                hostname="binome-smtp-sink",
                loop=asyncio.get_running_loop(),
                authenticator=self._authenticate if requires_auth else None,
                auth_required=requires_auth,
                auth_require_tls=False,
                tls_context=self._tls_context,
                require_starttls=self._tls_context is not None,
            )

    async def start(self) -> None:
        """Start listening."""
        self.directory.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self._requested_port)
        logger.info("sink listening host=%s port=%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
