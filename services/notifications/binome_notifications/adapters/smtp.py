"""E-mail over SMTP (aiosmtplib): MIME building and one delivery attempt per call.

Attempts share a few open SMTP connections instead of opening one each: a connection carries
many mail transactions (MAIL, RCPT, DATA), which saves the connect, greeting, EHLO, STARTTLS,
AUTH and QUIT round trips of every message — most of what an e-mail cost the service and the
relay. A connection is used by one attempt at a time, dropped after any error (the next
attempt opens a fresh one), after ``messages_per_connection`` messages (relays cap them) and
when it sat idle longer than ``idle_reuse_seconds`` (relays close idle connections; a fresh
one beats a failed attempt). Each call is still exactly one attempt with one outcome.

The message itself is written by :mod:`.mime`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum

import aiosmtplib

from binome_notifications.adapters.headers import UnsafeHeaderError
from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.adapters.mime import (
    Letterhead,
    build_mime_message,
    is_ascii,
    mime_bytes,
)
from binome_notifications.domain.policy import (
    AttemptOutcome,
    ConnectionFailed,
    OutcomeClass,
    SmtpReply,
    TimedOut,
)

logger = logging.getLogger(__name__)


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    NONE = "none"
    """Plain text; only for a local sink."""
    STARTTLS = "starttls"
    """Upgrade with STARTTLS after connecting (usually port 587)."""
    TLS = "tls"
    """TLS from the first byte (usually port 465)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """Where and how to send e-mail; the password comes from a secret, never from code."""

    host: str
    port: int
    sender_address: str
    sender_name: str = "Binôme"
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    validate_certs: bool = True
    ca_file: str | None = None
    timeout_seconds: float = 30.0
    message_id_domain: str = "binome.local"
    local_hostname: str | None = None
    max_connections: int = 1
    """Open connections kept for reuse (at most this many attempts talk to the relay at once)."""
    messages_per_connection: int = 100
    """Then the connection is closed politely and a new one opened."""
    idle_reuse_seconds: float = 10.0
    """A connection idle for longer is closed rather than reused."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def outcome_of_smtp_error(error: Exception) -> AttemptOutcome:
    """What an aiosmtplib (or socket) exception means for delivery; no addresses in detail."""
    name = type(error).__name__
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        return AttemptOutcome.of(SmtpReply(error.recipients[0].code), f"{name}")
    if isinstance(error, aiosmtplib.SMTPResponseException) and error.code > 0:
        return AttemptOutcome.of(SmtpReply(error.code), name)
    if isinstance(error, ssl.SSLCertVerificationError):
        # An untrusted server is a configuration or security problem: a person must look.
        return AttemptOutcome(outcome=OutcomeClass.PERMANENT, signal=None, detail=name)
    if isinstance(error, TimeoutError):
        return AttemptOutcome.of(TimedOut(), name)
    if isinstance(error, ConnectionError | OSError | aiosmtplib.SMTPServerDisconnected):
        return AttemptOutcome.of(ConnectionFailed(), name)
    # Unsupported extension, bad configuration: retrying will not fix it.
    return AttemptOutcome(outcome=OutcomeClass.PERMANENT, signal=None, detail=name)


@dataclass(slots=True, kw_only=True)
class _OpenConnection:
    client: aiosmtplib.SMTP
    messages: int = 0
    idle_since: float = 0.0


class SmtpEmailSender:
    """Sends rendered e-mails through one SMTP server; each call is one attempt.

    Safe to call again with the same :class:`OutgoingEmail`: the Message-ID is fixed by the
    delivery key. Deciding *whether* to call again is the delivery policy's job. Concurrent
    calls share up to ``settings.max_connections`` open connections; :meth:`close` ends them.
    """

    def __init__(
        self,
        *,
        settings: SmtpSettings,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._monotonic = monotonic
        self._tls_context: ssl.SSLContext | None = None
        if settings.ca_file is not None:
            self._tls_context = ssl.create_default_context(cafile=settings.ca_file)
        self._idle: list[_OpenConnection] = []
        self._slots: asyncio.Semaphore | None = None
        self.connections_opened = 0
        """How many SMTP connections this sender opened so far."""

    @property
    def settings(self) -> SmtpSettings:
        """Where and how this sender sends."""
        return self._settings

    def build(self, email: OutgoingEmail) -> EmailMessage:
        """The MIME message this sender would send for ``email``."""
        return build_mime_message(email, **self._letterhead())

    def wire_form(self, email: OutgoingEmail) -> bytes:
        """The bytes this sender would send for ``email`` (see :func:`mime_bytes`)."""
        return mime_bytes(email, **self._letterhead())

    def _letterhead(self) -> Letterhead:
        settings = self._settings
        return Letterhead(
            sender_address=settings.sender_address,
            sender_name=settings.sender_name,
            message_id_domain=settings.message_id_domain,
            sent_at=self._clock(),
        )

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures, returns their meaning."""
        sender_address = self._settings.sender_address
        # Addresses outside ASCII need SMTPUTF8, which aiosmtplib negotiates for a message.
        ascii_envelope = is_ascii(sender_address) and is_ascii(email.to_address)
        try:
            message = self.wire_form(email) if ascii_envelope else self.build(email)
        except UnsafeHeaderError as error:
            # Sending again would build the same headers: a person must fix the data.
            logger.error(
                "e-mail refused before sending kind=%s key=%s header=%s",
                email.kind.value,
                email.delivery_key,
                error.header,
            )
            return AttemptOutcome(
                outcome=OutcomeClass.PERMANENT, signal=None, detail=f"unsafe {error.header} header"
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self._settings.max_connections))
        async with self._slots:
            connection: _OpenConnection | None = None
            try:
                connection = await self._checkout()
                if isinstance(message, bytes):
                    await connection.client.sendmail(sender_address, [email.to_address], message)
                else:
                    await connection.client.send_message(
                        message, sender=sender_address, recipients=[email.to_address]
                    )
            except (aiosmtplib.SMTPException, OSError) as error:
                if connection is not None:
                    _drop(connection)
                outcome = outcome_of_smtp_error(error)
                logger.debug("smtp error chain", exc_info=error)
                logger.warning(
                    "e-mail attempt failed kind=%s key=%s outcome=%s detail=%s signal=%s",
                    email.kind.value,
                    email.delivery_key,
                    outcome.outcome.value,
                    outcome.detail,
                    outcome.signal,
                )
                return outcome
            except BaseException:
                if connection is not None:
                    _drop(connection)
                raise
            await self._checkin(connection)
        logger.info("e-mail accepted kind=%s key=%s", email.kind.value, email.delivery_key)
        return AttemptOutcome.of(SmtpReply(250), "accepted")

    async def _checkout(self) -> _OpenConnection:
        """An open connection fit for another message (the most recently used first)."""
        now = self._monotonic()
        while self._idle:
            connection = self._idle.pop()
            fresh = now - connection.idle_since <= self._settings.idle_reuse_seconds
            if fresh and connection.client.is_connected:
                return connection
            _drop(connection)
        return await self._open()

    async def _open(self) -> _OpenConnection:
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            use_tls=settings.security is SmtpSecurity.TLS,
            start_tls=settings.security is SmtpSecurity.STARTTLS,
            validate_certs=settings.validate_certs,
            tls_context=self._tls_context,
            timeout=settings.timeout_seconds,
            local_hostname=settings.local_hostname,
        )
        await client.connect()
        self.connections_opened += 1
        return _OpenConnection(client=client)

    async def _checkin(self, connection: _OpenConnection) -> None:
        connection.messages += 1
        if connection.messages >= self._settings.messages_per_connection:
            await _quit(connection)
            return
        connection.idle_since = self._monotonic()
        self._idle.append(connection)

    async def close(self) -> None:
        """Say goodbye on every idle connection (the sender stays usable: it reconnects)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await _quit(connection)


def _drop(connection: _OpenConnection) -> None:
    """Abandon a connection whose state is unknown after an error."""
    connection.client.close()


async def _quit(connection: _OpenConnection) -> None:
    try:
        await connection.client.quit()
    except (aiosmtplib.SMTPException, OSError):
        connection.client.close()
