"""Bearer tokens for tests: a key pair made for the test, and tokens signed with it.

:class:`TokenIssuer` plays the organisation's identity provider: it signs JWTs with the claims
Binôme requires, and gives the public half as PEM (``BINOME_HTTP_AUTH_PUBLIC_KEYS``) or as a
JWKS document; any claim or header can be overridden to make a token Binôme must refuse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from binome_devstack.local_tokens import TENANT_CLAIM, public_pem, sign_token

ISSUER = "https://idp.example.test/"
AUDIENCE = "binome"
__all__ = ["AUDIENCE", "ISSUER", "TENANT_CLAIM", "TokenIssuer", "bearer"]


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class TokenIssuer:
    """An identity provider for one test: ES256 tokens, one key (``kid``) at a time."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    kid: str = "key-1"
    issuer: str = ISSUER
    audience: str = AUDIENCE

    @property
    def public_pem(self) -> str:
        return public_pem(self.key)

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (what a JWKS document lists)."""
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def token(
        self,
        tenant: str | None,
        *,
        lifetime_seconds: int = 300,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed token for ``tenant`` (None: without the tenant claim); ``claims`` override
        or add claims (``iss``, ``aud``, ``exp``…)."""
        return sign_token(
            self.key,
            tenant=tenant,
            issuer=self.issuer,
            audience=self.audience,
            kid=self.kid,
            lifetime_seconds=lifetime_seconds,
            headers=headers,
            **claims,
        )

    def service_env(self) -> dict[str, str]:
        """The settings a service needs to accept this issuer's tokens."""
        return {
            "BINOME_HTTP_AUTH_PUBLIC_KEYS": self.public_pem,
            "BINOME_HTTP_AUTH_ISSUER": self.issuer,
            "BINOME_HTTP_AUTH_AUDIENCE": self.audience,
        }


def bearer(token: str) -> dict[str, str]:
    """The header that carries a token."""
    return {"Authorization": f"Bearer {token}"}
