"""What an HTTP request may carry, read strictly: its query string and an urlencoded form body.

Every endpoint of the services and of the report server reads its input here, so that the
limits and the refusals are the same everywhere (docs/http-api.md, "Limits"):

- a query string of at most :data:`MAX_QUERY_BYTES` (414 beyond), a form body of at most
  :data:`MAX_FORM_BYTES` (413 beyond: the rest is read and dropped, up to
  :data:`DRAIN_BYTES`, so that the client reads the answer instead of a reset connection);
- at most :data:`MAX_FIELDS` fields (400 beyond);
- percent-encoded UTF-8 only: a byte sequence that is not UTF-8 (``%FF``) is refused (400),
  never replaced by U+FFFD and stored;
- a name given twice with different values is refused by :func:`single` (400): which one was
  meant? The same value twice is that value.

A refusal is an :class:`InputRefusedError` with its status, a stable code and its reason in
French and English; each surface words it its own way (a page, a JSON body).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

MAX_QUERY_BYTES: Final = 8_192
"""A signed link's query is under 1 KB; a programme-data query is a few ids."""
MAX_FORM_BYTES: Final = 65_536
"""The largest form (a 2,000-character comment, each character up to 9 bytes once
percent-encoded, and the token) is under 20 KB."""
MAX_FIELDS: Final = 64
"""The preferences page, the largest form, has a dozen check boxes and the token."""
DRAIN_BYTES: Final = 2 * 1024 * 1024
"""How much of an oversized body is still read (and dropped) before answering 413."""

Fields = Mapping[str, Sequence[str]]
"""Each name with its values, in the order sent."""


class InputRefusedError(Exception):
    """A request whose input is refused before anything is done; ``code`` is stable."""

    def __init__(self, status: int, code: str, *, fr: str, en: str) -> None:
        super().__init__(f"{code}: {en}")
        self.status = status
        self.code = code
        self.fr = fr
        self.en = en

    @property
    def bilingual(self) -> str:
        """The reason as the JSON endpoints give it: English, then French."""
        return f"{self.en} / {self.fr}"


def _too_many() -> InputRefusedError:
    return _over_limit(400, "too_many_fields", ("Trop de champs", "Too many fields"), MAX_FIELDS)


def _not_utf8() -> InputRefusedError:
    return InputRefusedError(
        400,
        "not_utf8",
        fr="La requête contient des octets qui ne sont pas de l'UTF-8 : rien n'a été fait.",
        en="The request holds bytes that are not UTF-8: nothing was done.",
    )


def _over_limit(
    status: int,
    code: str,
    what: tuple[str, str],
    limit: int,
    *,
    unit: tuple[str, str] = ("", ""),
) -> InputRefusedError:
    """A size limit passed: ``what`` (French, English), then the limit and its unit."""
    fr_unit, en_unit = (f" {word}" if word else "" for word in unit)
    return InputRefusedError(
        status,
        code,
        fr=f"{what[0]} (au plus {limit}{fr_unit}) : rien n'a été fait.",
        en=f"{what[1]} (at most {limit}{en_unit}): nothing was done.",
    )


def fields(raw: bytes) -> dict[str, list[str]]:
    """The fields of a query string or an urlencoded body, strictly decoded."""
    try:
        # Both are ASCII on the wire: anything else is percent-encoded.
        text = raw.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            encoding="utf-8",
            errors="strict",
        )
    except UnicodeError as error:
        raise _not_utf8() from error
    except ValueError as error:  # "Max number of fields exceeded"
        raise _too_many() from error
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def query_fields(scope: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fields of the request's query string (414 when it is too long)."""
    raw = bytes(scope.get("query_string", b""))
    if len(raw) > MAX_QUERY_BYTES:
        what = ("Adresse trop longue", "Address too long")
        raise _over_limit(414, "query_too_long", what, MAX_QUERY_BYTES, unit=("octets", "bytes"))
    return fields(raw)


def single(found: Fields, name: str, default: str = "") -> str:
    """The one value of ``name``; refused when it was sent twice with different values."""
    values = found.get(name)
    if not values:
        return default
    if len(set(values)) > 1:
        raise InputRefusedError(
            400,
            "field_repeated",
            fr=f"« {name} » est donné plusieurs fois avec des valeurs différentes.",
            en=f"'{name}' is given several times with different values.",
        )
    return values[0]


def read_only_method() -> InputRefusedError:
    """405 for an endpoint that is only read (GET, HEAD)."""
    return InputRefusedError(
        405,
        "method_not_allowed",
        fr="seule la méthode GET est permise ici",
        en="only GET is allowed here",
    )


def too_large() -> InputRefusedError:
    what = ("Envoi trop volumineux", "Request body too large")
    return _over_limit(413, "body_too_large", what, MAX_FORM_BYTES, unit=("octets", "bytes"))


def not_found() -> InputRefusedError:
    """404 for a path no endpoint serves (the same answer for every unknown path: it tells
    nothing about what exists)."""
    return InputRefusedError(
        404,
        "not_found",
        fr="Cette adresse n'existe pas : rien n'a été fait.",
        en="There is nothing at this address: nothing was done.",
    )


async def read_body(scope: Mapping[str, Any], receive: Any, limit: int = MAX_FORM_BYTES) -> bytes:
    """The request's body, if it is at most ``limit`` bytes; else :func:`too_large`, once
    the rest has been read and dropped (up to :data:`DRAIN_BYTES`)."""
    declared = _content_length(scope)
    if declared is not None and declared > limit:
        await _drain(receive, 0)
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            if message.get("more_body"):
                await _drain(receive, size)
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _drain(receive: Any, already: int) -> None:
    """Read and drop the rest of a body (bounded): a server that answers and closes while
    the client still writes makes the client's TCP stack reset the connection, and the
    client never reads the 413."""
    size = already
    while size <= DRAIN_BYTES:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            return


def header_values(scope: Mapping[str, Any], name: str) -> list[str]:
    """Every value of the request header ``name`` (given in lower case), in the order sent,
    decoded as Latin-1 (a field's bytes are opaque octets, RFC 9110 §5.5)."""
    wanted = name.encode("ascii")
    return [
        bytes(value).decode("latin-1")
        for found, value in scope.get("headers", ())
        if bytes(found).lower() == wanted
    ]


def _content_length(scope: Mapping[str, Any]) -> int | None:
    values = header_values(scope, "content-length")
    if not values:
        return None
    text = values[0].strip()
    if not (text.isascii() and text.isdigit()):
        return None
    # int() of thousands of digits is refused by Python itself: cap it first.
    return int(text) if len(text) <= 18 else 10**18


def content_type(scope: Mapping[str, Any]) -> str:
    """The media type of the body, lower case, without its parameters."""
    values = header_values(scope, "content-type")
    return values[0].split(";")[0].strip().lower() if values else ""
