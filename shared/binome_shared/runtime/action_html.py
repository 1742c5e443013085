"""The small HTML pages of action links: accessible (a ``lang``, labels, fieldsets, one
heading), readable without CSS or JavaScript, a plain form POST. Everything written into a
page is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from binome_shared.runtime.action_kinds import (
    CheckboxesField,
    ChoiceField,
    FormField,
    TextField,
    Words,
)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}fieldset{border:1px solid #888;margin:1rem 0}"
    "button{font-size:1rem;padding:.5rem 1.2rem}label{display:block;margin:.2rem 0}"
    "textarea{width:100%}"
)


def page(language: str, title: str, body: str) -> bytes:
    """A whole HTML document in ``language`` ("fr" or "en")."""
    lang = "en" if language == "en" else "fr"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)} — Binôme</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    ).encode()


def message_page(language: str, title: Words, text: Words, *, status: str) -> bytes:
    """An answer: done, already recorded, refused. ``status`` names it for tests and
    assistive tools (``role=status`` or ``alert``)."""
    role = "alert" if status in ("invalid", "expired", "wrong_action", "refused") else "status"
    body = (
        f"<h1>{escape(title.in_language(language))}</h1>"
        f'<p role="{role}" data-outcome="{escape(status)}">'
        f"{escape(text.in_language(language))}</p>"
    )
    return page(language, title.in_language(language), body)


def bilingual_message_page(title: Words, text: Words, *, status: str) -> bytes:
    """An answer when the link cannot say the person's language (it is not a valid link):
    French first, then English, each marked with its own ``lang``."""
    body = (
        f'<h1>{escape(title.fr)}</h1><p role="alert" data-outcome="{escape(status)}">'
        f"{escape(text.fr)}</p>"
        f'<div lang="en"><h2>{escape(title.en)}</h2><p>{escape(text.en)}</p></div>'
    )
    return page("fr", title.fr, body)


def form_page(
    language: str,
    *,
    title: Words,
    question: Words,
    button: Words,
    token: str,
    fields: Sequence[FormField],
    action_url: str,
    error: Words | None = None,
    about: Words | None = None,
    values: Mapping[str, str] | None = None,
) -> bytes:
    """The confirmation page: the question, the fields, one button; the token travels in a
    hidden field so that the POST needs no query string."""
    parts = [f"<h1>{escape(title.in_language(language))}</h1>"]
    if error is not None:
        parts.append(f'<p role="alert">{escape(error.in_language(language))}</p>')
    parts.append(f"<p>{escape(question.in_language(language))}</p>")
    if about is not None:
        parts.append(f"<p><strong>{escape(about.in_language(language))}</strong></p>")
    parts.append(f'<form method="post" action="{escape(action_url)}">')
    parts.append(f'<input type="hidden" name="token" value="{escape(token)}">')
    parts.extend(_field(language, form_field, values or {}) for form_field in fields)
    parts.append(f'<button type="submit">{escape(button.in_language(language))}</button></form>')
    return page(language, title.in_language(language), "".join(parts))


def _field(language: str, form_field: FormField, values: Mapping[str, str]) -> str:
    if isinstance(form_field, CheckboxesField):
        return _checkboxes(language, form_field, values.get(form_field.name, ""))
    if isinstance(form_field, TextField):
        name = escape(form_field.name)
        # The text typed, given back when the form is refused (nobody retypes a long
        # comment): escaped, its control characters shown as U+FFFD, and after a line break,
        # which the HTML parser drops, so that a typed leading line break is kept.
        typed = escape(_printable(values.get(form_field.name, "")))
        return (
            f'<label for="{name}">{escape(form_field.label.in_language(language))}</label>'
            f'<textarea id="{name}" name="{name}" rows="4" dir="auto" '
            f'maxlength="{form_field.max_length}">\n{typed}</textarea>'
        )
    return _choices(language, form_field, values.get(form_field.name, ""))


def _printable(text: str) -> str:
    """``text`` without the control characters an HTML document may not hold (NUL…): each
    becomes U+FFFD, as a browser would show it. Tabs and line breaks stay."""
    return "".join(
        "\ufffd" if (ord(c) < 0x20 and c not in "\t\n\r") or 0x7F <= ord(c) < 0xA0 else c
        for c in text
    )


def _choices(language: str, form_field: ChoiceField, current: str) -> str:
    required = " required" if form_field.required else ""
    return _options(language, form_field, "radio", {current}, required)


def _checkboxes(language: str, form_field: CheckboxesField, current: str) -> str:
    return _options(language, form_field, "checkbox", set(current.split(",")), "")


def _options(
    language: str,
    form_field: ChoiceField | CheckboxesField,
    input_type: str,
    chosen: set[str],
    required: str,
) -> str:
    """A fieldset of radio buttons or check boxes, the ``chosen`` values already ticked."""
    name = escape(form_field.name)
    options = "".join(
        f'<label><input type="{input_type}" name="{name}" value="{escape(choice.value)}"'
        f"{required}{' checked' if choice.value in chosen else ''}> "
        f"{escape(choice.label.in_language(language))}</label>"
        for choice in form_field.choices
    )
    legend = escape(form_field.legend.in_language(language))
    return f"<fieldset><legend>{legend}</legend>{options}</fieldset>"
