"""Webhook signatures: HMAC-SHA256 over ``f"{timestamp}.{body}"``, checked with a tolerance.

Senders put ``Binome-Signature: t=<unix seconds>,v1=<hex>`` on every request; receivers call
:func:`verify_signature` with the raw body, the header and their current time, and keep a
:class:`ReplayGuard` to refuse a request replayed inside the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SIGNATURE_HEADER = "Binome-Signature"
DELIVERY_ID_HEADER = "Binome-Delivery-Id"
KIND_HEADER = "Binome-Kind"
SCHEME = "v1"
DEFAULT_TOLERANCE = timedelta(minutes=5)


class SignatureError(ValueError):
    """The request must be refused; ``reason`` says why, without echoing secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    if not secret:
        raise ValueError("an empty secret signs nothing")
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """The parts of a signature header."""

    timestamp: int
    signatures: tuple[str, ...]


def parse_signature_header(header: str) -> ParsedSignature:
    """Split ``t=...,v1=...[,v1=...]``; several v1 values allow secret rotation."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, separator, value = part.strip().partition("=")
        if not separator:
            raise SignatureError("malformed signature header")
        if name == "t":
            if not value.isdigit():
                raise SignatureError("malformed timestamp")
            timestamp = int(value)
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("no timestamp in signature header")
    if not signatures:
        raise SignatureError(f"no {SCHEME} signature in header")
    return ParsedSignature(timestamp=timestamp, signatures=tuple(signatures))


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that matched: when it was made and the matching digest."""

    timestamp: int
    signature: str


def verify_signature(
    body: bytes,
    header: str | None,
    *,
    secrets: Sequence[bytes],
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> VerifiedSignature:
    """Check ``header`` signs ``body`` with one of ``secrets`` and is recent.

    Raises :class:`SignatureError` on a missing or malformed header, a signature that matches
    no secret, or a timestamp further than ``tolerance`` from ``now`` (a replay or a skewed
    clock).
    """
    if not header:
        raise SignatureError("missing signature header")
    parsed = parse_signature_header(header)
    age = now.timestamp() - parsed.timestamp
    if abs(age) > tolerance.total_seconds():
        raise SignatureError("timestamp outside tolerance")
    expected = [_digest(secret, parsed.timestamp, body) for secret in secrets if secret]
    for signature in parsed.signatures:
        if any(hmac.compare_digest(candidate, signature) for candidate in expected):
            return VerifiedSignature(timestamp=parsed.timestamp, signature=signature)
    raise SignatureError("signature mismatch")


@dataclass(slots=True, kw_only=True)
class ReplayGuard:
    """Remembers the signatures accepted within the tolerance window and refuses them again.

    Keyed by the signature, which binds the timestamp and the body, so an attacker cannot dodge
    it by editing an unsigned header; older requests fail the timestamp check anyway, so memory
    stays bounded by one window of traffic. A sender's retry carries a new timestamp and passes.
    """

    tolerance: timedelta = DEFAULT_TOLERANCE
    _seen: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def check(self, verified: VerifiedSignature, *, now: datetime) -> None:
        """Refuse a signature already accepted; remember it otherwise."""
        horizon = now.timestamp() - 2 * self.tolerance.total_seconds()
        for stale in [key for key, timestamp in self._seen.items() if timestamp < horizon]:
            del self._seen[stale]
        key = f"{verified.timestamp}:{verified.signature}"
        if key in self._seen:
            raise SignatureError("replayed request")
        self._seen[key] = verified.timestamp

    def __len__(self) -> int:
        return len(self._seen)
