"""Constrained text: what every string field of a contract may hold.

Messages are untrusted input that every service stores (PostgreSQL refuses NUL in ``text``
and ``jsonb``), indexes (a B-tree row holds at most about 2.7 KB) and writes into e-mails
(a line break in a name would start a forged header). So no string is a bare ``str``:

- **identifiers** (tenant, programme, participant, pair, round, objective ids): 1 to
  :data:`ID_MAX_LENGTH` characters, no control character, kept exactly as sent (ids are
  opaque, so they are not normalised);
- **references** built from identifiers by services (``hr:<programme id>``, a session's
  ``<pair id>-<number>#<revision>``): up to :data:`REFERENCE_MAX_LENGTH`;
- **single-line text** people read (names, titles, places): no control character at all,
  normalised to Unicode NFC, bounded;
- **free text** (comments, notes, reasons): the same, but tab, CR and LF are allowed.

"Control character" means the C0 and C1 controls (NUL, CR, LF, tab, ESC, …), DEL, the Unicode
line and paragraph separators (U+2028, U+2029), and the bidirectional embeddings, overrides and
isolates (U+202A–U+202E, U+2066–U+2069) that make a text display other than it reads.
Validation runs in pydantic's core (a regular expression), so a large message of ids costs
no Python call per value; only human-readable text is normalised in Python.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

ID_MAX_LENGTH = 200
"""Longest identifier, in characters: at most 800 bytes of UTF-8, so that a B-tree index on two
identifiers (1.6 KB) stays well under PostgreSQL's limit of about 2.7 KB per index row."""

REFERENCE_MAX_LENGTH = 400
"""Longest reference a service builds from identifiers (an id plus a prefix or a suffix)."""

_BEYOND_C0 = r"\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069"
CONTROL_RANGES = r"\u0000-\u001F" + _BEYOND_C0
"""The control characters, as the inside of a regular expression's character class."""
_CONTROLS_BUT_LINE_BREAKS = r"\u0000-\u0008\u000B\u000C\u000E-\u001F" + _BEYOND_C0

CONTROL_CHARACTER = re.compile(f"[{CONTROL_RANGES}]")
"""Finds the first character single-line text may not hold (for precise error messages)."""

SINGLE_LINE_PATTERN = f"^[^{CONTROL_RANGES}]*$"
"""What identifiers and single-line text match (ECMA-262, Rust and Python regex alike)."""

MULTILINE_PATTERN = f"^[^{_CONTROLS_BUT_LINE_BREAKS}]*$"
"""What free text matches: tab, CR and LF are allowed, every other control is not."""

_SINGLE_LINE_REASON = (
    "contains a control character (NUL, CR, LF, tab, another C0/C1 control, a Unicode line "
    "or paragraph separator, or a bidirectional override); this text must be one plain line"
)
_MULTILINE_REASON = (
    "contains a control character (NUL, another C0/C1 control other than tab, CR and LF, a "
    "Unicode line or paragraph separator, or a bidirectional override)"
)


def _nfc(value: str) -> str:
    # is_normalized is a fast check: almost every text arrives already in NFC.
    return value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)


@dataclass(frozen=True, slots=True)
class TextRule:
    """The constraints of one kind of string, as ``Annotated[str, TextRule(...)]`` metadata.

    A refused value is reported under its field's name with the reason: ``control_character``
    (with what is forbidden), ``string_too_short`` or ``string_too_long``.
    """

    max_length: int
    min_length: int = 0
    multiline: bool = False
    normalise: bool = True
    """Normalise to NFC (before the length is checked); identifiers are kept as sent."""

    @property
    def pattern(self) -> str:
        return MULTILINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        steps: list[CoreSchema] = [
            core_schema.custom_error_schema(
                core_schema.str_schema(pattern=self.pattern),
                custom_error_type="control_character",
                custom_error_message=_MULTILINE_REASON if self.multiline else _SINGLE_LINE_REASON,
            )
        ]
        if self.normalise:
            steps.append(core_schema.no_info_plain_validator_function(_nfc))
        steps.append(core_schema.str_schema(min_length=self.min_length, max_length=self.max_length))
        return core_schema.chain_schema(steps)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema: JsonSchemaValue = {"type": "string"}
        if self.min_length:
            json_schema["minLength"] = self.min_length
        json_schema["maxLength"] = self.max_length
        json_schema["pattern"] = self.pattern
        return json_schema


def line(max_length: int, *, min_length: int = 0) -> TextRule:
    """Single-line, human-readable text, normalised to NFC."""
    return TextRule(max_length=max_length, min_length=min_length)


def free_text(max_length: int, *, min_length: int = 0) -> TextRule:
    """Multi-line, human-readable text (line breaks and tabs allowed), normalised to NFC."""
    return TextRule(max_length=max_length, min_length=min_length, multiline=True)


Identifier = Annotated[str, TextRule(max_length=ID_MAX_LENGTH, min_length=1, normalise=False)]
"""An id from a system of record or a service: 1–200 characters, no control character."""

_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def is_identifier(value: object) -> bool:
    """Whether ``value`` is a valid :data:`Identifier`: what an id taken from a path, a query
    or a token must be before it goes into SQL (a NUL or an overlong id is refused input,
    not a database error)."""
    if not isinstance(value, str):
        return False
    try:
        _IDENTIFIER.validate_python(value)
    except ValidationError:
        return False
    return True


Reference = Annotated[str, TextRule(max_length=REFERENCE_MAX_LENGTH, normalise=False)]
"""An id a service built from identifiers (possibly empty when absent): up to 400 characters."""

Name = Annotated[str, line(200, min_length=1)]
"""A name people read (person, programme, organisation, department, site): one line."""

Code = Annotated[str, line(100)]
"""A short machine word from a vocabulary (a reason code, a channel, a role)."""

Reason = Annotated[str, free_text(500)]
"""Why someone did something, in their words (optional, may span lines)."""
