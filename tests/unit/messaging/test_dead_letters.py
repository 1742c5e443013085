"""Dead letters always fit, and what the core stores or logs about a record is bounded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from binome_shared.messaging.bounded import REASON_CHARS, printable, storable_key, storable_text
from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.dead_letters import (
    CODE_CHARS,
    EXCERPT_HEADERS,
    MIN_RECORD_BYTES,
    VALUE_EXCERPT_BYTES,
    DeadLetterCause,
    dead_letter,
    record_size,
)
from binome_shared.messaging.outbox import Outbox

pytestmark = pytest.mark.unit

LIMIT = 1_048_576
HOSTILE = "\x00\r\nX-Forged: 1\udc80\u2028é" * 10_000


def received(
    *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> ReceivedRecord:
    return ReceivedRecord(
        topic="binome.hr.commands", partition=2, offset=41, key=key, value=value, headers=headers
    )


def cause(*, code: str = "schema_invalid", reason: str = "field x is missing") -> DeadLetterCause:
    return DeadLetterCause(
        code=code,
        reason=reason,
        consumer_group="binome-pairing",
        attempts=1,
        failed_at=datetime(2027, 1, 14, 9, 30, tzinfo=UTC),
    )


def test_printable_escapes_what_forges_lines_or_breaks_columns_and_marks_a_cut() -> None:
    assert printable("pair-1", limit=20) == "pair-1"
    assert printable("a\x00b\r\nc\udc80", limit=50) == "a\\x00b\\r\\nc\\udc80"
    cut = printable("x" * 1_000_000, limit=100)
    assert len(cut) == 100
    assert cut.endswith("…(1000000 chars)")
    assert printable(HOSTILE, limit=300).isprintable()


def test_a_storable_key_is_bounded_stable_and_tells_different_ids_apart() -> None:
    assert storable_key("pair:pair-1") == "pair:pair-1"
    long_one, other = "pair:" + "p" * 1_000_000, "pair:" + "p" * 999_999 + "q"
    assert storable_key(long_one) == storable_key(long_one)
    assert storable_key(long_one) != storable_key(other)
    assert len(storable_key(long_one)) < 200
    assert storable_key(HOSTILE).isprintable()
    assert "\x00" not in storable_text("ce\x00type\udc80")


def test_a_dead_letter_that_fits_is_the_whole_original_with_its_reasons() -> None:
    record = received(key=b"k", value=b"{}", headers=[("ce_type", b"t"), ("ce\x00odd", b"v")])
    letter = dead_letter(record, cause(), max_record_bytes=LIMIT)
    headers = dict(letter.headers)
    assert (letter.topic, letter.key, letter.value) == ("binome.hr.commands.dlq", b"k", b"{}")
    assert headers["ce_type"] == b"t"
    assert headers["ce\\x00odd"] == b"v", "a header name Postgres refuses is escaped, not lost"
    assert headers["binome_dlq_source_partition"] == b"2"
    assert "binome_dlq_truncated" not in headers


def test_an_original_near_the_limit_becomes_an_excerpt_that_fits() -> None:
    value = b"x" * (LIMIT - 150)  # fits alone, not with the dead-letter headers
    record = received(key=None, value=value, headers=[("ce_type", b"t")])
    assert record_size(b"", value, record.headers) <= LIMIT, "the original itself fits"
    letter = dead_letter(record, cause(), max_record_bytes=LIMIT)
    headers = dict(letter.headers)
    assert headers["binome_dlq_truncated"] == b"true"
    assert headers["binome_dlq_original_value_size"] == str(len(value)).encode()
    assert headers["binome_dlq_source_offset"] == b"41"
    assert letter.value == value[:VALUE_EXCERPT_BYTES]
    assert letter.key == b""


def test_the_worst_excerpt_fits_the_smallest_limit_and_its_reasons_are_bounded_utf8() -> None:
    headers = [(HOSTILE, HOSTILE.encode("utf-8", "surrogatepass"))] * (EXCERPT_HEADERS + 500)
    record = received(key=b"k" * LIMIT, value=b"v" * LIMIT, headers=headers)
    hostile = cause(code="🚫" * 10_000 + HOSTILE, reason="🚫" * 100_000 + HOSTILE)
    letter = dead_letter(record, hostile, max_record_bytes=MIN_RECORD_BYTES)
    assert record_size(letter.key, letter.value, letter.headers) <= MIN_RECORD_BYTES
    found = dict(letter.headers)
    code, reason = found["binome_dlq_code"].decode(), found["binome_dlq_reason"].decode()
    assert len(code) <= CODE_CHARS
    assert len(reason) <= REASON_CHARS
    assert code.isprintable()
    assert reason.isprintable()


def test_the_outbox_refuses_a_limit_no_excerpt_fits() -> None:
    with pytest.raises(ValueError, match="max_record_bytes"):
        Outbox(max_record_bytes=MIN_RECORD_BYTES - 1)
