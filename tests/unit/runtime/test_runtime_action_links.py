"""Action links: signed by the sender's private key, verified by the owner's public key, and
refused when forged, expired, tampered with, for another service, or a bearer token."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from binome_devstack.local_action_keys import new_action_key, private_pem, public_pem
from binome_shared.runtime.action_links import (
    ActionLinkRejectedError,
    ActionLinkSettings,
    ActionLinkSigner,
    ActionLinkVerifier,
    ActionRefusal,
    action_signer_from,
    action_verifier_from,
)
from binome_shared.runtime.http_auth import PemKeys, TokenRejectedError, TokenVerifier
from binome_shared.runtime.token_types import ACTION_TOKEN_TYPE
from tests.support.tokens import TokenIssuer

pytestmark = pytest.mark.unit

ISSUER = "binome-notifications"
KEY = new_action_key()


def signer(key: Any = KEY, **overrides: Any) -> ActionLinkSigner:
    return ActionLinkSigner(key=key, issuer=overrides.pop("issuer", ISSUER), **overrides)


def verifier(key: Any = KEY, *, owner: str = "sessions") -> ActionLinkVerifier:
    return ActionLinkVerifier(keys=PemKeys(public_pem(key)), issuer=ISSUER, owner=owner)


def link(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "owner": "sessions",
        "tenant_id": "groupe-a",
        "subject": "mentee-1",
        "action": "session.held",
        "target": {"programme_id": "prog-1", "pair_id": "pair-1", "session_number": 2},
        "language": "en",
    }
    values.update(overrides)
    return signer().sign(**values)


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_link_says_who_may_do_what_about_what() -> None:
    claims = verifier().verify(link())
    assert claims.tenant_id == "groupe-a"
    assert claims.subject == "mentee-1"
    assert claims.action == "session.held"
    assert claims.target == {"programme_id": "prog-1", "pair_id": "pair-1", "session_number": 2}
    assert claims.target_int("session_number") == 2
    assert claims.language == "en"
    assert claims.token_id  # a jti per link: the once-only key


def test_each_link_has_its_own_token_id() -> None:
    assert verifier().verify(link()).token_id != verifier().verify(link()).token_id


def test_a_link_signed_with_another_key_is_refused() -> None:
    forged = ActionLinkSigner(key=new_action_key(), issuer=ISSUER).sign(
        owner="sessions",
        tenant_id="groupe-a",
        subject="mentee-1",
        action="session.held",
        target={"pair_id": "pair-1"},
        language="fr",
    )
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(forged)
    assert refusal.value.code == ActionRefusal.INVALID


def test_an_expired_link_is_refused() -> None:
    old = link(now=time.time() - 3 * 86400, lifetime_seconds=86400)
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(old)
    assert refusal.value.code == ActionRefusal.EXPIRED


def test_a_link_for_another_service_is_refused() -> None:
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier(owner="notifications").verify(link())
    assert refusal.value.code == ActionRefusal.WRONG_ACTION


def test_a_link_used_for_another_action_is_refused() -> None:
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(link(action="session.missed"), actions=["session.held"])
    assert refusal.value.code == ActionRefusal.WRONG_ACTION


def test_a_tampered_claim_breaks_the_signature() -> None:
    header, payload, signature = link().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["binome_tenant"] = "groupe-b"  # another tenant's link, same signature
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(f"{header}.{_segment(claims)}.{signature}")
    assert refusal.value.code == ActionRefusal.INVALID


def test_alg_none_is_refused() -> None:
    claims = jwt.decode(link(), options={"verify_signature": False})
    unsigned = f"{_segment({'alg': 'none', 'typ': ACTION_TOKEN_TYPE})}.{_segment(claims)}."
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(unsigned)
    assert refusal.value.code == ActionRefusal.INVALID


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    """The classic confusion: the public PEM, known to all, used as an HMAC secret."""
    claims = jwt.decode(link(), options={"verify_signature": False})
    secret = public_pem(KEY).encode()
    segments = f"{_segment({'alg': 'HS256', 'typ': ACTION_TOKEN_TYPE})}.{_segment(claims)}"
    import hashlib
    import hmac

    mac = hmac.new(secret, segments.encode(), hashlib.sha256).digest()
    forged = f"{segments}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(ActionLinkRejectedError) as refusal:
        verifier().verify(forged)
    assert refusal.value.code == ActionRefusal.INVALID


def test_a_bearer_token_is_not_an_action_link() -> None:
    issuer = TokenIssuer()
    bearer = issuer.token("groupe-a", act="session.held", tgt={}, jti="x")
    action_verifier = ActionLinkVerifier(
        keys=PemKeys(issuer.public_pem), issuer=issuer.issuer, owner="sessions"
    )
    with pytest.raises(ActionLinkRejectedError) as refusal:
        action_verifier.verify(bearer)
    assert refusal.value.code == ActionRefusal.INVALID


def test_an_action_link_is_not_a_bearer_token() -> None:
    """Even signed by a key the bearer verifier trusts, with the audience it expects."""
    key = ec.generate_private_key(ec.SECP256R1())
    action = ActionLinkSigner(key=key, issuer="idp").sign(
        owner="sessions",
        tenant_id="groupe-a",
        subject="mentee-1",
        action="session.held",
        target={},
        language="fr",
    )
    claims = jwt.decode(action, options={"verify_signature": False})
    claims["aud"] = "binome"
    relabelled = jwt.encode(claims, key, algorithm="ES256", headers={"typ": ACTION_TOKEN_TYPE})
    bearer_verifier = TokenVerifier(
        keys=PemKeys(public_pem_of(key)), issuer="idp", audience="binome"
    )
    with pytest.raises(TokenRejectedError):
        bearer_verifier.verify(relabelled)


def public_pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    from binome_devstack.local_tokens import public_pem as ec_public_pem

    return ec_public_pem(key)


def test_an_es256_key_signs_too() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = ActionLinkSigner(key=key, issuer=ISSUER).sign(
        owner="sessions",
        tenant_id="groupe-a",
        subject="mentor-1",
        action="session.feedback",
        target={"pair_id": "p"},
        language="fr",
    )
    claims = ActionLinkVerifier(
        keys=PemKeys(public_pem_of(key)), issuer=ISSUER, owner="sessions"
    ).verify(token)
    assert claims.action == "session.feedback"
    assert jwt.get_unverified_header(token)["alg"] == "ES256"


def test_a_rotation_verifies_links_of_either_key() -> None:
    old, new = new_action_key(), new_action_key()
    keys = PemKeys(public_pem(old) + public_pem(new))
    both = ActionLinkVerifier(keys=keys, issuer=ISSUER, owner="sessions")
    for key in (old, new):
        token = signer(key).sign(
            owner="sessions", tenant_id="t", subject="s", action="a", target={}, language="fr"
        )
        assert both.verify(token).subject == "s"


def test_settings_give_a_signer_and_a_verifier_that_agree() -> None:
    settings = ActionLinkSettings(
        action_links_signing_key=private_pem(KEY), action_links_public_keys=public_pem(KEY)
    )
    made = action_signer_from(settings)
    checker = action_verifier_from(settings, owner="sessions")
    assert made is not None
    assert checker is not None
    token = made.sign(
        owner="sessions", tenant_id="t", subject="s", action="a", target={}, language="fr"
    )
    assert checker.verify(token).tenant_id == "t"
    expiry = jwt.decode(token, options={"verify_signature": False})
    assert expiry["exp"] - expiry["iat"] == 30 * 86400


def test_no_key_configured_gives_neither() -> None:
    assert action_signer_from(ActionLinkSettings()) is None
    assert action_verifier_from(ActionLinkSettings(), owner="sessions") is None


def test_an_unusable_key_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="PEM"):
        ActionLinkSettings(action_links_signing_key="not a key")
    with pytest.raises(ValueError, match="P-256"):
        ActionLinkSettings(
            action_links_signing_key=private_pem_of(ec.generate_private_key(ec.SECP384R1()))
        )


def private_pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
