"""What the links of the consent e-mail do, as the commands an HR platform would send.

A pair put to its members (``PairConsentRequested``): each gets "accept" (``AcceptPair``) and
"decline" (``DeclinePair``), naming the pair and the reader (the token's subject). Whether the
reader is a member, the deadline and the pair's state are the handler's to judge, exactly as
for a platform's command; the page only words its refusals for the person and says "already
recorded" when the reader's answer is already that one (the handler would publish nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import asyncpg

from binome_pairing.adapters.consents import ConsentRecord, PostgresConsents
from binome_pairing.adapters.repository import PairingRepository, PairRecord, PostgresPairing
from binome_pairing.consent import ConsentRepositoryFactory
from binome_pairing.domain.consent import Answer
from binome_shared.contracts.action_names import PAIR_ACCEPT, PAIR_DECLINE
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import AcceptPair, DeclinePair
from binome_shared.runtime.action_kinds import ActionKind, AlreadyDone, CommandBuilder, Words
from binome_shared.runtime.action_links import ActionClaims

CONSENT_REFUSALS: Final[Mapping[str, Words]] = {
    "consent_deadline_passed": Words(
        "Le délai pour répondre à cette proposition de binôme est passé : rien n'a été "
        "enregistré. L'équipe du programme vous proposera un autre binôme.",
        "The time to answer this proposed pair has passed: nothing was recorded. The "
        "programme team will propose another pair.",
    ),
    "pair_not_awaiting_consent": Words(
        "Cette proposition de binôme n'attend plus de réponse (elle est déjà décidée) : rien "
        "n'a été enregistré.",
        "This proposed pair no longer awaits an answer (it is already settled): nothing was "
        "recorded.",
    ),
    "not_pair_member": Words(
        "Ce lien ne vous concerne pas : seuls les deux membres du binôme proposé peuvent "
        "répondre. Rien n'a été enregistré.",
        "This link is not yours: only the two members of the proposed pair may answer. "
        "Nothing was recorded.",
    ),
    "unknown_pair": Words(
        "Cette proposition de binôme est introuvable : rien n'a été enregistré. Votre contact "
        "RH peut vous aider.",
        "This proposed pair cannot be found: nothing was recorded. Your HR contact can help.",
    ),
    "unknown_programme": Words(
        "Ce programme est introuvable : rien n'a été enregistré. Votre contact RH peut vous aider.",
        "This programme cannot be found: nothing was recorded. Your HR contact can help.",
    ),
}
"""The handler's refusal codes (docs/pairing.md), told to the person. None says who else
answered what: a decline stays between the person who made it and the programme team."""

_TITLE = Words("Votre binôme proposé", "Your proposed pair")


class ConsentActions:
    """Pairing's action kinds: accept or decline a pair awaiting its members' consent."""

    def __init__(
        self,
        *,
        pairing: Callable[[asyncpg.Connection], PairingRepository] = PostgresPairing,
        consents: ConsentRepositoryFactory = PostgresConsents,
    ) -> None:
        self._pairing = pairing
        self._consents = consents

    def kinds(self) -> Sequence[ActionKind]:
        return (
            ActionKind(
                name=PAIR_ACCEPT,
                title=_TITLE,
                question=Words(
                    "Acceptez-vous ce binôme ? Il sera formé quand vous l'aurez accepté tous "
                    "les deux.",
                    "Do you accept this pair? It is formed once you have both accepted it.",
                ),
                button=Words("J'accepte ce binôme", "I accept this pair"),
                build=_answer(AcceptPair),
                already_done=self._answered(Answer.ACCEPTED),
                refusals=CONSENT_REFUSALS,
            ),
            ActionKind(
                name=PAIR_DECLINE,
                title=_TITLE,
                question=Words(
                    "Déclinez-vous ce binôme ? L'autre personne saura seulement que ce binôme "
                    "ne se fera pas, et vous serez chacun proposés à quelqu'un d'autre.",
                    "Do you decline this pair? The other person is only told that this pair "
                    "will not go ahead, and you will each be proposed someone else.",
                ),
                button=Words("Je décline ce binôme", "I decline this pair"),
                build=_answer(DeclinePair),
                already_done=self._answered(Answer.DECLINED),
                refusals=CONSENT_REFUSALS,
            ),
        )

    def _answered(self, answer: Answer) -> AlreadyDone:
        """Whether the link's reader already gave ``answer`` to the link's pair (a second
        click, or the same answer sent by a platform): the handler would publish nothing."""

        async def already(claims: ActionClaims, conn: asyncpg.Connection) -> bool:
            tenant_id, pair_id = claims.tenant_id, claims.target_text("pair_id")
            pair = await self._pairing(conn).pair(tenant_id, pair_id)
            if pair is None:
                return False  # the handler refuses it (unknown_pair)
            record = await self._consents(conn).consent(tenant_id, pair_id)
            return record is not None and _answer_of(record, pair, claims.subject) is answer

        return already


def _answer_of(record: ConsentRecord, pair: PairRecord, participant_id: str) -> Answer | None:
    if participant_id == pair.mentor.participant_id:
        return record.mentor_answer
    if participant_id == pair.mentee.participant_id:
        return record.mentee_answer
    return None  # not a member: the handler refuses it (not_pair_member)


def _answer(command: type[AcceptPair] | type[DeclinePair]) -> CommandBuilder:
    """The command a platform would send for the reader: the link's pair, the reader."""

    async def build(
        claims: ActionClaims, form: Mapping[str, str], conn: asyncpg.Connection
    ) -> Message:
        del form, conn
        return command(pair_id=claims.target_text("pair_id"), participant_id=claims.subject)

    return build
