import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binome_notifications.domain.signing import (
    ReplayGuard,
    SignatureError,
    parse_signature_header,
    sign,
    verify_signature,
)

pytestmark = pytest.mark.unit

SECRET = b"whsec-test-0123456789"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = b'{"kind":"matching_summary","pairs_formed":24}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = sign(BODY, secret=SECRET, timestamp=TS)
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={TS},v1={expected}"


def test_a_fresh_valid_signature_verifies() -> None:
    header = sign(BODY, secret=SECRET, timestamp=TS)
    verified = verify_signature(BODY, header, secrets=[SECRET], now=NOW + timedelta(seconds=30))
    assert verified.timestamp == TS


@pytest.mark.parametrize(
    ("body", "secret", "now", "reason"),
    [
        (BODY + b" ", SECRET, NOW, "signature mismatch"),
        (BODY, b"another-secret", NOW, "signature mismatch"),
        (BODY, SECRET, NOW + timedelta(minutes=6), "timestamp outside tolerance"),
        (BODY, SECRET, NOW - timedelta(minutes=6), "timestamp outside tolerance"),
    ],
)
def test_bad_signatures_are_rejected(
    body: bytes, secret: bytes, now: datetime, reason: str
) -> None:
    header = sign(BODY, secret=SECRET, timestamp=TS)
    with pytest.raises(SignatureError) as raised:
        verify_signature(body, header, secrets=[secret], now=now)
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing signature header"),
        ("", "missing signature header"),
        ("v1=abc", "no timestamp in signature header"),
        (f"t={TS}", "no v1 signature in header"),
        ("t=soon,v1=abc", "malformed timestamp"),
        ("garbage", "malformed signature header"),
    ],
)
def test_malformed_headers_are_rejected(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as raised:
        verify_signature(BODY, header, secrets=[SECRET], now=NOW)
    assert raised.value.reason == reason


def test_secret_rotation_accepts_either_secret_and_several_signatures() -> None:
    old, new = b"old-secret", b"new-secret"
    header = sign(BODY, secret=old, timestamp=TS)
    assert verify_signature(BODY, header, secrets=[new, old], now=NOW).timestamp == TS
    both = header + "," + sign(BODY, secret=new, timestamp=TS).split(",")[1]
    assert len(parse_signature_header(both).signatures) == 2
    assert verify_signature(BODY, both, secrets=[new], now=NOW).timestamp == TS


def test_empty_secret_cannot_sign() -> None:
    with pytest.raises(ValueError, match="empty secret"):
        sign(BODY, secret=b"", timestamp=TS)


def test_replay_guard_refuses_the_same_signature_twice_but_not_a_fresh_retry() -> None:
    guard = ReplayGuard()
    header = sign(BODY, secret=SECRET, timestamp=TS)
    verified = verify_signature(BODY, header, secrets=[SECRET], now=NOW)
    guard.check(verified, now=NOW)
    with pytest.raises(SignatureError, match="replayed request"):
        guard.check(verified, now=NOW + timedelta(seconds=10))
    retry = verify_signature(
        BODY, sign(BODY, secret=SECRET, timestamp=TS + 40), secrets=[SECRET], now=NOW
    )
    guard.check(retry, now=NOW + timedelta(seconds=40))
    assert len(guard) == 2


def test_replay_guard_forgets_signatures_older_than_the_window() -> None:
    guard = ReplayGuard(tolerance=timedelta(minutes=5))
    verified = verify_signature(
        BODY, sign(BODY, secret=SECRET, timestamp=TS), secrets=[SECRET], now=NOW
    )
    guard.check(verified, now=NOW)
    later = NOW + timedelta(minutes=11)
    fresh = verify_signature(
        BODY,
        sign(BODY, secret=SECRET, timestamp=int(later.timestamp())),
        secrets=[SECRET],
        now=later,
    )
    guard.check(fresh, now=later)
    assert len(guard) == 1


@given(body=st.binary(max_size=256), flip=st.integers(min_value=0, max_value=255))
def test_any_change_to_the_body_breaks_the_signature(body: bytes, flip: int) -> None:
    header = sign(body, secret=SECRET, timestamp=TS)
    assert verify_signature(body, header, secrets=[SECRET], now=NOW).timestamp == TS
    tampered = body + bytes([flip]) if not body else bytes([body[0] ^ (flip or 1)]) + body[1:]
    with pytest.raises(SignatureError, match="mismatch"):
        verify_signature(tampered, header, secrets=[SECRET], now=NOW)
