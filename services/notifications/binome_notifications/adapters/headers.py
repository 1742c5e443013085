"""Header values checked before an e-mail is written: no value may start a header of its own.

The SMTP adapter writes its headers as text (see :func:`~binome_notifications.adapters.smtp.
mime_bytes`), so a line break in a person's name would become a forged ``Reply-To`` or ``Bcc``.
"""

from __future__ import annotations

import re

from binome_notifications.adapters.messages import OutgoingEmail
from binome_shared.contracts.text import CONTROL_CHARACTER, CONTROL_RANGES


class UnsafeHeaderError(ValueError):
    """A value that would break out of its e-mail header: a line break, another control
    character, or an address that is not one plain ``local@domain``.

    The contracts refuse such values; this is the last line, for anything that got past them
    (data stored before the contracts were tightened, a template, a setting).
    """

    def __init__(self, header: str) -> None:
        super().__init__(f"the {header} header would hold a control character or a bad address")
        self.header = header


_ADDRESS_PART = rf'[^@\s<>()\[\]\\,;:"{CONTROL_RANGES}]+'
_PLAIN_ADDRESS = re.compile(f"{_ADDRESS_PART}@{_ADDRESS_PART}")
_URL = re.compile(r"https?://[\x21-\x3b\x3d\x3f-\x7e]{1,900}")
"""An unsubscribe URL: printable ASCII without spaces or angle brackets, short enough for one
header line (RFC 8058 wants https; the local stack's services answer http on 127.0.0.1)."""


def _check_text(header: str, value: str) -> None:
    if CONTROL_CHARACTER.search(value):
        raise UnsafeHeaderError(header)


def _check_address(header: str, address: str) -> None:
    if not _PLAIN_ADDRESS.fullmatch(address):
        raise UnsafeHeaderError(header)


def check_headers(
    email: OutgoingEmail, *, sender_address: str, sender_name: str, message_id_domain: str
) -> None:
    """Raise :class:`UnsafeHeaderError` unless every header value is one safe line."""
    _check_text("From", sender_name)
    _check_address("From", sender_address)
    _check_text("To", email.to_name)
    _check_address("To", email.to_address)
    _check_text("Subject", email.subject)
    _check_address("Message-ID", f"{email.delivery_key}@{message_id_domain}")
    if email.unsubscribe_url is not None and not _URL.fullmatch(email.unsubscribe_url):
        raise UnsafeHeaderError("List-Unsubscribe")
    if email.calendar is not None:
        _check_text("Content-Disposition", email.calendar.filename)
        if '"' in email.calendar.filename or "\\" in email.calendar.filename:
            raise UnsafeHeaderError("Content-Disposition")
