"""JWTs a verifier must refuse: unsigned (``alg: none``), HMAC-signed with the public key as
the secret (the classic algorithm confusion), signed by an unknown key, or genuinely signed
but with claims missing, out of time, or holding NUL, CR/LF and overlong values.

Tokens are put together here by hand, since PyJWT itself refuses to sign some of them (a PEM
key as an HMAC secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from binome_shared.runtime.token_types import ACTION_TOKEN_TYPE

Key = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """``alg: none``: no signature at all."""
    return f"{_segment({**header, 'alg': 'none'})}.{_segment(payload)}."


def hmac_with(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """HS256 with ``secret`` (the public key's PEM, for the algorithm confusion)."""
    signing_input = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def signed(key: Key, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Signed for real, whatever the claims say."""
    algorithm = "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"
    return jwt.encode(payload, key, algorithm=algorithm, headers=header)


def action_claims(
    *, owner: str, tenant: str, subject: str, action: str, target: dict[str, Any]
) -> dict[str, Any]:
    """The claims notifications signs for one action link (docs/actions.md)."""
    now = int(time.time())
    return {
        "iss": "binome-notifications",
        "aud": f"binome-action:{owner}",
        "sub": subject,
        "binome_tenant": tenant,
        "act": action,
        "tgt": target,
        "lang": "en",
        "jti": f"hostile-{time.monotonic_ns()}",
        "iat": now,
        "exp": now + 3600,
    }


ACTION_HEADER = {"typ": ACTION_TOKEN_TYPE, "kid": "action-1"}


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


def bearer_claims(*, issuer: str, audience: str, tenant: str, **more: Any) -> dict[str, Any]:
    """A genuine bearer token's claims for an HR gateway of ``tenant`` (``more`` overrides)."""
    genuine = {
        "iss": issuer,
        "aud": audience,
        "sub": "hr-gateway",
        "binome_tenant": tenant,
        "iat": 1_700_000_000,
        "exp": 4_000_000_000,
    }
    return {**genuine, **more}
