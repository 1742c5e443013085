"""The e-mails the local SMTP sink stored, read back as a recipient's mail client reads them."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path

DELIVERY_KEY_HEADER = "X-Binome-Delivery-Key"
_RAW_HEADER_LINE = re.compile(rb"^([!-9;-~]+):", re.M)


@dataclass(frozen=True)
class Mail:
    """One stored e-mail: who it went to, what it says (every text part, decoded)."""

    path: Path
    recipients: tuple[str, ...]
    """Every address in To and Cc, lower case."""
    subject: str
    language: str
    delivery_key: str
    header_values: tuple[tuple[str, str], ...]
    """Every header, decoded (RFC 2047 words included)."""
    raw_header_names: tuple[str, ...]
    """Header names as the raw bytes spell them (a forged header would show here)."""
    text: str
    """Every text part (plain, HTML, calendar), decoded."""

    @property
    def to(self) -> str:
        assert len(self.recipients) == 1, f"{self.path.name} has {self.recipients}"
        return self.recipients[0]

    @property
    def everything(self) -> str:
        """Headers and body, as one searchable text."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.header_values)
        return f"{headers}\n{self.text}"


def _parts_text(message: EmailMessage) -> str:
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_content_maintype() == "text" or part.get_content_subtype() == "ics":
            content = part.get_content()
            texts.append(
                content.decode("utf-8", "replace") if isinstance(content, bytes) else content
            )
    return "\n".join(texts)


def read_mail(path: Path) -> Mail:
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    header_block = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    addresses = getaddresses(
        [str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])]
    )
    return Mail(
        path=path,
        recipients=tuple(address.lower() for _, address in addresses),
        subject=str(message["Subject"] or ""),
        language=str(message["Content-Language"] or ""),
        delivery_key=str(message[DELIVERY_KEY_HEADER] or ""),
        header_values=tuple((name, str(value)) for name, value in message.items()),
        raw_header_names=tuple(
            name.decode("ascii") for name in _RAW_HEADER_LINE.findall(header_block)
        ),
        text=_parts_text(message),
    )


def read_mailbox(directory: Path) -> list[Mail]:
    return [read_mail(path) for path in sorted(directory.glob("*.eml"))]
