"""What the links of a pulse check-in e-mail do: "on track" and "we need help", each the
``AnswerPulse`` an HR platform would send for the reader (the token's subject), for the
link's pair and round.

Whether the reader is a member, and whether the round is asked and still open, are the
handler's to judge; the page words its refusals for the person, and says "already recorded"
when the reader's answer to that round is already this one (the handler would publish
nothing). A member may change their answer while the round is open, through the other link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import asyncpg

from binome_sessions.domain import REJECTION_REASONS, RejectionCode
from binome_sessions.storage import RepositoryFactory
from binome_sessions.translation import UNKNOWN_PAIR
from binome_shared.contracts.action_names import PULSE_NEED_HELP, PULSE_ON_TRACK
from binome_shared.contracts.base import Message
from binome_shared.contracts.participants import ParticipantRole
from binome_shared.contracts.sessions_messages import AnswerPulse, PulseAnswer
from binome_shared.runtime.action_kinds import (
    ActionKind,
    ActionNotPossibleError,
    AlreadyDone,
    CommandBuilder,
    Words,
)
from binome_shared.runtime.action_links import ActionClaims

_NOT_YOURS = Words(
    "Ce lien ne correspond à aucun baromètre de votre binôme : rien n'a été enregistré.",
    "This link matches no pulse check-in of your pair: nothing was recorded.",
)

PULSE_REFUSALS: Final[Mapping[str, Words]] = {
    str(code): Words(REJECTION_REASONS[code].fr, REJECTION_REASONS[code].en)
    for code in (
        RejectionCode.NOT_PAIR_MEMBER,
        RejectionCode.PULSE_NOT_ASKED,
        RejectionCode.PULSE_CLOSED,
    )
} | {UNKNOWN_PAIR.code: Words(UNKNOWN_PAIR.reason.fr, UNKNOWN_PAIR.reason.en)}
"""The handler's refusal codes for AnswerPulse (docs/sessions.md), told to the person."""

_TITLE = Words("Le point sur votre binôme", "How is your pair doing?")


class PulseActions:
    """The sessions service's pulse action kinds, reading tracks through its repository."""

    def __init__(self, *, repository: RepositoryFactory) -> None:
        self._repository = repository

    def kinds(self) -> Sequence[ActionKind]:
        return (
            ActionKind(
                name=PULSE_ON_TRACK,
                title=_TITLE,
                question=Words(
                    "Votre binôme avance-t-il bien ? Confirmez : tout va bien.",
                    "Is your pair going well? Confirm: we are on track.",
                ),
                button=Words("Tout va bien", "We are on track"),
                build=_answer(PulseAnswer.ON_TRACK),
                already_done=self._answered(PulseAnswer.ON_TRACK),
                refusals=PULSE_REFUSALS,
            ),
            ActionKind(
                name=PULSE_NEED_HELP,
                title=_TITLE,
                question=Words(
                    "Vous avez besoin d'aide ? L'équipe RH du programme sera prévenue et "
                    "prendra contact avec vous.",
                    "Do you need help? The programme's HR team will be told and will get in "
                    "touch with you.",
                ),
                button=Words("Nous avons besoin d'aide", "We need help"),
                build=_answer(PulseAnswer.NEED_HELP),
                already_done=self._answered(PulseAnswer.NEED_HELP),
                refusals=PULSE_REFUSALS,
            ),
        )

    def _answered(self, answer: PulseAnswer) -> AlreadyDone:
        """Whether the reader's last answer to the link's round is already ``answer``."""

        async def already(claims: ActionClaims, conn: asyncpg.Connection) -> bool:
            record = await self._repository(conn).pair_for_update(
                claims.tenant_id, claims.target_text("pair_id")
            )
            if record is None or record.track is None:
                return False  # the handler refuses it (unknown_pair)
            if claims.subject == record.mentor_id:
                side = ParticipantRole.MENTOR
            elif claims.subject == record.mentee_id:
                side = ParticipantRole.MENTEE
            else:
                return False  # the handler refuses it (not_pair_member)
            number = _pulse_number(claims)
            rounds = [pulse for pulse in record.track.pulses if pulse.number == number]
            reply = rounds[0].reply_of(side) if rounds else None
            return reply is not None and reply.answer is answer

        return already


def _pulse_number(claims: ActionClaims) -> int:
    number = claims.target_int("pulse_number")
    if number is None:
        raise ActionNotPossibleError(_NOT_YOURS)
    return number


def _answer(answer: PulseAnswer) -> CommandBuilder:
    """The AnswerPulse a platform would send for the reader: the link's pair and round."""

    async def build(
        claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
    ) -> Message:
        del form, conn
        return AnswerPulse(
            pair_id=claims.target_text("pair_id"),
            pulse_number=_pulse_number(claims),
            participant_id=claims.subject,
            answer=answer,
        )

    return build
