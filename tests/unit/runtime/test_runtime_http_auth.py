"""Bearer tokens: what :class:`TokenVerifier` accepts and refuses, with keys made in the test.

The JWKS document is served over real HTTP by a local server that counts its requests, so
the cache and the re-fetch on an unknown ``kid`` (a key rotated in) are observed, not assumed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from binome_shared.runtime.http_auth import (
    Caller,
    HttpAuthSettings,
    JwksKeys,
    PemKeys,
    TokenRejectedError,
    TokenVerifier,
    bearer_token,
    verifier_from,
)
from tests.support.tokens import AUDIENCE, ISSUER, TokenIssuer

pytestmark = pytest.mark.unit

TENANT = "groupe-exemple"


def verifier(*issuers: TokenIssuer, **options: Any) -> TokenVerifier:
    keys = PemKeys("\n".join(issuer.public_pem for issuer in issuers))
    return TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE, **options)


def rejection(verify: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejectedError) as refused:
        verify.verify(token)
    assert refused.value.error == "invalid_token"
    return refused.value.description


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "binome_tenant": TENANT, **overrides}


def test_a_valid_token_names_its_tenant_and_subject() -> None:
    issuer = TokenIssuer()
    assert verifier(issuer).verify(issuer.token(TENANT)) == Caller(
        tenant_id=TENANT, subject="hr-gateway"
    )


def test_the_tenant_claim_name_is_configurable() -> None:
    issuer = TokenIssuer()
    token = issuer.token(None, org="pwn-france")
    assert verifier(issuer, tenant_claim="org").verify(token).tenant_id == "pwn-france"
    assert "binome_tenant" in rejection(verifier(issuer), token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"iss": "https://another-idp.test/"}, "Invalid issuer"),
        ({"aud": "another-api"}, "Audience doesn't match"),
        ({"binome_tenant": ""}, "without binome_tenant"),
        ({"binome_tenant": ["a", "b"]}, "without binome_tenant"),
    ],
)
def test_a_token_with_wrong_claims_is_refused(overrides: dict[str, Any], reason: str) -> None:
    issuer = TokenIssuer()
    assert reason in rejection(verifier(issuer), issuer.token(TENANT, **overrides))


def test_the_leeway_forgives_a_little_clock_skew_and_no_more() -> None:
    issuer = TokenIssuer()
    just_expired = issuer.token(TENANT, exp=int(time.time()) - 5)
    assert verifier(issuer, leeway_seconds=30).verify(just_expired).tenant_id == TENANT
    assert "expired" in rejection(verifier(issuer, leeway_seconds=0), just_expired)


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "binome_tenant"])
def test_every_required_claim_must_be_there(missing: str) -> None:
    issuer = TokenIssuer()
    payload = {key: value for key, value in claims().items() if key != missing}
    token = jwt.encode(payload, issuer.key, algorithm="ES256", headers={"kid": issuer.kid})
    assert missing in rejection(verifier(issuer), token)


def test_a_token_signed_by_another_key_is_refused() -> None:
    trusted, stranger = TokenIssuer(), TokenIssuer()
    assert "signature not verified" in rejection(verifier(trusted), stranger.token(TENANT))


def test_during_a_rotation_both_configured_keys_are_accepted() -> None:
    old, new = TokenIssuer(kid="2027"), TokenIssuer(kid="2028")
    both = verifier(old, new)
    assert both.verify(old.token("a")).tenant_id == "a"
    assert both.verify(new.token("b")).tenant_id == "b"


def test_an_unsigned_token_is_refused() -> None:
    issuer = TokenIssuer()
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}."
    assert "algorithm not accepted" in rejection(verifier(issuer), unsigned)


def test_an_hmac_token_keyed_with_the_public_key_is_refused() -> None:
    # The classic confusion attack: the public PEM (known to all) used as an HMAC secret.
    issuer = TokenIssuer()
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims())}"
    mac = hmac.new(issuer.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert "algorithm not accepted" in rejection(verifier(issuer), f"{signing_input}.{_b64(mac)}")


def test_garbage_is_a_malformed_token_not_a_crash() -> None:
    assert "malformed" in rejection(verifier(TokenIssuer()), "not.a.jwt")


def test_symmetric_algorithms_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="HS256"):
        verifier(TokenIssuer(), algorithms=("ES256", "HS256"))
    with pytest.raises(ValidationError, match="only asymmetric algorithms"):
        HttpAuthSettings(http_auth_algorithms="RS256,none")


def test_an_algorithm_left_out_of_the_allow_list_is_refused() -> None:
    issuer = TokenIssuer()
    assert "algorithm not accepted" in rejection(
        verifier(issuer, algorithms=("RS256",)), issuer.token(TENANT)
    )


def test_the_authorization_header_must_carry_a_bearer_token() -> None:
    def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"headers": list(headers)}

    assert bearer_token(scope((b"Authorization", b"Bearer abc.def.ghi"))) == "abc.def.ghi"
    assert bearer_token(scope((b"authorization", b"bearer  abc "))) == "abc"
    for request in (scope(), scope((b"authorization", b"Basic dXNlcjpwdw==")), scope()):
        with pytest.raises(TokenRejectedError) as refused:
            bearer_token(request)
        assert refused.value.error is None, "RFC 6750 3.1: no error code for no credentials"


def test_settings_without_keys_give_no_verifier_and_pem_settings_give_one() -> None:
    assert verifier_from(HttpAuthSettings()) is None
    issuer = TokenIssuer()
    configured = verifier_from(
        HttpAuthSettings(
            http_auth_public_keys=issuer.public_pem,
            http_auth_issuer=ISSUER,
            http_auth_audience=AUDIENCE,
        )
    )
    assert configured is not None
    assert configured.verify(issuer.token(TENANT)).tenant_id == TENANT
    with pytest.raises(ValueError, match="no PEM public key"):
        PemKeys("not a key")


# --- JWKS --------------------------------------------------------------------------------


class JwksServer:
    """A JWKS document over HTTP; ``keys`` can change (a rotation), ``fetches`` are counted."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                del args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/certs"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def jwks_verifier(server: JwksServer) -> TokenVerifier:
    keys = JwksKeys(server.url, cache_seconds=300, cooldown_seconds=0)
    return TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)


async def test_jwks_keys_are_chosen_by_kid_and_fetched_once(jwks: JwksServer) -> None:
    first, second = TokenIssuer(kid="k1"), TokenIssuer(kid="k2")
    jwks.keys = [first.jwk(), second.jwk()]
    verify = jwks_verifier(jwks)

    assert (await verify.caller_of(first.token("a"))).tenant_id == "a"
    assert (await verify.caller_of(second.token("b"))).tenant_id == "b"
    assert (await verify.caller_of(first.token("a"))).tenant_id == "a"
    assert jwks.fetches == 1, "the document is cached"


async def test_a_key_rotated_in_at_the_provider_is_fetched_on_its_first_token(
    jwks: JwksServer,
) -> None:
    old, new = TokenIssuer(kid="2027"), TokenIssuer(kid="2028")
    jwks.keys = [old.jwk()]
    verify = jwks_verifier(jwks)
    assert (await verify.caller_of(old.token("a"))).tenant_id == "a"

    jwks.keys = [new.jwk()]
    assert (await verify.caller_of(new.token("a"))).tenant_id == "a"
    assert jwks.fetches == 2


async def test_a_jwks_token_with_an_unknown_or_no_kid_or_a_forged_kid_is_refused(
    jwks: JwksServer,
) -> None:
    trusted = TokenIssuer(kid="k1")
    jwks.keys = [trusted.jwk()]
    verify = jwks_verifier(jwks)
    impostor = TokenIssuer(kid="k1")  # claims the trusted kid, signs with its own key
    for token, reason in (
        (TokenIssuer(kid="k9").token(TENANT), "unknown signing key"),
        (jwt.encode(claims(), trusted.key, algorithm="ES256"), "without kid"),
        (impostor.token(TENANT), "signature not verified"),
    ):
        with pytest.raises(TokenRejectedError, match=reason):
            await verify.caller_of(token)


async def test_an_unreachable_jwks_document_refuses_the_token_without_a_crash() -> None:
    keys = JwksKeys("http://127.0.0.1:9/certs", cache_seconds=300)
    verify = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(TokenRejectedError, match="signing keys unavailable"):
        await verify.caller_of(TokenIssuer().token(TENANT))
