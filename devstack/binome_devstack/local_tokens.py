"""Bearer tokens on a laptop: a local signing key, and tokens for the programme-data endpoints.

The demo starts its services with the public half (``BINOME_HTTP_AUTH_PUBLIC_KEYS_FILE``), so
that a developer can read ``/programmes/progress`` and ``/deliveries`` as an HR gateway
would, with a token minted here (docs/http-api.md)::

    python -m binome_devstack.local_tokens --tenant groupe-exemple
    curl -H "Authorization: Bearer $(python -m binome_devstack.local_tokens)" \\
      "http://127.0.0.1:8002/programmes/progress?programme_id=…"

The key is created once (mode 0600) under the demo's state directory; it signs nothing else.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from binome_devstack.demo_cohort import TENANT_ID
from binome_devstack.settings import StackSettings

LOCAL_ISSUER: Final = "binome-local"
"""The services' default ``BINOME_HTTP_AUTH_ISSUER`` (refused in production)."""
LOCAL_AUDIENCE: Final = "binome"
TENANT_CLAIM: Final = "binome_tenant"
ALGORITHM: Final = "ES256"


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def sign_token(
    key: ec.EllipticCurvePrivateKey,
    *,
    tenant: str | None,
    issuer: str,
    audience: str,
    kid: str,
    lifetime_seconds: int,
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """An ES256 JWT as an identity provider issues it (``tenant`` None leaves the tenant
    claim out); ``claims`` override or add claims."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": "hr-gateway",
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    if tenant is not None:
        payload[TENANT_CLAIM] = tenant
    payload.update(claims)
    return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": kid, **(headers or {})})


class LocalTokens:
    """The local signing key in ``directory`` (created on first use) and its tokens."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._key = self._load_or_create()

    @property
    def private_key_file(self) -> Path:
        return self.directory / "token-signing-key.pem"

    @property
    def public_key_file(self) -> Path:
        return self.directory / "token-public-key.pem"

    def service_env(self) -> dict[str, str]:
        """What a local service needs to accept these tokens (issuer and audience are its
        defaults)."""
        return {"BINOME_HTTP_AUTH_PUBLIC_KEYS_FILE": str(self.public_key_file)}

    def token(self, tenant: str, *, lifetime_seconds: int = 900) -> str:
        return sign_token(
            self._key,
            tenant=tenant,
            issuer=LOCAL_ISSUER,
            audience=LOCAL_AUDIENCE,
            kid="local",
            lifetime_seconds=lifetime_seconds,
        )

    def _load_or_create(self) -> ec.EllipticCurvePrivateKey:
        if self.private_key_file.exists():
            key = load_pem_private_key(self.private_key_file.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{self.private_key_file}: not an EC key / pas une clé EC")
            return key
        key = ec.generate_private_key(ec.SECP256R1())
        self.directory.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        descriptor = os.open(self.private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as private:
            private.write(pem)
        self.public_key_file.write_text(public_pem(key), encoding="utf-8")
        return key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m binome_devstack.local_tokens",
        description="Print a bearer token the demo's services accept / "
        "affiche un jeton accepté par les services de la démo.",
    )
    parser.add_argument("--tenant", default=TENANT_ID, help="The demo's tenant by default.")
    parser.add_argument("--minutes", type=int, default=15)
    parser.add_argument("--state-dir", default=None, help="The demo's (.stack/demo).")
    arguments = parser.parse_args(argv)
    state_dir = Path(arguments.state_dir or StackSettings.from_env().stack_dir / "demo")
    tokens = LocalTokens(state_dir.resolve() / "tokens")
    print(tokens.token(arguments.tenant, lifetime_seconds=arguments.minutes * 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())
