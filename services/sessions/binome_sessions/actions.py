"""What the links of the session e-mails do, as the commands an HR platform would send.

After a session: "it took place" (ReportSessionHeld, at its booked slot and length), "it did
not take place" (ReportSessionMissed), and the feedback form (GiveFeedback: a 1–5 rating, an
optional comment and, after the first session, "is this a good fit?"). The link names the
pair, the session number and the person's side; the person must still be that side of that
pair in the link's tenant, else nothing is done.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final

import asyncpg

from binome_sessions.domain import PairTrack
from binome_sessions.storage import RepositoryFactory
from binome_shared.contracts.action_names import SESSION_FEEDBACK, SESSION_HELD, SESSION_MISSED
from binome_shared.contracts.base import Message
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import (
    GiveFeedback,
    ReportSessionHeld,
    ReportSessionMissed,
)
from binome_shared.runtime.action_kinds import (
    ActionKind,
    ActionNotPossibleError,
    Choice,
    ChoiceField,
    FormField,
    TextField,
    Words,
    choice_value,
)
from binome_shared.runtime.action_links import ActionClaims

MAX_COMMENT: Final = 2000

RATING = ChoiceField(
    name="rating",
    legend=Words("Votre note pour cette séance (1 à 5)", "Your rating of this session (1 to 5)"),
    choices=tuple(Choice(str(value), Words(str(value), str(value))) for value in range(1, 6)),
)
COMMENT = TextField(
    name="comment",
    label=Words("Un commentaire (facultatif)", "A comment (optional)"),
    max_length=MAX_COMMENT,
)
GOOD_FIT = ChoiceField(
    name="good_fit",
    legend=Words("Ce binôme vous convient-il ?", "Is this pair a good fit for you?"),
    choices=(Choice("yes", Words("Oui", "Yes")), Choice("no", Words("Non", "No"))),
    required=False,
)

_NOT_YOURS = Words(
    "Ce lien ne correspond plus à votre binôme : rien n'a été enregistré.",
    "This link no longer matches your pair: nothing was recorded.",
)
_NOT_BOOKED = Words(
    "Cette séance n'est pas réservée : elle ne peut être déclarée tenue.",
    "This session is not booked: it cannot be reported held.",
)
_TOO_LONG = Words(
    f"Votre commentaire dépasse {MAX_COMMENT} caractères : merci de le raccourcir.",
    f"Your comment is longer than {MAX_COMMENT} characters: please shorten it.",
)
_NOT_STARTED = Words(
    "Cette séance n'a pas encore commencé : revenez après la séance.",
    "This session has not started yet: come back after the session.",
)


class SessionActions:
    """The sessions service's action kinds, reading pairs through its repository."""

    def __init__(self, *, repository: RepositoryFactory) -> None:
        self._repository = repository

    def kinds(self) -> Sequence[ActionKind]:
        return (
            ActionKind(
                name=SESSION_HELD,
                title=Words("Séance tenue", "Session held"),
                question=Words(
                    "Confirmez-vous que cette séance a bien eu lieu ?",
                    "Do you confirm this session took place?",
                ),
                button=Words("Oui, elle a eu lieu", "Yes, it took place"),
                build=self._held,
            ),
            ActionKind(
                name=SESSION_MISSED,
                title=Words("Séance non tenue", "Session not held"),
                question=Words(
                    "Confirmez-vous que cette séance n'a pas eu lieu ? Elle sera à reprogrammer.",
                    "Do you confirm this session did not take place? It will need a new date.",
                ),
                button=Words("Elle n'a pas eu lieu", "It did not take place"),
                build=self._missed,
            ),
            ActionKind(
                name=SESSION_FEEDBACK,
                title=Words("Votre avis sur la séance", "Your feedback on the session"),
                question=Words(
                    "Quelques secondes pour dire comment s'est passée la séance.",
                    "A few seconds to say how the session went.",
                ),
                button=Words("Envoyer", "Send"),
                build=self._feedback,
                fields=_feedback_fields,
            ),
        )

    async def _track(self, claims: ActionClaims, conn: asyncpg.Connection) -> PairTrack:
        """The link's pair, in its tenant, if the link's person is still on its side."""
        record = await self._repository(conn).pair_for_update(
            claims.tenant_id, claims.target_text("pair_id")
        )
        if record is None or record.track is None:
            raise ActionNotPossibleError(_NOT_YOURS)
        side = _side(claims)
        member = record.mentor_id if side is ParticipantRole.MENTOR else record.mentee_id
        if member != claims.subject:
            raise ActionNotPossibleError(_NOT_YOURS)
        return record.track

    async def _held(
        self, claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
    ) -> Message:
        del form
        track = await self._track(claims, conn)
        number = _session_number(claims)
        if not 1 <= number <= len(track.sessions):
            raise ActionNotPossibleError(_NOT_YOURS)
        session = track.sessions[number - 1]
        if session.scheduled_at is None or session.duration_minutes is None:
            raise ActionNotPossibleError(_NOT_BOOKED)
        return ReportSessionHeld(
            pair_id=track.pair_id,
            session_number=number,
            held_at=session.scheduled_at,
            duration_minutes=session.duration_minutes,
        )

    async def _missed(
        self, claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
    ) -> Message:
        del form
        track = await self._track(claims, conn)
        return ReportSessionMissed(pair_id=track.pair_id, session_number=_session_number(claims))

    async def _feedback(
        self, claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
    ) -> Message:
        track = await self._track(claims, conn)
        rating = choice_value(form, RATING)
        fit = choice_value(form, GOOD_FIT) if _asks_fit(claims) else None
        return GiveFeedback(
            pair_id=track.pair_id,
            side=_side(claims),
            session_number=_session_number(claims),
            rating=int(rating or 0),
            comment=_comment(form),
            good_fit=None if fit is None else fit == "yes",
        )


def _comment(form: Mapping[str, str]) -> str:
    """The comment as typed: a browser sends each line break as CR LF (HTML form encoding)
    and counts it as one character in ``maxlength``, so it is counted as one here too. A
    longer comment is refused, never cut: the person would not know what was kept."""
    typed = form.get("comment", "").replace("\r\n", "\n").strip()
    comment = unicodedata.normalize("NFC", typed)  # as the contract counts it
    if len(comment) > MAX_COMMENT:
        raise ActionNotPossibleError(_TOO_LONG)
    return comment


def _side(claims: ActionClaims) -> ParticipantRole:
    try:
        return ParticipantRole(claims.target_text("side"))
    except ValueError as error:
        raise ActionNotPossibleError(_NOT_YOURS) from error


def _session_number(claims: ActionClaims) -> int:
    number = claims.target_int("session_number")
    if number is None:
        raise ActionNotPossibleError(_NOT_YOURS)
    return number


def _asks_fit(claims: ActionClaims) -> bool:
    """The programme asks "is this a good fit?" after the first session only."""
    return claims.target_int("session_number") == 1


def _feedback_fields(claims: ActionClaims) -> Sequence[FormField]:
    return (RATING, COMMENT, GOOD_FIT) if _asks_fit(claims) else (RATING, COMMENT)
