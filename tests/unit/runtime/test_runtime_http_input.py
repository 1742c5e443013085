"""How a request's query string and form body are read: strictly, within their limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from binome_shared.runtime.action_kinds import (
    ActionNotPossibleError,
    Choice,
    ChoiceField,
    Words,
    choice_value,
)
from binome_shared.runtime.http_input import (
    DRAIN_BYTES,
    MAX_FIELDS,
    MAX_FORM_BYTES,
    MAX_QUERY_BYTES,
    InputRefusedError,
    fields,
    not_found,
    query_fields,
    read_body,
    read_only_method,
    single,
)
from binome_shared.runtime.service import negotiated, wants_html

pytestmark = pytest.mark.unit


def test_fields_keep_every_value_of_a_name_in_order() -> None:
    assert fields(b"a=1&b=%C3%A9&a=2&c=") == {"a": ["1", "2"], "b": ["é"], "c": [""]}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"a=%FF", "not_utf8"),
        (b"a=\xff", "not_utf8"),
        (b"a=%C3", "not_utf8"),
        (b"&".join(b"f%d=1" % n for n in range(MAX_FIELDS + 1)), "too_many_fields"),
    ],
)
def test_unreadable_or_too_many_fields_are_refused(raw: bytes, code: str) -> None:
    with pytest.raises(InputRefusedError) as refused:
        fields(raw)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_a_query_past_its_limit_is_414() -> None:
    assert query_fields({"query_string": b"a=" + b"x" * (MAX_QUERY_BYTES - 2)}) == {
        "a": ["x" * (MAX_QUERY_BYTES - 2)]
    }
    with pytest.raises(InputRefusedError) as refused:
        query_fields({"query_string": b"a=" + b"x" * (MAX_QUERY_BYTES - 1)})
    assert refused.value.status == 414


def test_one_value_per_name_unless_it_is_the_same() -> None:
    assert single({"a": ["1", "1"]}, "a") == "1"
    assert single({}, "a", "default") == "default"
    with pytest.raises(InputRefusedError) as refused:
        single({"a": ["1", "2"]}, "a")
    assert refused.value.code == "field_repeated"


class _Body:
    """An ASGI ``receive`` giving a body in chunks, counting what was read."""

    def __init__(self, size: int, chunk: int = 65_536) -> None:
        self._left = size
        self._chunk = chunk
        self.read = 0

    async def __call__(self) -> dict[str, Any]:
        part = min(self._left, self._chunk)
        self._left -= part
        self.read += part
        return {"type": "http.request", "body": b"x" * part, "more_body": self._left > 0}


def _scope(length: int | str | None) -> dict[str, Any]:
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    return {"headers": headers}


async def test_a_body_at_its_limit_is_read_whole() -> None:
    body = _Body(MAX_FORM_BYTES)
    assert len(await read_body(_scope(MAX_FORM_BYTES), body)) == MAX_FORM_BYTES


@pytest.mark.parametrize("declared", [MAX_FORM_BYTES + 1, None, "9" * 5_000])
async def test_a_body_past_its_limit_is_413_once_drained(declared: int | str | None) -> None:
    """Declared or not (chunked), and whatever the length says: 413, the rest read and
    dropped so that the client reads the answer."""
    body = _Body(1_000_000)
    with pytest.raises(InputRefusedError) as refused:
        await read_body(_scope(declared), body)
    assert (refused.value.status, refused.value.code) == (413, "body_too_large")
    assert body.read == 1_000_000


async def test_draining_stops_at_its_bound() -> None:
    body = _Body(50 * 1024 * 1024)
    with pytest.raises(InputRefusedError):
        await read_body(_scope(None), body)
    assert DRAIN_BYTES <= body.read <= DRAIN_BYTES + 2 * 65_536


def test_an_optional_choice_may_be_left_out_but_not_answered_wrongly() -> None:
    optional = ChoiceField(
        name="fit",
        legend=Words("Convient ?", "A good fit?"),
        choices=(Choice("yes", Words("Oui", "Yes")), Choice("no", Words("Non", "No"))),
        required=False,
    )
    assert choice_value({}, optional) is None
    with pytest.raises(ActionNotPossibleError):
        choice_value({"fit": "maybe"}, optional)


@pytest.mark.parametrize(
    ("accept", "page"),
    [
        (b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        (b"TEXT/HTML", True),
        (b"text/html;q=0.5, application/json", True),
        (b"*/*", False),
        (b"application/json", False),
        (b"text/html;q=0", False),
        (b"text/html; q=0.000", False),
        (b"text/htmlx", False),
        (b"\xff\xfe", False),
        (None, False),
    ],
)
def test_a_refusal_is_a_page_for_a_browser_and_json_for_a_program(
    accept: bytes | None, page: bool
) -> None:
    scope = {"headers": [] if accept is None else [(b"accept", accept)]}
    assert wants_html(scope) is page
    answer = negotiated(scope, not_found())
    assert answer.status_code == 404
    headers = dict(answer.raw_headers)
    assert headers[b"x-content-type-options"] == b"nosniff"
    if page:
        assert headers[b"content-type"] == b"text/html; charset=utf-8"
        assert b'data-outcome="not_found"' in answer.body
        assert b"Page introuvable" in answer.body
        assert b"Page not found" in answer.body
    else:
        assert headers[b"content-type"] == b"application/json; charset=utf-8"
        assert json.loads(answer.body) == {
            "error": "There is nothing at this address: nothing was done. / "
            "Cette adresse n'existe pas : rien n'a été fait.",
            "code": "not_found",
        }


def test_a_405_names_what_is_allowed_as_a_page_too() -> None:
    scope = {"headers": [(b"accept", b"text/html")]}
    answer = negotiated(scope, read_only_method())
    assert (answer.status_code, dict(answer.raw_headers)[b"allow"]) == (405, b"GET, HEAD")
    assert b'data-outcome="method_not_allowed"' in answer.body
