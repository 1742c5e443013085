"""E-mail over SMTP (aiosmtplib): MIME building and one delivery attempt per call."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

import aiosmtplib

from binome_notifications.adapters.messages import OutgoingEmail
from binome_notifications.domain.policy import (
    AttemptOutcome,
    ConnectionFailed,
    OutcomeClass,
    SmtpReply,
    TimedOut,
)

logger = logging.getLogger(__name__)

DELIVERY_KEY_HEADER = "X-Binome-Delivery-Key"


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


def message_id_for(delivery_key: str, *, domain: str) -> str:
    """The Message-ID of the e-mail sent for ``delivery_key``: the same on every attempt, so a
    duplicate caused by a crash between send and record is recognisable downstream."""
    return f"<{delivery_key}@{domain}>"


def build_mime_message(
    email: OutgoingEmail,
    *,
    sender_address: str,
    sender_name: str,
    message_id_domain: str,
    sent_at: datetime,
) -> EmailMessage:
    """multipart/alternative (text, HTML[, text/calendar]) inside multipart/mixed with the
    .ics attached when there is an invite, the layout calendar clients recognise."""
    message = EmailMessage()
    username, _, domain = sender_address.partition("@")
    message["From"] = Address(display_name=sender_name, username=username, domain=domain)
    to_user, _, to_domain = email.to_address.partition("@")
    message["To"] = Address(display_name=email.to_name, username=to_user, domain=to_domain)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(sent_at.astimezone(UTC))
    message["Message-ID"] = message_id_for(email.delivery_key, domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message[DELIVERY_KEY_HEADER] = email.delivery_key
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    if email.calendar is not None:
        method = email.calendar.method.value
        message.add_alternative(
            email.calendar.ics.decode(),
            subtype="calendar",
            charset="utf-8",
            params={"method": method},
        )
        message.add_attachment(
            email.calendar.ics,
            maintype="application",
            subtype="ics",
            filename=email.calendar.filename,
        )
    # Set last: set_content and add_attachment move Content-* headers into the sub-parts.
    message["Content-Language"] = email.language.value
    return message


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


class SmtpEmailSender:
    """Sends rendered e-mails through one SMTP server; each call is one attempt.

    Safe to call again with the same :class:`OutgoingEmail`: the Message-ID is fixed by the
    delivery key. Deciding *whether* to call again is the delivery policy's job.
    """

    def __init__(
        self,
        *,
        settings: SmtpSettings,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._tls_context: ssl.SSLContext | None = None
        if settings.ca_file is not None:
            self._tls_context = ssl.create_default_context(cafile=settings.ca_file)

    @property
    def settings(self) -> SmtpSettings:
        """Where and how this sender sends."""
        return self._settings

    def build(self, email: OutgoingEmail) -> EmailMessage:
        """The MIME message this sender would send for ``email``."""
        settings = self._settings
        return build_mime_message(
            email,
            sender_address=settings.sender_address,
            sender_name=settings.sender_name,
            message_id_domain=settings.message_id_domain,
            sent_at=self._clock(),
        )

    async def send(self, email: OutgoingEmail) -> AttemptOutcome:
        """Make one attempt; never raises for delivery failures, returns their meaning."""
        settings = self._settings
        message = self.build(email)
        try:
            await aiosmtplib.send(
                message,
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
        except (aiosmtplib.SMTPException, OSError) as error:
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
        logger.info("e-mail accepted kind=%s key=%s", email.kind.value, email.delivery_key)
        return AttemptOutcome.of(SmtpReply(250), "accepted")
