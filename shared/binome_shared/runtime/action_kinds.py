"""What a service declares to serve action links: one :class:`ActionKind` per thing a link can
do, each turning the verified link (and the form the person filled) into the command an HR
platform would send. The pages, the once-only rule and the handling are the runtime's
(:mod:`.action_pages`); a service only lists its kinds in ``ServiceDefinition.actions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import asyncpg

from binome_shared.contracts.base import Message
from binome_shared.runtime.action_links import ActionClaims


class Words(NamedTuple):
    """A text a person reads, in both languages."""

    fr: str
    en: str

    def in_language(self, language: str) -> str:
        return self.en if language == "en" else self.fr


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer of a :class:`ChoiceField`: the form value and its label."""

    value: str
    label: Words


@dataclass(frozen=True, slots=True)
class ChoiceField:
    """Radio buttons in a fieldset (one answer, keyboard-reachable, no script)."""

    name: str
    legend: Words
    choices: Sequence[Choice]
    required: bool = True


@dataclass(frozen=True, slots=True)
class TextField:
    """A labelled text area, optional."""

    name: str
    label: Words
    max_length: int


@dataclass(frozen=True, slots=True)
class CheckboxesField:
    """Check boxes in a fieldset, any number ticked; submitted as one comma-separated value."""

    name: str
    legend: Words
    choices: Sequence[Choice]


FormField = ChoiceField | TextField | CheckboxesField


class ActionNotPossibleError(Exception):
    """The link is genuine but its action cannot be done (now, or by this person): the page
    says why and nothing is recorded."""

    def __init__(self, reason: Words) -> None:
        super().__init__(reason.en)
        self.reason = reason


CommandBuilder = Callable[[ActionClaims, Mapping[str, str], asyncpg.Connection], Awaitable[Message]]
"""Turns a verified link and the submitted form into the command a platform would send; it
may read the service's own tables (in the action's transaction) and raise
:class:`ActionNotPossibleError`."""


Prefill = Callable[[ActionClaims, asyncpg.Connection], Awaitable[Mapping[str, str]]]

AlreadyDone = Callable[[ActionClaims, asyncpg.Connection], Awaitable[bool]]
"""Whether what the link does is already so (the same answer given through another link or
by a platform): the page then says "already recorded" and publishes nothing."""


@dataclass(frozen=True, slots=True)
class ActionKind:
    """One thing a link can do, its page and its command."""

    name: str
    """The token's ``act`` claim (``session.held``)."""
    title: Words
    question: Words
    """What the page asks the person to confirm."""
    button: Words
    build: CommandBuilder
    fields: Callable[[ActionClaims], Sequence[FormField]] = field(default=lambda _claims: ())
    prefill: Prefill | None = None
    """The form's current values (what is ticked now), read from the service's tables."""
    reusable: bool = False
    """A link that may act again and again (a preferences page) instead of once: its token
    id is not recorded, so the command must be idempotent (it replaces a whole setting)."""
    describe: Callable[[ActionClaims], Words] | None = None
    """What the link is about, told under the question (which kind of message…)."""
    already_done: AlreadyDone | None = None
    """Read in the action's transaction, before the command is built (see :data:`AlreadyDone`)."""
    refusals: Mapping[str, Words] = field(default_factory=dict)
    """What the page tells the person when the handler refuses with one of these codes
    (``RejectedError.code``); another code shows the handler's own reason."""


def choice_value(form: Mapping[str, str], form_field: ChoiceField) -> str | None:
    """The submitted answer of a choice field, if it is one of its choices; an optional field
    left unanswered is None, but an answer that is not one of its choices is refused, never
    taken for no answer (a page never offers it: the request was made by hand)."""
    value = form.get(form_field.name, "")
    if value in {choice.value for choice in form_field.choices}:
        return value
    if form_field.required or value:
        raise ActionNotPossibleError(
            Words(
                fr=f"Merci de répondre : {form_field.legend.fr}",
                en=f"Please answer: {form_field.legend.en}",
            )
        )
    return None


def ticked(form: Mapping[str, str], form_field: CheckboxesField) -> list[str]:
    """The ticked boxes of a check-box field, in its order; a value it does not offer is
    refused (:func:`offered`)."""
    joined = form.get(form_field.name, "")
    sent = set(offered(joined.split(",") if joined else [], form_field))
    return [choice.value for choice in form_field.choices if choice.value in sent]


def offered(values: Sequence[str], form_field: CheckboxesField) -> Sequence[str]:
    """``values``, each one of the field's boxes; else refused, never ignored: a page only
    sends its own boxes, so another value was made by hand, and the person must not believe
    it was taken."""
    choices = {choice.value for choice in form_field.choices}
    if all(value in choices for value in values):
        return values
    raise ActionNotPossibleError(
        Words(
            fr=f"Merci de ne cocher que les cases proposées : {form_field.legend.fr.rstrip(' :')}",
            en=f"Please tick only the boxes offered: {form_field.legend.en.rstrip(' :')}",
        )
    )
