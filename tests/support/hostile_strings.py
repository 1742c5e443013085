"""Hostile strings for every string field of a command, and what the contracts make of them.

The strings are those that break e-mails, terminals, databases and eyes: NUL, CR/LF (with a
forged header after them), C0 and C1 controls, DEL, Unicode line separators, bidirectional
overrides and isolates, lone surrogates (as JSON ``\\ud800`` escapes), text that is not in
NFC (and that is longer than a limit before normalisation, shorter after), and strings at
and just past every length limit the contracts use. What the contracts make of a value is
read with the platform's own decoder (:func:`binome_shared.messaging.cloudevents.decode`):
refused, with the code and reason every reader must dead-letter it with, or accepted, with
the value the services then hold.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.messaging.cloudevents import ReceivedRecord, UndecodableRecordError, decode
from tests.support.edges.cases import Case

FieldPath = tuple[str | int, ...]

CONTROLS = [
    "\x00", "\r\n", "\n", "\r", "\t", "\x0b", "\x1b[2J", "\x7f", "\x85", "\x9b",
    "\u2028", "\u2029", "\u202e", "\u2066", "\u2069",
]  # fmt: skip
LONE_SURROGATES = ["\ud800", "\udfff"]
NOT_NFC = ["e\u0301", "Ine\u0301s", "\u212b", "\u1e9b\u0323", "\u0041\u030a"]
FORGED_HEADERS = [
    "Ines\r\nReply-To: attacker@evil.example",
    "Ines\nBcc: spy@evil.example",
    "=?utf-8?q?Ines=0D=0AReply-To:_attacker@evil.example?=",
]
LIMITS = [
    64,
    65,
    100,
    101,
    200,
    201,
    300,
    301,
    320,
    321,
    400,
    401,
    500,
    501,
    2000,
    2001,
    4000,
    4001,
]
FILLERS = ["x", "é", "e\u0301", "😀"]


def _surrounded(fragment: str, index: int) -> str:
    return ("", "Ines ")[index % 2] + fragment + ("", " Martin")[index // 2 % 2]


HOSTILE_CATALOGUE: list[str] = [
    *(
        _surrounded(fragment, index)
        for index, fragment in enumerate([*CONTROLS, *LONE_SURROGATES, *NOT_NFC, *FORGED_HEADERS])
    ),
    *(fill * length for length in LIMITS for fill in FILLERS),
]
"""Every hostile value once, for going round a burst's fields."""


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile string: a fragment in plain text, or a long run at or past a limit."""
    fragment = st.sampled_from([*CONTROLS, *LONE_SURROGATES, *NOT_NFC, *FORGED_HEADERS])
    surrounded = st.builds(
        lambda before, bad, after: before + bad + after,
        st.sampled_from(["", "Ines "]),
        fragment,
        st.sampled_from(["", " Martin"]),
    )
    long_run = st.builds(
        lambda length, fill: fill * length, st.sampled_from(LIMITS), st.sampled_from(FILLERS)
    )
    return st.one_of(surrounded, long_run)


def short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 48 else f"{text[:36]}…({len(value)} chars)"


def _at(document: Any, path: FieldPath) -> Any:
    for step in path:
        document = document[step]
    return document


def string_paths(document: Any, path: FieldPath = ()) -> Iterator[FieldPath]:
    """Every string leaf of a JSON document."""
    if isinstance(document, dict):
        for name, child in document.items():
            yield from string_paths(child, (*path, name))
    elif isinstance(document, list):
        for index, child in enumerate(document):
            yield from string_paths(child, (*path, index))
    elif isinstance(document, str):
        yield path


def field_name(path: FieldPath) -> str:
    """The name a refusal must give: the last named step of the path."""
    return next(str(step) for step in reversed(path) if isinstance(step, str))


@dataclass(frozen=True)
class ContractVerdict:
    """What the contracts make of a record: refused (code, reason) or accepted (the value
    as the services receive it, after normalisation)."""

    refused_code: str | None
    reason: str
    accepted_value: Any = None

    @property
    def refused(self) -> bool:
        return self.refused_code is not None


def contract_verdict(case: Case, path: FieldPath) -> ContractVerdict:
    record = ReceivedRecord(
        topic=case.topic.name,
        partition=0,
        offset=0,
        key=case.key,
        value=case.value,
        headers=list(case.wire_headers),
    )
    try:
        envelope = decode(record, CATALOGUE)
    except UndecodableRecordError as error:
        return ContractVerdict(str(error.code), error.reason)
    return ContractVerdict(None, "", _at(json.loads(envelope.data.model_dump_json()), path))


@functools.cache
def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)
