"""Bearer tokens for the endpoints that return programme data (RFC 6750, JWT per RFC 7519).

A token is a JWT signed by the organisation's identity provider (or by its HR gateway): its
signature is checked against the configured public keys (PEM) or the keys of a JWKS document,
with an allow-list of asymmetric algorithms only, so that neither ``alg: none`` nor an HMAC
token signed with a public key as its "secret" can pass. ``exp``, ``iss``, ``aud`` and the
tenant claim are required; the tenant becomes the :class:`Caller` the handler filters by.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import Field, field_validator

from binome_shared.contracts.text import is_identifier
from binome_shared.runtime.environment import BinomeSettings
from binome_shared.runtime.http_input import header_values
from binome_shared.runtime.token_types import ACTION_TOKEN_TYPE

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""The only algorithms a deployment may allow: a signature a public key can verify."""

_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
_KEY_TYPES: dict[str, tuple[type[Any], ...]] = {
    "RS": (rsa.RSAPublicKey,),
    "PS": (rsa.RSAPublicKey,),
    "ES": (ec.EllipticCurvePublicKey,),
    "Ed": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}


class HttpAuthSettings(BinomeSettings):
    """Where the keys that sign bearer tokens come from, and what a token must say."""

    http_auth_issuer: str = Field(
        default="binome-local",
        description="The `iss` every bearer token must carry (the identity provider's issuer).",
    )
    http_auth_audience: str = Field(
        default="binome", description="The `aud` every bearer token must carry."
    )
    http_auth_jwks_url: str | None = Field(
        default=None,
        description="The identity provider's JWKS document (keys chosen by `kid`, cached).",
    )
    http_auth_public_keys: str | None = Field(
        default=None,
        description="PEM public keys that sign bearer tokens, concatenated (a rotation keeps "
        "two); `BINOME_HTTP_AUTH_PUBLIC_KEYS_FILE` reads them from a file.",
    )
    http_auth_tenant_claim: str = Field(
        default="binome_tenant", description="The claim that names the caller's tenant."
    )
    http_auth_algorithms: str = Field(
        default="RS256,ES256,EdDSA",
        description="Signature algorithms accepted, comma-separated (asymmetric only).",
    )
    http_auth_leeway_seconds: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew tolerated on `exp`, `nbf` and `iat`."
    )
    http_auth_jwks_cache_seconds: float = Field(
        default=300.0, gt=0, description="How long a fetched JWKS document is reused."
    )

    @field_validator("http_auth_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: str) -> str:
        refused = set(_split(value)) - ASYMMETRIC_ALGORITHMS
        if refused or not _split(value):
            raise ValueError(
                f"only asymmetric algorithms, not {sorted(refused)} / "
                f"uniquement des algorithmes asymétriques : {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        return value

    @field_validator("http_auth_public_keys")
    @classmethod
    def _readable_keys(cls, value: str | None) -> str | None:
        if value:
            PemKeys(value)  # a bad key is a settings error at start-up, not a 401 later
        return value

    @property
    def http_auth_has_keys(self) -> bool:
        return bool(self.http_auth_jwks_url or self.http_auth_public_keys)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called a programme-data endpoint, as the verified token says."""

    tenant_id: str
    subject: str | None = None


class TokenRejectedError(Exception):
    """A request without a usable bearer token; ``error`` is RFC 6750's code, if any."""

    def __init__(self, description: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.error = error


class KeySource(Protocol):
    """The public keys that may have signed a token."""

    blocking: bool
    """True when finding the keys may wait on the network (run off the event loop)."""

    def keys_for(self, header: dict[str, Any]) -> Sequence[Any]: ...


class PemKeys:
    """Public keys given in PEM; any of them may have signed a token (rotation)."""

    blocking = False

    def __init__(self, pem: str) -> None:
        blocks = _PEM_BLOCK.findall(pem)
        if not blocks:
            raise ValueError("no PEM public key found / aucune clé publique PEM trouvée")
        self._keys = [load_pem_public_key(block.encode()) for block in blocks]

    def keys_for(self, header: dict[str, Any]) -> Sequence[Any]:
        types = _KEY_TYPES.get(str(header.get("alg", ""))[:2], ())
        return [key for key in self._keys if isinstance(key, types)]


class JwksKeys:
    """The keys of a JWKS document, chosen by the token's ``kid``; an unknown ``kid`` fetches
    the document again (a key rotated in at the provider), at most once per cooldown."""

    blocking = True

    def __init__(self, url: str, *, cache_seconds: float, cooldown_seconds: float = 30) -> None:
        self._client = jwt.PyJWKClient(
            url, lifespan=cache_seconds, cooldown_duration=cooldown_seconds, timeout=10
        )

    def keys_for(self, header: dict[str, Any]) -> Sequence[Any]:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenRejectedError("token without kid / jeton sans kid")
        try:
            return [self._client.get_signing_key(kid)]
        except jwt.PyJWKClientConnectionError as error:
            logger.warning("JWKS document unreachable: %s", error)
            raise TokenRejectedError(
                "signing keys unavailable / clés de signature indisponibles"
            ) from error
        except jwt.PyJWKClientError as error:
            raise TokenRejectedError("unknown signing key / clé de signature inconnue") from error


class TokenVerifier:
    """Checks a bearer token and returns its :class:`Caller`, or raises
    :class:`TokenRejectedError`."""

    def __init__(
        self,
        *,
        keys: KeySource,
        issuer: str,
        audience: str,
        tenant_claim: str = "binome_tenant",
        algorithms: Sequence[str] = ("RS256", "ES256", "EdDSA"),
        leeway_seconds: float = 30.0,
    ) -> None:
        refused = set(algorithms) - ASYMMETRIC_ALGORITHMS
        if refused:
            raise ValueError(f"symmetric or unknown algorithms refused: {sorted(refused)}")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._tenant_claim = tenant_claim
        self._algorithms = list(algorithms)
        self._leeway = leeway_seconds

    async def caller_of(self, token: str) -> Caller:
        """:meth:`verify`, off the event loop when the keys may be fetched over the network."""
        if self._keys.blocking:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def verify(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRejectedError("malformed token / jeton mal formé") from error
        if header.get("alg") not in self._algorithms:
            raise TokenRejectedError("algorithm not accepted / algorithme refusé")
        if header.get("typ") == ACTION_TOKEN_TYPE:
            raise TokenRejectedError("an action link is not a bearer token / lien d'action refusé")
        claims = self._claims(token, self._keys.keys_for(header))
        tenant = claims.get(self._tenant_claim)
        if not isinstance(tenant, str) or not tenant:
            raise TokenRejectedError(
                f"token without {self._tenant_claim} / jeton sans {self._tenant_claim}"
            )
        # The tenant filters every query: a NUL or an overlong id is a refused token,
        # not a database error (the identity provider's claim mapping gone wrong).
        if not is_identifier(tenant):
            raise TokenRejectedError(
                f"{self._tenant_claim} is not a valid id / {self._tenant_claim} invalide"
            )
        subject = claims.get("sub")
        return Caller(tenant_id=tenant, subject=subject if isinstance(subject, str) else None)

    def _claims(self, token: str, keys: Sequence[Any]) -> dict[str, Any]:
        """The verified claims; a bad signature tries the next key, anything else is final."""
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=self._algorithms,
                    audience=self._audience,
                    issuer=self._issuer,
                    leeway=self._leeway,
                    options={"require": ["exp", "iss", "aud"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError as error:
                raise TokenRejectedError("token expired / jeton expiré") from error
            except jwt.PyJWTError as error:  # claims, wrong key type: never a stack trace
                raise TokenRejectedError(f"invalid token / jeton invalide: {error}") from error
        raise TokenRejectedError("signature not verified / signature non vérifiée")


def verifier_from(settings: HttpAuthSettings) -> TokenVerifier | None:
    """The deployment's verifier, or None when no key is configured (every token refused)."""
    keys: KeySource
    if settings.http_auth_jwks_url:
        keys = JwksKeys(
            settings.http_auth_jwks_url, cache_seconds=settings.http_auth_jwks_cache_seconds
        )
    elif settings.http_auth_public_keys:
        keys = PemKeys(settings.http_auth_public_keys)
    else:
        return None
    return TokenVerifier(
        keys=keys,
        issuer=settings.http_auth_issuer,
        audience=settings.http_auth_audience,
        tenant_claim=settings.http_auth_tenant_claim,
        algorithms=_split(settings.http_auth_algorithms),
        leeway_seconds=settings.http_auth_leeway_seconds,
    )


async def caller_of_request(scope: Mapping[str, Any], verifier: TokenVerifier | None) -> Caller:
    """Who sent the request, as its verified bearer token says; :class:`TokenRejectedError`
    without a token, with a bad one, or when no key is configured (``verifier`` None)."""
    token = bearer_token(scope)
    if verifier is None:
        raise TokenRejectedError("no signing key configured / aucune clé configurée")
    return await verifier.caller_of(token)


def bearer_token(scope: Mapping[str, Any]) -> str:
    """The token of an ``Authorization: Bearer …`` header; none is a rejection without an
    error code (RFC 6750 §3.1: the client did not try to authenticate). Two ``Authorization``
    headers are refused: the field is not a list (RFC 9110 §5.3), and a proxy and the
    service could each read a different one."""
    values = header_values(scope, "authorization")
    if len(values) > 1:
        raise TokenRejectedError("several Authorization headers / plusieurs en-têtes Authorization")
    for value in values:
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    raise TokenRejectedError("bearer token required / jeton requis", error=None)
