"""Signed action links: one click in an e-mail does one thing for one person.

The service that sends the e-mail (notifications) signs each link with an asymmetric private
key (ES256 or EdDSA); the service that owns the action verifies it with the public key, so no
shared secret spreads between services. Keys come as PEM (a rotation lists two) or from a
JWKS document, through the same key sources as bearer tokens (:mod:`.http_auth`).

An action token can never pass for a bearer token, nor the reverse: it carries its own JOSE
``typ`` (``binome-action+jwt``) and an audience of its own (``binome-action:<owner service>``);
the bearer verifier refuses that ``typ`` and this one requires it. Claims: ``iss``, ``aud``,
``sub`` (the one person), the tenant, ``act`` (what the link does), ``tgt`` (what it is about:
programme, pair, session number…), ``lang``, ``jti`` (once-only) and ``exp``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, SecretStr, field_validator

from binome_shared.contracts.text import is_identifier
from binome_shared.runtime.environment import BinomeSettings
from binome_shared.runtime.http_auth import JwksKeys, KeySource, PemKeys
from binome_shared.runtime.token_types import ACTION_TOKEN_TYPE

ACTION_ALGORITHMS: Final = ("ES256", "EdDSA")
"""What an action token may be signed with; never a symmetric algorithm, never ``none``."""

TENANT_CLAIM: Final = "binome_tenant"
MAX_TARGET_FIELDS: Final = 16
"""A target names a handful of things (programme, pair, session number, side…)."""
_INT_BOUND: Final = 2**31


def action_audience(owner: str) -> str:
    """The ``aud`` of a link whose action the ``owner`` service performs."""
    return f"binome-action:{owner}"


class ActionLinkSettings(BinomeSettings):
    """The keys of action links: the private one where e-mails are sent, the public ones where
    actions are performed; and how long a link lives."""

    signs_action_links: ClassVar[bool] = False
    """Set by the service that sends e-mails: production refuses it without a signing key."""
    serves_action_links: ClassVar[bool] = False
    """Set by a service that performs actions: production refuses it without public keys."""

    action_links_signing_key: SecretStr | None = Field(
        default=None,
        description="PEM private key (EC P-256 or Ed25519) that signs action links; only the "
        "service sending e-mails needs it (`BINOME_ACTION_LINKS_SIGNING_KEY_FILE`).",
    )
    action_links_key_id: str = Field(
        default="action-1", description="The `kid` written in the links signed here."
    )
    action_links_public_keys: str | None = Field(
        default=None,
        description="PEM public keys that verify action links, concatenated (a rotation keeps "
        "two); `BINOME_ACTION_LINKS_PUBLIC_KEYS_FILE` reads them from a file.",
    )
    action_links_jwks_url: str | None = Field(
        default=None, description="A JWKS document of the action-link keys (instead of PEM)."
    )
    action_links_issuer: str = Field(
        default="binome-notifications", description="The `iss` of every action link."
    )
    action_links_lifetime_days: int = Field(
        default=30, ge=1, le=120, description="How long an action link can be used."
    )
    action_links_unsubscribe_lifetime_days: int = Field(
        default=365,
        ge=1,
        le=730,
        description="How long an unsubscribe or preferences link can be used (RFC 8058 "
        "links stay valid long after the message).",
    )
    action_links_leeway_seconds: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew tolerated on `exp` and `iat`."
    )

    @field_validator("action_links_public_keys")
    @classmethod
    def _readable_public_keys(cls, value: str | None) -> str | None:
        if value:
            PemKeys(value)  # a bad key is a settings error at start-up, not a refusal later
        return value

    @field_validator("action_links_signing_key")
    @classmethod
    def _readable_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            signing_key(value.get_secret_value())
        return value

    @property
    def action_links_can_verify(self) -> bool:
        return bool(self.action_links_public_keys or self.action_links_jwks_url)

    @property
    def action_links_can_sign(self) -> bool:
        return self.action_links_signing_key is not None and bool(
            self.action_links_signing_key.get_secret_value()
        )


SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def signing_key(pem: str) -> SigningKey:
    """The private key of a PEM block, if it is one an action link may be signed with."""
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ValueError("not a readable PEM private key / clé privée PEM illisible") from error
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ValueError("an EC P-256 or Ed25519 key is required / clé EC P-256 ou Ed25519 requise")


def _algorithm_of(key: SigningKey) -> str:
    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"


@dataclass(frozen=True, slots=True)
class ActionClaims:
    """What a verified link says: who may do what, about what, in which language."""

    tenant_id: str
    subject: str
    """The one person the link is for (a participant id)."""
    action: str
    """What the link does (``session.held``, ``session.feedback``, ``unsubscribe``…)."""
    target: Mapping[str, Any]
    """What it is about: ``programme_id``, ``pair_id``, ``session_number``, ``kind``…"""
    language: str
    token_id: str
    expires_at: int

    def target_text(self, name: str) -> str:
        """A target field that must be a non-empty string (a link without it is refused)."""
        value = self.target.get(name)
        if not isinstance(value, str) or not value:
            raise ActionLinkRejectedError(ActionRefusal.INVALID)
        return value

    def target_int(self, name: str) -> int | None:
        value = self.target.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ActionLinkRejectedError(ActionRefusal.INVALID)
        return value


class ActionRefusal:
    """Why a link was refused, as a stable code (the page words it in both languages)."""

    INVALID = "invalid"
    """Forged, tampered with, signed by an unknown key, or for another service."""
    EXPIRED = "expired"
    WRONG_ACTION = "wrong_action"
    """A valid link used at a place or for an action it was not made for."""


class ActionLinkRejectedError(Exception):
    """A link that does nothing; ``code`` is one of :class:`ActionRefusal`."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True, slots=True)
class ActionLinkSigner:
    """Signs action links (the service sending e-mails)."""

    key: SigningKey
    issuer: str
    key_id: str = "action-1"
    lifetime_seconds: int = 30 * 86400

    def sign(
        self,
        *,
        owner: str,
        tenant_id: str,
        subject: str,
        action: str,
        target: Mapping[str, str | int | None],
        language: str,
        lifetime_seconds: int | None = None,
        now: float | None = None,
        token_id: str | None = None,
    ) -> str:
        """A token for one action of one person, verified by the ``owner`` service.

        ``token_id`` (the ``jti``) is random unless given: a sender that may sign the same
        link twice (two e-mails about one session) gives a stable one, so that the action
        is still done once whichever e-mail is clicked."""
        issued = int(time.time() if now is None else now)
        payload = {
            "iss": self.issuer,
            "aud": action_audience(owner),
            "sub": subject,
            TENANT_CLAIM: tenant_id,
            "act": action,
            "tgt": {name: value for name, value in target.items() if value is not None},
            "lang": language,
            "jti": token_id or str(uuid.uuid4()),
            "iat": issued,
            "exp": issued + (lifetime_seconds or self.lifetime_seconds),
        }
        return jwt.encode(
            payload,
            self.key,
            algorithm=_algorithm_of(self.key),
            headers={"typ": ACTION_TOKEN_TYPE, "kid": self.key_id},
        )


_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]


@dataclass(frozen=True, slots=True)
class ActionLinkVerifier:
    """Checks action links for the ``owner`` service; raises :class:`ActionLinkRejectedError`."""

    keys: KeySource
    issuer: str
    owner: str
    leeway_seconds: float = 30.0
    algorithms: Sequence[str] = field(default=ACTION_ALGORITHMS)

    async def claims_of(self, token: str, *, actions: Sequence[str] | None = None) -> ActionClaims:
        """:meth:`verify`, off the event loop when the keys may be fetched over the network."""
        if self.keys.blocking:
            return await asyncio.to_thread(self.verify, token, actions=actions)
        return self.verify(token, actions=actions)

    def verify(self, token: str, *, actions: Sequence[str] | None = None) -> ActionClaims:
        """The claims of ``token``, if it is an untampered, unexpired link for this service
        (and, when ``actions`` is given, for one of them)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise ActionLinkRejectedError(ActionRefusal.INVALID, "malformed") from error
        if header.get("alg") not in self.algorithms or header.get("typ") != ACTION_TOKEN_TYPE:
            raise ActionLinkRejectedError(ActionRefusal.INVALID, "algorithm or type")
        try:
            keys = self.keys.keys_for(header)
        except Exception as error:  # an unknown kid, a JWKS away: the link does nothing
            raise ActionLinkRejectedError(ActionRefusal.INVALID, "key") from error
        claims = self._claims(token, keys)
        verified = _as_action_claims(claims)
        if actions is not None and verified.action not in actions:
            raise ActionLinkRejectedError(ActionRefusal.WRONG_ACTION, verified.action)
        return verified

    def _claims(self, token: str, keys: Sequence[Any]) -> dict[str, Any]:
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=list(self.algorithms),
                    audience=action_audience(self.owner),
                    issuer=self.issuer,
                    leeway=self.leeway_seconds,
                    options={"require": _REQUIRED_CLAIMS},
                )
            except jwt.InvalidSignatureError:
                continue  # the next key of a rotation may have signed it
            except jwt.ExpiredSignatureError as error:
                raise ActionLinkRejectedError(ActionRefusal.EXPIRED) from error
            except jwt.InvalidAudienceError as error:
                raise ActionLinkRejectedError(ActionRefusal.WRONG_ACTION, "audience") from error
            except jwt.PyJWTError as error:
                raise ActionLinkRejectedError(ActionRefusal.INVALID, str(error)) from error
        raise ActionLinkRejectedError(ActionRefusal.INVALID, "signature")


def _as_action_claims(claims: Mapping[str, Any]) -> ActionClaims:
    """The claims of a signed link, each an identifier (or a bounded number in the target):
    they reach SQL and events, where a NUL or a 10,000-character id would be an error, not a
    refusal. Only notifications signs links, from validated messages: a claim that is not an
    identifier means a signer gone wrong, and the link does nothing."""
    tenant, action, target = claims.get(TENANT_CLAIM), claims.get("act"), claims.get("tgt")
    language = claims.get("lang")
    if not (is_identifier(tenant) and is_identifier(action)):
        raise ActionLinkRejectedError(ActionRefusal.INVALID, "tenant or action")
    if not (is_identifier(claims["sub"]) and is_identifier(claims["jti"])):
        raise ActionLinkRejectedError(ActionRefusal.INVALID, "subject or token id")
    if not (isinstance(target, dict) and _is_target(target)):
        raise ActionLinkRejectedError(ActionRefusal.INVALID, "target")
    return ActionClaims(
        tenant_id=str(tenant),
        subject=str(claims["sub"]),
        action=str(action),
        target=target,
        language=language if language in ("fr", "en") else "fr",
        token_id=str(claims["jti"]),
        expires_at=int(claims["exp"]),
    )


def _is_target(target: Mapping[Any, Any]) -> bool:
    """A few named identifiers or bounded whole numbers, nothing nested."""
    return len(target) <= MAX_TARGET_FIELDS and all(
        is_identifier(name)
        and (
            is_identifier(value)
            or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < _INT_BOUND)
        )
        for name, value in target.items()
    )


def action_signer_from(settings: ActionLinkSettings) -> ActionLinkSigner | None:
    """The signer of a service that sends e-mails, or None without a signing key."""
    if settings.action_links_signing_key is None or not settings.action_links_can_sign:
        return None
    return ActionLinkSigner(
        key=signing_key(settings.action_links_signing_key.get_secret_value()),
        issuer=settings.action_links_issuer,
        key_id=settings.action_links_key_id,
        lifetime_seconds=settings.action_links_lifetime_days * 86400,
    )


def action_verifier_from(settings: ActionLinkSettings, *, owner: str) -> ActionLinkVerifier | None:
    """The verifier of the ``owner`` service, or None without keys (every link refused)."""
    keys: KeySource
    if settings.action_links_jwks_url:
        keys = JwksKeys(settings.action_links_jwks_url, cache_seconds=300)
    elif settings.action_links_public_keys:
        keys = PemKeys(settings.action_links_public_keys)
    else:
        return None
    return ActionLinkVerifier(
        keys=keys,
        issuer=settings.action_links_issuer,
        owner=owner,
        leeway_seconds=settings.action_links_leeway_seconds,
    )
