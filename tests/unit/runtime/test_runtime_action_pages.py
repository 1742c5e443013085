"""The action pages' HTML: in the person's language, labelled, script-free, and escaping
everything written into it (a label, a token, an error)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from binome_devstack.local_action_keys import new_action_key, public_pem
from binome_shared.contracts.base import Message
from binome_shared.runtime.action_html import bilingual_message_page, form_page, message_page
from binome_shared.runtime.action_kinds import (
    ActionKind,
    ActionNotPossibleError,
    CheckboxesField,
    Choice,
    ChoiceField,
    TextField,
    Words,
    choice_value,
    ticked,
)
from binome_shared.runtime.action_links import ActionLinkSigner, ActionLinkVerifier
from binome_shared.runtime.action_pages import ActionPages
from binome_shared.runtime.http_auth import PemKeys
from binome_shared.runtime.lifecycle import NotStartedError

pytestmark = pytest.mark.unit

HOSTILE = Words('<script>alert("fr")</script>', '"><img src=x onerror=alert(1)>')
RATING = ChoiceField(
    name="rating",
    legend=Words("Votre note", "Your rating"),
    choices=tuple(Choice(str(n), Words(str(n), str(n))) for n in range(1, 6)),
)
KINDS = CheckboxesField(
    name="opt_out",
    legend=Words("Ne plus m'envoyer", "Do not send me"),
    choices=(Choice("a", Words("A", "A")), Choice("b", Words("B", "B"))),
)


def test_a_form_page_is_in_the_persons_language_with_labelled_fields_and_no_script() -> None:
    page = form_page(
        "en",
        title=Words("Titre", "Title"),
        question=Words("Question ?", "Question?"),
        button=Words("Envoyer", "Send"),
        token="abc.def.ghi",
        fields=(RATING, TextField(name="comment", label=Words("C", "Comment"), max_length=10)),
        action_url="/actions",
        values={"rating": "4"},
    ).decode()
    assert '<html lang="en">' in page
    assert "<script" not in page
    assert '<form method="post" action="/actions">' in page
    assert '<input type="hidden" name="token" value="abc.def.ghi">' in page
    assert "<fieldset><legend>Your rating</legend>" in page
    assert 'value="4" required checked>' in page
    assert 'value="3" required>' in page
    assert '<label for="comment">Comment</label>' in page
    assert 'maxlength="10"' in page


def test_everything_written_into_a_page_is_escaped() -> None:
    page = form_page(
        "fr",
        title=HOSTILE,
        question=HOSTILE,
        button=HOSTILE,
        token='"><script>x</script>',
        fields=(ChoiceField(name='n"', legend=HOSTILE, choices=(Choice('v"', HOSTILE),)),),
        action_url="/actions",
        error=HOSTILE,
        about=HOSTILE,
    ).decode()
    answer = message_page("en", HOSTILE, HOSTILE, status="refused").decode()
    both = bilingual_message_page(HOSTILE, HOSTILE, status="invalid").decode()
    for text in (page, answer, both):
        assert "<script" not in text
        assert "<img" not in text
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in page


def test_a_page_without_a_known_language_says_it_in_both() -> None:
    page = bilingual_message_page(
        Words("Lien non valide", "Invalid link"), Words("fr", "en"), status="invalid"
    ).decode()
    assert '<html lang="fr">' in page
    assert '<div lang="en"><h2>Invalid link</h2>' in page
    assert 'role="alert" data-outcome="invalid"' in page


def test_choices_and_boxes_take_only_their_own_values() -> None:
    assert choice_value({"rating": "5"}, RATING) == "5"
    with pytest.raises(ActionNotPossibleError):
        choice_value({"rating": "6"}, RATING)
    with pytest.raises(ActionNotPossibleError):
        choice_value({}, RATING)
    assert ticked({"opt_out": "b,a"}, KINDS) == ["a", "b"]
    assert ticked({"opt_out": ""}, KINDS) == ticked({}, KINDS) == []


@pytest.mark.parametrize("sent", ["b,zzz,a", "A", "a,", " a", "<b>"])
def test_a_box_the_page_does_not_offer_is_refused_not_ignored(sent: str) -> None:
    with pytest.raises(ActionNotPossibleError) as refused:
        ticked({"opt_out": sent}, KINDS)
    assert refused.value.reason == Words(
        "Merci de ne cocher que les cases proposées : Ne plus m'envoyer",
        "Please tick only the boxes offered: Do not send me",
    )


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("</textarea><b>", "&lt;/textarea&gt;&lt;b&gt;"),
        ("a\x00b\x1bc\x85", "a\ufffdb\ufffdc\ufffd"),
        ("\nfirst line kept\r\n\tsecond", "\nfirst line kept\r\n\tsecond"),
        ("ok \u202egnp.exe", "ok \u202egnp.exe"),
        ("é" * 2_500, "é" * 2_500),
    ],
    ids=["markup", "closing the text area", "control characters", "line breaks", "bidi", "long"],
)
def test_a_refused_form_gives_back_the_text_typed_escaped(typed: str, shown: str) -> None:
    comment = TextField(name="comment", label=Words("C", "Comment"), max_length=2_000)
    page = form_page(
        "fr",
        title=Words("T", "T"),
        question=Words("Q", "Q"),
        button=Words("B", "B"),
        token="t",
        fields=(comment,),
        action_url="/actions",
        values={"comment": typed},
    ).decode()
    assert f'dir="auto" maxlength="2000">\n{shown}</textarea>' in page
    assert page.count("</textarea>") == 1


class _Starting:
    """A service whose start-up has not made its pool yet."""

    @property
    def pool(self) -> object:
        raise NotStartedError


async def _served(pages: ActionPages, method: str, query: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/actions", "query_string": query}
    await pages(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(sent[0]["status"]), body


async def test_a_click_while_the_service_starts_is_told_to_come_back() -> None:
    key = new_action_key()
    verifier = ActionLinkVerifier(keys=PemKeys(public_pem(key)), issuer="i", owner="sessions")
    token = ActionLinkSigner(key=key, issuer="i").sign(
        owner="sessions", tenant_id="t", subject="p", action="a", target={}, language="fr"
    )
    kind = ActionKind(name="a", title=HOSTILE, question=HOSTILE, button=HOSTILE, build=_never_built)
    pages = ActionPages(runtime=cast(Any, _Starting()), verifier=verifier, kinds={"a": kind})
    status, body = await _served(pages, "GET", f"token={token}".encode())
    assert status == 503
    assert b'data-outcome="unavailable"' in body
    assert (await _served(pages, "PUT", b""))[0] == 405
    status, body = await _served(pages, "POST", b"token=forged")
    assert (status, b'data-outcome="invalid"' in body) == (403, True)


async def _never_built(*_: Any) -> Message:
    raise AssertionError("nothing is built for a click that cannot be answered")
