"""``GET``/``POST /actions?token=…``: the page behind an e-mail's action link.

GET verifies the link and shows what it will do (a question, perhaps a form); POST does it,
once. Doing it means building the command an HR platform would send and handing it, in an
envelope, to the service's own handler through :meth:`ReliableConsumer.perform`, in ONE
transaction with the record of the link's token id (``action_links_used``).

Why in the request rather than publishing the command to Kafka for the consumer: the person
is waiting for an answer. Handled here, the token id, the effect and the events in the outbox
commit together or not at all, so the page can say truthfully "recorded", "already recorded"
(the token id is there: two clicks racing serialise on its primary key) or "refused, because
…" (the handler's own refusal, rolled back). Published to Kafka, the page could only say
"received", and a refusal would end as a dead letter the person never sees. The handler, the
unit of work and the outbox are the consumer's: one code path for platforms and people.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import asyncpg
from faststream.asgi import AsgiResponse
from pydantic import ValidationError

from binome_shared.contracts.base import Envelope
from binome_shared.messaging.errors import (
    TRANSIENT_ERRORS,
    AwaitingPrerequisiteError,
    RejectedError,
)
from binome_shared.runtime.action_html import bilingual_message_page, form_page, message_page
from binome_shared.runtime.action_kinds import (
    ActionKind,
    ActionNotPossibleError,
    CheckboxesField,
    Words,
    offered,
)
from binome_shared.runtime.action_links import (
    ActionClaims,
    ActionLinkRejectedError,
    ActionLinkVerifier,
    ActionRefusal,
)
from binome_shared.runtime.http_input import (
    Fields,
    InputRefusedError,
    content_type,
    fields,
    query_fields,
    read_body,
    single,
)
from binome_shared.runtime.lifecycle import NotStartedError

if TYPE_CHECKING:
    from binome_shared.runtime.lifecycle import ServiceRuntime

logger = logging.getLogger(__name__)

PATH: Final = "/actions"
_TOKEN_NAMESPACE: Final = uuid.UUID("6f1c8a52-3c57-4d0e-9a55-0b1d2c7e4a11")

_MARK_USED = """
INSERT INTO action_links_used (tenant_id, token_id, action, subject, event_id, used_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, token_id) DO NOTHING
RETURNING true
"""
_WAS_USED = "SELECT true FROM action_links_used WHERE tenant_id = $1 AND token_id = $2"

REFUSALS: Final[Mapping[str, tuple[Words, Words]]] = {
    ActionRefusal.INVALID: (
        Words("Lien non valide", "Invalid link"),
        Words(
            "Ce lien n'est pas valide : rien n'a été enregistré. Utilisez le lien reçu par "
            "e-mail, sans le modifier.",
            "This link is not valid: nothing was recorded. Use the link from the e-mail, "
            "unchanged.",
        ),
    ),
    ActionRefusal.EXPIRED: (
        Words("Lien expiré", "Link expired"),
        Words(
            "Ce lien a expiré : rien n'a été enregistré. Votre contact RH peut vous aider.",
            "This link has expired: nothing was recorded. Your HR contact can help.",
        ),
    ),
    ActionRefusal.WRONG_ACTION: (
        Words("Lien non valide ici", "Link not valid here"),
        Words(
            "Ce lien ne sert pas à cette action : rien n'a été enregistré.",
            "This link is not for this action: nothing was recorded.",
        ),
    ),
}
_ALREADY = (
    Words("Déjà enregistré", "Already recorded"),
    Words(
        "Votre réponse à ce lien est déjà enregistrée : rien de plus n'a été fait. Merci !",
        "Your answer to this link is already recorded: nothing more was done. Thank you!",
    ),
)
_DONE = (
    Words("Enregistré", "Recorded"),
    Words("C'est enregistré. Merci !", "It is recorded. Thank you!"),
)
_NOT_YET = Words(
    "Ce n'est pas encore possible : réessayez un peu plus tard.",
    "This is not possible yet: please try again a little later.",
)
_UNREADABLE = Words(
    "Une partie de ce que vous avez saisi ne peut être acceptée : merci de la corriger.",
    "Part of what you typed cannot be accepted: please correct it.",
)
_NOT_NOW: Final[tuple[type[BaseException], ...]] = (*TRANSIENT_ERRORS, NotStartedError)
"""What makes a click unanswerable now, not wrong: Postgres away, the service starting."""
_UNAVAILABLE = (
    Words("Service momentanément indisponible", "Service briefly unavailable"),
    Words(
        "Rien n'a été fait : réessayez le même lien dans une minute.",
        "Nothing was done: try the same link again in a minute.",
    ),
)
_REFUSED_TITLE = Words("Action impossible", "Action not possible")
_REQUEST_REFUSED = Words("Demande refusée", "Request refused")
_NOT_FOUND = Words("Page introuvable", "Page not found")
_METHOD = Words(
    "Cette adresse s'ouvre (GET) ou s'envoie par le formulaire (POST) : rien n'a été fait.",
    "This address is opened (GET) or sent by its form (POST): nothing was done.",
)


class _AlreadyUsedError(Exception):
    """The link's token id is already recorded: its action was done."""


@dataclass(frozen=True, slots=True)
class ActionRequest:
    method: str
    token: str
    form: Fields
    """Each submitted name with its values: :func:`_form_of` checks them against the kind."""


class ActionPages:
    """Serves the action links of one service: its kinds, its verifier, its runtime."""

    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        verifier: ActionLinkVerifier | None,
        kinds: Mapping[str, ActionKind],
    ) -> None:
        self._runtime = runtime
        self._verifier = verifier
        self._kinds = kinds
        self._actions = tuple(kinds)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            request = await _read(scope, receive)
        except InputRefusedError as refusal:
            logger.info("action request refused: %s", refusal.code)
            response = refusal_page(refusal)
        else:
            try:
                response = await self.answer(request)
            except _NOT_NOW:
                # Postgres away or the service still starting: nothing was done, say so.
                logger.warning("action link not served: the service is not ready")
                page = bilingual_message_page(*_UNAVAILABLE, status="unavailable")
                response = _html(page, 503, {"retry-after": "30"})
        await response(scope, receive, send)

    async def answer(self, request: ActionRequest) -> AsgiResponse:
        try:
            claims, kind = await self._verified(request.token)
        except ActionLinkRejectedError as rejection:
            title, text = REFUSALS.get(rejection.code, REFUSALS[ActionRefusal.INVALID])
            logger.info("action link refused: %s", rejection.code)
            return _html(bilingual_message_page(title, text, status=rejection.code), 403)
        if request.method == "GET":
            return await self._confirmation(claims, kind, request.token)
        return await self._perform(claims, kind, request)

    async def _verified(self, token: str) -> tuple[ActionClaims, ActionKind]:
        if self._verifier is None or not token:
            raise ActionLinkRejectedError(ActionRefusal.INVALID, "no key or no token")
        claims = await self._verifier.claims_of(token, actions=self._actions)
        return claims, self._kinds[claims.action]

    async def _confirmation(
        self, claims: ActionClaims, kind: ActionKind, token: str
    ) -> AsgiResponse:
        async with self._runtime.pool.acquire() as conn:
            used = not kind.reusable and await conn.fetchval(
                _WAS_USED, claims.tenant_id, claims.token_id
            )
            if used or await _already_done(kind, claims, conn):
                page = message_page(claims.language, *_ALREADY, status="already_recorded")
                return _html(page, 200)
            values = {} if kind.prefill is None else await kind.prefill(claims, conn)
        return _html(self._form(claims, kind, token, values=values), 200)

    def _form(
        self,
        claims: ActionClaims,
        kind: ActionKind,
        token: str,
        error: Words | None = None,
        values: Mapping[str, str] | None = None,
    ) -> bytes:
        return form_page(
            claims.language,
            title=kind.title,
            question=kind.question,
            button=kind.button,
            token=token,
            fields=kind.fields(claims),
            action_url=PATH,
            error=error,
            about=None if kind.describe is None else kind.describe(claims),
            values=values,
        )

    async def _perform(
        self, claims: ActionClaims, kind: ActionKind, request: ActionRequest
    ) -> AsgiResponse:
        language = claims.language
        try:
            await self._once(claims, kind, _form_of(kind, claims, request.form))
        except _AlreadyUsedError:
            return _html(message_page(language, *_ALREADY, status="already_recorded"), 200)
        except ActionNotPossibleError as refusal:
            typed = _typed(kind, claims, request.form)
            return _html(self._form(claims, kind, request.token, refusal.reason, typed), 422)
        except RejectedError as refusal:
            text = kind.refusals.get(refusal.code) or Words(fr=refusal.reason, en=refusal.reason)
            return _html(message_page(language, _REFUSED_TITLE, text, status="refused"), 409)
        except AwaitingPrerequisiteError:
            return _html(message_page(language, _REFUSED_TITLE, _NOT_YET, status="not_yet"), 409)
        return _html(message_page(language, *_DONE, status="recorded"), 200)

    async def _once(self, claims: ActionClaims, kind: ActionKind, form: Mapping[str, str]) -> None:
        """Mark the token used, build the command and handle it, all in one transaction:
        any refusal rolls the mark back too, so the link still works once it is possible."""
        runtime = self._runtime
        now = runtime.clock.now()
        # A once-only link's command has an id derived from the link: even past the token
        # table, the consumer's processed_messages would take it once.
        event_id = (
            uuid.uuid4()
            if kind.reusable
            else uuid.uuid5(_TOKEN_NAMESPACE, f"{claims.tenant_id}/{claims.token_id}")
        )
        async with runtime.pool.acquire() as conn, conn.transaction():
            marked = kind.reusable or await conn.fetchval(
                _MARK_USED,
                claims.tenant_id,
                claims.token_id,
                claims.action,
                claims.subject,
                event_id,
                now,
                datetime.fromtimestamp(claims.expires_at, UTC),
            )
            if not marked or await _already_done(kind, claims, conn):
                raise _AlreadyUsedError  # rolls the mark back: the link did nothing
            try:
                command = await kind.build(claims, form, conn)
            except ValidationError as error:  # e.g. a comment with control characters
                raise ActionNotPossibleError(_UNREADABLE) from error
            pair = claims.target.get("pair_id")
            envelope = Envelope.new(
                command,
                source=f"{runtime.definition.source}/actions",
                time=now,
                tenant_id=claims.tenant_id,
                programme_id=claims.target_text("programme_id"),
                subject=pair if isinstance(pair, str) else None,
                event_id=event_id,
            )
            await runtime.consumer.perform(conn, envelope)
        logger.info("action %s done", claims.action)


async def _already_done(kind: ActionKind, claims: ActionClaims, conn: asyncpg.Connection) -> bool:
    return kind.already_done is not None and await kind.already_done(claims, conn)


async def _read(scope: Mapping[str, Any], receive: Any) -> ActionRequest:
    """The token (query string, or form field for a POST) and the submitted form; refused
    (:class:`InputRefusedError`) for another method, an oversized or unreadable input."""
    method = scope.get("method", "GET")
    if method not in ("GET", "HEAD", "POST"):
        raise InputRefusedError(405, "method_not_allowed", fr=_METHOD.fr, en=_METHOD.en)
    query = query_fields(scope)
    form: Fields = {}
    if method == "POST":
        body = await read_body(scope, receive)
        # A browser posts this page's form urlencoded. RFC 8058 lets a mail client post its
        # one-click body as multipart/form-data: that link's token is in the query string
        # and its body says nothing more, so it is read (bounded) and left aside.
        if content_type(scope) in ("", "application/x-www-form-urlencoded"):
            form = fields(body)
    tokens = {*query.get("token", ()), *form.get("token", ())}
    # Two different tokens in one request: which link was clicked? Neither.
    token = tokens.pop() if len(tokens) == 1 else ""
    return ActionRequest(method="POST" if method == "POST" else "GET", token=token, form=form)


def _form_of(kind: ActionKind, claims: ActionClaims, form: Fields) -> Mapping[str, str]:
    """The form as the kind's builder reads it: one value per name; the ticked boxes of a
    check-box field joined by commas, each one a box the page offers (another was made by
    hand: refused, not ignored). Another field sent twice with different values is refused
    (which one was meant?)."""
    boxes = {f.name: f for f in kind.fields(claims) if isinstance(f, CheckboxesField)}
    values: dict[str, str] = {}
    for name, sent in form.items():
        if name in boxes:
            values[name] = ",".join(offered(sent, boxes[name]))
            continue
        try:
            values[name] = single(form, name)
        except InputRefusedError as refusal:
            raise ActionNotPossibleError(Words(refusal.fr, refusal.en)) from refusal
    return values


def _typed(kind: ActionKind, claims: ActionClaims, form: Fields) -> Mapping[str, str]:
    """What the person sent, to fill the form again when it is refused: the first value of
    each field (the page escapes it), the ticked boxes joined as :func:`_form_of` does."""
    typed: dict[str, str] = {}
    for form_field in kind.fields(claims):
        sent = form.get(form_field.name, ())
        if sent:
            joined = isinstance(form_field, CheckboxesField)
            typed[form_field.name] = ",".join(sent) if joined else sent[0]
    return typed


def refusal_page(
    refusal: InputRefusedError, headers: Mapping[str, str] | None = None
) -> AsgiResponse:
    """A refused request as a page in French then English (the request says no language);
    ``data-outcome`` is its stable code."""
    title = _NOT_FOUND if refusal.status == 404 else _REQUEST_REFUSED
    page = bilingual_message_page(title, Words(refusal.fr, refusal.en), status=refusal.code)
    return _html(page, refusal.status, headers)


def _html(body: bytes, status: int, headers: Mapping[str, str] | None = None) -> AsgiResponse:
    return AsgiResponse(
        body,
        status,
        {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'",
            **(headers or {}),
        },
    )
