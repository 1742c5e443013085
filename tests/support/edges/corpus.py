"""The edge corpus: header, key and body bytes of every shape, each from a valid enrolment.

Verdicts: ``REFUSE`` where no reading of the contracts could accept the record (unreadable
``ce_*`` attributes, control characters or invalid UTF-8 in them, bodies that are not the
type's JSON, unknown types and majors); ``ACCEPT`` where the record is a valid command
whatever the noise around it (unknown non-``ce`` headers, a newer minor version);
``EITHER`` where the platform may choose, as long as every reader chooses the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.support.edges.cases import (
    Case,
    Verdict,
    newer_minor,
    with_body,
    with_header,
    with_json,
)

ACCEPT, REFUSE, EITHER = Verdict.ACCEPT, Verdict.REFUSE, Verdict.EITHER

ONE_MB = 1_000_000


Shape = Callable[[Case], Case]


def header(name: str, value: bytes | None, verdict: Verdict) -> Shape:
    return lambda case: with_header(case, name, value, verdict=verdict)


def body(value: bytes | None, verdict: Verdict) -> Shape:
    return lambda case: with_body(case, value, verdict=verdict)


def _set_name(text: Any) -> Callable[[dict[str, Any]], object]:
    return lambda data: data["participant"].update(full_name=text)


def _replace_name(raw: bytes, verdict: Verdict) -> Shape:
    """The JSON body with the name's bytes swapped for ``raw`` (bytes no encoder writes)."""

    def shape(case: Case) -> Case:
        assert case.value is not None
        data = json.loads(case.value)
        name = data["participant"]["full_name"].encode()
        return with_body(case, case.value.replace(name, raw, 1), verdict=verdict)

    return shape


def repeated(name: str, second: bytes, verdict: Verdict) -> Shape:
    """A second header of the same name after the real one."""
    return lambda case: replace(
        case, headers=(*case.headers, (name, second)), verdict=verdict, probes=()
    )


def extra_header(name: str, value: bytes, verdict: Verdict) -> Shape:
    return lambda case: replace(
        case,
        headers=(*case.headers, (name, value)),
        verdict=verdict,
        probes=case.probes if verdict is ACCEPT else (),
    )


def key(value: bytes | None) -> Shape:
    return lambda case: replace(case, key=value, verdict=EITHER, probes=())


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


RAW_SHAPES: dict[str, Shape] = {
    # ce_type: unknown to every reader, so each of the three dead-letters it.
    "ce_type-nul": header("ce_type", b"binome.hr.enrol-participant\x00", REFUSE),
    "ce_type-crlf": header("ce_type", b"binome.hr.enrol-participant\r\n", REFUSE),
    "ce_type-invalid-utf8": header("ce_type", b"\xff\xfebinome.hr.enrol-participant", REFUSE),
    "ce_type-overlong-utf8": header("ce_type", b"binome.hr.enrol-participant\xc0\xaf", REFUSE),
    "ce_type-lone-surrogate": header("ce_type", b"binome.hr.\xed\xa0\x80enrol", REFUSE),
    "ce_type-empty": header("ce_type", b"", REFUSE),
    "ce_type-missing": header("ce_type", None, REFUSE),
    "ce_type-huge": header("ce_type", b"x" * 100_000, REFUSE),
    "ce_type-unknown": header("ce_type", b"binome.hr.no-such-command", REFUSE),
    # Other attributes of a known type: its readers (pairing, notifications) refuse it.
    "ce_id-nul": header("ce_id", b"\x00" * 16, REFUSE),
    "ce_id-missing": header("ce_id", None, REFUSE),
    "ce_specversion-nul": header("ce_specversion", b"1.0\x00", REFUSE),
    "ce_time-binary": header("ce_time", b"\xff\xfe\x00", REFUSE),
    "ce_time-year-1-offset": header("ce_time", b"0001-01-01T00:00:00+14:00", EITHER),
    "ce_time-year-9999-offset": header("ce_time", b"9999-12-31T23:59:59-14:00", EITHER),
    "ce_schemaversion-major-2": header("ce_schemaversion", b"2.0", REFUSE),
    "ce_schemaversion-garbage": header("ce_schemaversion", b"\xff.\x00", REFUSE),
    "ce_schemaversion-huge-minor": header("ce_schemaversion", b"1." + b"9" * 40, EITHER),
    "ce_tenantid-nul": header("ce_tenantid", b"groupe\x00exemple", REFUSE),
    "ce_tenantid-invalid-utf8": header("ce_tenantid", b"groupe-\xff\xfe", REFUSE),
    "ce_tenantid-crlf": header("ce_tenantid", b"groupe\r\nexemple", REFUSE),
    "ce_programmeid-nul": header("ce_programmeid", b"prog-edges\x00", REFUSE),
    "ce_programmeid-huge": header("ce_programmeid", b"p" * 100_000, REFUSE),
    "ce_source-nul": header("ce_source", b"/hr/\x00", REFUSE),
    "ce_subject-invalid-utf8": header("ce_subject", b"\xc3\x28", REFUSE),
    "ce_correlationid-garbage": header("ce_correlationid", b"\x00not-a-uuid", REFUSE),
    "ce_type-repeated": repeated("ce_type", b"binome.hr.no-such-command", EITHER),
    "ce_id-repeated": repeated("ce_id", b"\xff\x00", EITHER),
    # Headers that are not CloudEvents attributes carry anything: the command stands.
    "x-binary-header": extra_header("x-signature", bytes(range(256)) * 4, ACCEPT),
    "traceparent-garbage": extra_header("traceparent", b"\xff\x00garbage", ACCEPT),
    "header-name-nul": extra_header("x-\x00-name", b"value", EITHER),
    "header-huge": extra_header("x-padding", b"\x00" * 200_000, ACCEPT),
    # Keys are transport only; the services must still agree on the command.
    "key-null": key(None),
    "key-empty": key(b""),
    "key-binary": key(b"\x00\xff\xfe\x00"),
    "key-huge": key(b"k" * 100_000),
    # Bodies.
    "value-null": body(None, REFUSE),
    "value-empty": body(b"", REFUSE),
    "value-garbage": body(bytes(range(256)) * 8, REFUSE),
    "value-json-array": body(b"[1, 2, 3]", REFUSE),
    "value-json-string": body(b'"EnrolParticipant"', REFUSE),
    "value-deeply-nested": body(_deep(100_000), REFUSE),
    "body-invalid-utf8": _replace_name(b"Jean \xff\xfe Dupont", REFUSE),
    "body-overlong-utf8": _replace_name(b"Jean \xc0\xae Dupont", REFUSE),
    "body-lone-surrogate-bytes": _replace_name(b"Jean \xed\xa0\x80 Dupont", REFUSE),
    "body-nul-escape": lambda case: with_json(case, _set_name("Jean\x00Dupont"), verdict=REFUSE),
    "body-lone-surrogate-escape": lambda case: with_json(
        case, _set_name("Jean \ud800 Dupont"), verdict=EITHER
    ),
    "body-name-1mb": lambda case: with_json(case, _set_name("x" * ONE_MB), verdict=REFUSE),
    "body-trailing-garbage": lambda case: with_body(
        case, (case.value or b"") + b"\x00}", verdict=REFUSE
    ),
    "body-unknown-field-at-1.0": lambda case: with_json(
        case, lambda data: data.update(surprise=1), verdict=EITHER
    ),
    "newer-minor-1.9": newer_minor,
}


def raw_corpus(make_valid: Callable[[str], Case]) -> list[Case]:
    """Every raw shape, each followed by a valid enrolment (which must not be lost)."""
    cases: list[Case] = []
    for name, shape in RAW_SHAPES.items():
        cases.append(shape(make_valid(name)))
        cases.append(make_valid("valid-after-" + name))
    return cases
