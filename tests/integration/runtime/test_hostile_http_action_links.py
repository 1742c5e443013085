"""The signed action links' pages (``/actions``) under attack, on a real notifications process
and Postgres: forged and hostile tokens, oversized, repeated and unreadable input, bytes HTTP
forbids, wrong methods. Each hostile request gets a clear 4xx page (French and English) and
leaves nothing in the service's tables; the genuine requests beside them act once each.

The verifier and the request limits are the runtime's, the same in every service: they are
attacked through notifications' preferences link, the one link that acts on every POST (its
command is idempotent, not once-only), so a hostile request let through would show at once
in the messages notifications handled. The feedback form, the tenancy and concurrent clicks
are the sessions service's (``test_hostile_http_session_links``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack.local_action_keys import public_pem
from tests.integration.sessions.test_sessions_service_flow import OTHER_TENANT, PROGRAMME, TENANT
from tests.support.action_links import ActionLinkIssuer, outcome
from tests.support.hostile_http import HttpStage, http_stage
from tests.support.hostile_tokens import (
    ACTION_HEADER,
    action_claims,
    hmac_with,
    signed,
    unsigned,
    without,
)
from tests.support.platform import DatabaseTemplate
from tests.support.raw_http import RawAnswer, exchange, request_bytes
from tests.support.tokens import TokenIssuer

pytestmark = pytest.mark.integration

TENANTS = (TENANT, OTHER_TENANT)
PREFERENCES = "notifications.preferences"


@dataclass(frozen=True)
class Stage:
    http: HttpStage
    links: ActionLinkIssuer

    @property
    def notifications(self) -> str:
        return self.http.services["notifications"].url

    @property
    def port(self) -> int:
        return self.http.services["notifications"].port

    def preferences(self, **claims: Any) -> dict[str, Any]:
        """The claims of a genuine preferences link of E0 in tenant A (``claims`` override)."""
        genuine = action_claims(
            owner="notifications",
            tenant=TENANT,
            subject="E0",
            action=PREFERENCES,
            target={"programme_id": PROGRAMME},
        )
        return {**genuine, **claims}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return signed(self.links.key, {**ACTION_HEADER, **header}, claims)


@pytest.fixture(scope="module")
async def stage(
    database_template: DatabaseTemplate, kafka_bootstrap: str, tmp_path_factory: Any
) -> AsyncIterator[Stage]:
    """Notifications, which signs links and serves its own (the preferences page)."""
    links = ActionLinkIssuer()
    async with http_stage(
        template=database_template,
        bootstrap=kafka_bootstrap,
        directory=Path(tmp_path_factory.mktemp("hostile-actions")),
        services={"notifications": links.signing_env()},
    ) as http:
        yield Stage(http=http, links=links)


async def notifications_effects(stage: Stage) -> dict[str, int]:
    return await stage.http.effects("notifications", TENANTS)


# --- forged and hostile tokens -------------------------------------------------------------

TokenCase = Callable[[Stage], str]
_NOW = 2_000_000_000  # far in the future of the test machine: "not yet valid"


def _signed_without(claim: str) -> TokenCase:
    """Genuinely signed, without ``claim`` (a function: each case binds its own claim)."""
    return lambda stage: stage.sign(without(stage.preferences(), claim))


def _signed_with(claims: dict[str, Any]) -> TokenCase:
    """Genuinely signed, with ``claims`` overriding a genuine link's."""
    return lambda stage: stage.sign(stage.preferences(**claims))


HOSTILE_CLAIMS: dict[str, dict[str, Any]] = {
    "NUL in the tenant": {"binome_tenant": "groupe\x00exemple"},
    "CR/LF in the subject": {"sub": "E0\r\nX-Injected: 1"},
    "NUL in the token id": {"jti": "t\x00"},
    "a 201-character tenant": {"binome_tenant": "t" * 201},
    "a subject that is a number": {"sub": 42},
    "NUL in the target": {"tgt": {"programme_id": "prog\x00"}},
    "a nested target": {"tgt": {"programme_id": {"$ne": ""}}},
    "a huge number in the target": {"tgt": {"programme_id": PROGRAMME, "n": 10**40}},
    "bidi override in the action": {"act": "notifications.\u202epreferences"},
}
"""Claims only a signer gone wrong would sign: each must still be refused."""


TOKENS: dict[str, tuple[TokenCase, str]] = {
    "alg none": (lambda s: unsigned(ACTION_HEADER, s.preferences()), "invalid"),
    "HS256 with the public key as secret": (
        lambda s: hmac_with(public_pem(s.links.key).encode(), ACTION_HEADER, s.preferences()),
        "invalid",
    ),
    "another key, unknown kid": (
        lambda s: signed(ActionLinkIssuer().key, {**ACTION_HEADER, "kid": "x"}, s.preferences()),
        "invalid",
    ),
    "expired": (lambda s: s.sign(s.preferences(iat=1_000, exp=2_000)), "expired"),
    "nbf in the future": (lambda s: s.sign(s.preferences(nbf=_NOW)), "invalid"),
    "iat in the future": (lambda s: s.sign(s.preferences(iat=_NOW)), "invalid"),
    **{
        f"without {claim}": (
            _signed_without(claim),
            "invalid",
        )
        for claim in ("exp", "iat", "iss", "aud", "sub", "jti", "binome_tenant", "act", "tgt")
    },
    "another issuer": (lambda s: s.sign(s.preferences(iss="someone-else")), "invalid"),
    "for sessions' audience": (
        lambda s: s.sign(s.preferences(aud="binome-action:sessions")),
        "wrong_action",
    ),
    "another service's action": (
        lambda s: s.sign(s.preferences(act="session.held")),
        "wrong_action",
    ),
    "no typ (a plain JWT)": (lambda s: s.sign(s.preferences(), typ="JWT"), "invalid"),
    "a bearer token": (lambda s: TokenIssuer().token(TENANT), "invalid"),
    "tampered: tenant B": (
        lambda s: _tampered(s.sign(s.preferences()), binome_tenant=OTHER_TENANT),
        "invalid",
    ),
    **{
        f"signed, {name}": (_signed_with(claims), "invalid")
        for name, claims in HOSTILE_CLAIMS.items()
    },
    "empty": (lambda s: "", "invalid"),
    "garbage": (lambda s: "not.a.token", "invalid"),
    "four segments": (lambda s: s.sign(s.preferences()) + ".AAAA", "invalid"),
    "NUL, CR/LF and a non-ASCII letter after a genuine token": (
        lambda s: s.sign(s.preferences()) + "\x00\r\nÿ",
        "invalid",
    ),
}


def _tampered(token: str, **claims: Any) -> str:
    """The token with its payload rewritten and its signature kept."""
    head, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    rewritten = base64.urlsafe_b64encode(json.dumps({**decoded, **claims}).encode())
    return f"{head}.{rewritten.rstrip(b'=').decode()}.{signature}"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("case", list(TOKENS))
async def test_a_forged_or_hostile_token_is_refused_and_does_nothing(
    stage: Stage, case: str, method: str
) -> None:
    build, expected = TOKENS[case]
    token = build(stage)
    before = await notifications_effects(stage)
    async with httpx.AsyncClient(base_url=stage.notifications, timeout=30) as client:
        if method == "GET":
            answer = await client.get("/actions", params={"token": token})
        else:
            answer = await client.post("/actions", data={"token": token, "opt_out": "all"})
    assert (answer.status_code, outcome(answer.text)) == (403, expected)
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "rien n'a été enregistré" in answer.text.replace("&#x27;", "'")
    assert "nothing was recorded" in answer.text
    assert "X-Injected" not in answer.text
    assert await notifications_effects(stage) == before


# --- hostile requests around a genuine link ------------------------------------------------


@dataclass(frozen=True)
class Refused:
    status: int
    code: str


def _form(token: str, *extra: bytes) -> bytes:
    return b"&".join([b"token=" + token.encode(), *extra])


def _post(
    target: bytes, body: bytes, content_type: bytes = b"application/x-www-form-urlencoded"
) -> bytes:
    return request_bytes(b"POST", target, body=body, headers=[(b"Content-Type", content_type)])


RequestCase = Callable[[str], bytes]
"""The raw request, given a genuine preferences token that would act on any POST."""


def _with_method(method: bytes) -> RequestCase:
    return lambda token: request_bytes(method, b"/actions?token=" + token.encode())


REQUESTS: dict[str, tuple[RequestCase, Refused]] = {
    "a 1 MB body, the token in the query": (
        lambda t: _post(b"/actions?token=" + t.encode(), b"opt_out=all&pad=" + b"x" * 1_000_000),
        Refused(413, "body_too_large"),
    ),
    "a 1 MB body, the token in the form": (
        lambda t: _post(b"/actions", _form(t, b"comment=" + b"x" * 1_000_000)),
        Refused(413, "body_too_large"),
    ),
    "65 fields": (
        lambda t: _post(b"/actions", _form(t, *(b"f%d=1" % n for n in range(64)))),
        Refused(400, "too_many_fields"),
    ),
    "a field of percent-encoded invalid UTF-8": (
        lambda t: _post(b"/actions", _form(t, b"opt_out=%FF%FE")),
        Refused(400, "not_utf8"),
    ),
    "a field of raw invalid UTF-8": (
        lambda t: _post(b"/actions", _form(t, b"opt_out=\xff\xfe")),
        Refused(400, "not_utf8"),
    ),
    "a 64 KB token in the form": (
        lambda t: _post(b"/actions", b"token=" + b"e" * 65_000),
        Refused(403, "invalid"),
    ),
    "a 64 KB token in the query": (
        lambda t: request_bytes(b"GET", b"/actions?token=" + b"e" * 65_000),
        Refused(414, "query_too_long"),
    ),
    "a 9 KB query string": (
        lambda t: _post(b"/actions?token=" + t.encode() + b"&pad=" + b"x" * 9_000, b""),
        Refused(414, "query_too_long"),
    ),
    "two different tokens, query and form": (
        lambda t: _post(b"/actions?token=" + t.encode(), _form(t + "x")),
        Refused(403, "invalid"),
    ),
    "the token given twice, different values": (
        lambda t: _post(b"/actions", _form(t, b"token=" + t.encode() + b"x")),
        Refused(403, "invalid"),
    ),
    "percent-encoded NUL and CR/LF in the query's token": (
        lambda t: _post(b"/actions?token=" + t.encode() + b"%00%0D%0ASet-Cookie:x", b""),
        Refused(403, "invalid"),
    ),
    **{
        f"method {method.decode()}": (
            _with_method(method),
            Refused(405, "method_not_allowed"),
        )
        for method in (b"PUT", b"DELETE", b"PATCH", b"OPTIONS")
    },
}


def _refusal_page(answer: RawAnswer, expected: Refused) -> None:
    assert (answer.status, outcome(answer.text)) == (expected.status, expected.code)
    assert answer.header(b"content-type") == [b"text/html; charset=utf-8"]
    assert answer.header(b"set-cookie") == []
    if expected.status != 403:  # a request refused before the link is read: both languages
        assert '<div lang="en">' in answer.text
        assert "rien n" in answer.text


@pytest.mark.parametrize("case", list(REQUESTS))
async def test_a_hostile_request_with_a_genuine_link_is_refused_and_does_nothing(
    stage: Stage, case: str
) -> None:
    build, expected = REQUESTS[case]
    raw = build(stage.sign(stage.preferences()))
    before = await notifications_effects(stage)
    answer = await exchange(stage.port, raw)
    _refusal_page(answer, expected)
    assert await notifications_effects(stage) == before


TRANSPORT: dict[str, bytes] = {
    "NUL in the path": request_bytes(b"GET", b"/actions\x00?token=x"),
    "raw NUL in the query": request_bytes(b"GET", b"/actions?token=a\x00b"),
    "raw invalid UTF-8 in the query": request_bytes(b"GET", b"/actions?token=\xff\xfe"),
    "CR in the Host header": request_bytes(b"GET", b"/actions?token=x", host=b"a\rb"),
    "NUL in a header": request_bytes(b"GET", b"/actions", headers=[(b"Cookie", b"a\x00b")]),
}


@pytest.mark.parametrize("case", list(TRANSPORT))
async def test_bytes_http_forbids_are_refused_before_the_service(stage: Stage, case: str) -> None:
    """uvicorn refuses these itself (400) before any application code runs."""
    answer = await exchange(stage.port, TRANSPORT[case])
    assert answer.status == 400


async def test_hostile_headers_beside_a_genuine_get_change_nothing(stage: Stage) -> None:
    """Accept-Language, Cookie and Referer are not read: the page is the link's own, and a
    GET never acts."""
    token = stage.sign(stage.preferences())
    before = await notifications_effects(stage)
    raw = request_bytes(
        b"GET",
        b"/actions?token=" + token.encode(),
        headers=[
            (b"Accept-Language", b"\xff\xfe<script>"),
            (b"Cookie", b"session=\xff; lang=<b>"),
            (b"Referer", b"https://evil.example/\xff"),
        ],
    )
    answer = await exchange(stage.port, raw)
    assert (answer.status, outcome(answer.text)) == (200, "(form)")
    assert "<script>" not in answer.text
    assert "<b>" not in answer.text
    assert await notifications_effects(stage) == before


async def test_an_enormous_request_line_is_cut_off_and_the_service_still_answers(
    stage: Stage,
) -> None:
    """A 1 MB URL goes past uvicorn's limit on a request head: it answers 400 or drops the
    connection before reading it all; nothing reaches the service, which keeps answering."""
    service = stage.http.services["notifications"]
    raw = request_bytes(b"GET", b"/actions?token=" + b"a" * 1_000_000)
    try:
        answer: RawAnswer | None = await exchange(service.port, raw)
    except ConnectionError:
        answer = None
    assert answer is None or answer.status == 400
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{service.url}/health")).status_code == 200


async def test_the_genuine_neighbours_each_act_once(stage: Stage) -> None:
    """The valid requests sent beside the hostile ones: the preferences form and the RFC 8058
    one-click POST, urlencoded and multipart (both allowed by the RFC)."""
    before = await notifications_effects(stage)
    unsubscribe = stage.sign(
        stage.preferences(
            act="notifications.unsubscribe", tgt={"programme_id": PROGRAMME, "kind": "introduction"}
        )
    )
    unsubscribe_again = stage.sign(
        stage.preferences(
            act="notifications.unsubscribe", tgt={"programme_id": PROGRAMME, "kind": "stall_nudge"}
        )
    )
    multipart = (
        b'--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n--b0undary--\r\n"
    )
    async with httpx.AsyncClient(base_url=stage.notifications, timeout=30) as client:
        preferences = await client.post(
            "/actions",
            data={
                "token": stage.sign(stage.preferences()),
                "opt_out": ["feedback_request", "feedback_request"],
            },
        )
        one_click = await client.post(
            f"/actions?token={unsubscribe}",
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        one_click_multipart = await client.post(
            f"/actions?token={unsubscribe_again}",
            content=multipart,
            headers={"content-type": "multipart/form-data; boundary=b0undary"},
        )
    for answer in (preferences, one_click, one_click_multipart):
        assert (answer.status_code, outcome(answer.text)) == (200, "recorded")
    after = await notifications_effects(stage)
    assert after["handled"] == before["handled"] + 3
    assert after[f"{TENANT}: links used"] == before[f"{TENANT}: links used"] + 2
    assert after[f"{OTHER_TENANT}: links used"] == before[f"{OTHER_TENANT}: links used"]
