"""The demo's executives answering the consent request of their pair.

The programme asks only the executives' pairs (:data:`~binome_devstack.demo_cohort.DEMO_CONSENT`):
once HR has approved the round's proposals, pairing puts those pairs to their members, who
read the e-mail: a few executives decline by its link, two pairs in three accept by it, the
others through the HR platform (``AcceptPair``, the same command). Each decline calls its
pair off and runs a repair round: HR approves its proposals, and those of executives are put
to their members again, who accept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from binome_devstack.demo_cohort import DEMO_CONSENT
from binome_devstack.demo_links import ConsentAnswers, EmailReaders
from binome_devstack.demo_platform import EventReader
from binome_shared.contracts.action_names import PAIR_ACCEPT
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.hr_commands import ApprovePair
from binome_shared.contracts.pairing_events import (
    REPAIR_ROUND_PREFIX,
    MatchingCompleted,
    PairConsentRequested,
    PairProposed,
)

HrSender = Callable[[Sequence[Message]], Awaitable[None]]
"""Sends HR platform commands for the demo's programme."""

EventT = TypeVar("EventT", bound=Message)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsentPlayed:
    """What the consent step did, for the demo's lines."""

    asked: int
    """Pairs put to their members after HR's approvals."""
    by_link: int
    """Their members' acceptances clicked in the e-mails (and recorded)."""
    by_platform: int
    """Acceptances the HR platform sent (the others were clicks)."""
    declined: int
    """Pairs an executive declined by the e-mail's link (each called off)."""
    re_proposed: int
    """Proposals of the repair rounds the declines caused (approved by HR)."""
    re_asked: int
    """Of those, pairs put to their members (and accepted)."""


class ConsentPlay:
    """The consent step of the demo, between HR's approvals and the formed pairs."""

    def __init__(self, *, events: EventReader, readers: EmailReaders, send: HrSender) -> None:
        self._events = events
        self._readers = readers
        self._send = send

    async def play(
        self, approved: Sequence[PairProposed], *, grades: dict[str, int], declines: int
    ) -> ConsentPlayed:
        """The members of the ``approved`` pairs in the consent's scope (``grades``: each
        person's job grade) answer; ``declines`` executives decline and are re-paired."""
        asked = await self._requests(in_consent_scope(approved, grades), answered=set())
        answers = await self._answer(asked, declines=declines)
        by_link = self._readers.clicker.recorded[PAIR_ACCEPT]
        re_proposed: list[PairProposed] = []
        re_asked: list[PairConsentRequested] = []
        if answers.declined:
            re_proposed = await self._repair_proposals(len(answers.declined))
            await self._send([ApprovePair(pair_id=p.pair_id) for p in re_proposed])
            answered = {request.pair_id for request in asked}
            expected = len(answered) + in_consent_scope(re_proposed, grades)
            re_asked = await self._requests(expected, answered=answered)
            await self._answer(re_asked, declines=0)
        return ConsentPlayed(
            asked=len(asked),
            by_link=by_link,
            by_platform=len(answers.by_platform),
            declined=len(answers.declined),
            re_proposed=len(re_proposed),
            re_asked=len(re_asked),
        )

    async def _requests(self, expected: int, *, answered: set[str]) -> list[PairConsentRequested]:
        """Once pairing has put ``expected`` pairs in all to their members, those not
        ``answered`` yet."""

        await self._events.wait_for(
            lambda envelopes: len(events_of(envelopes, PairConsentRequested)) >= expected,
            limit_seconds=600,
            what="consent requests",
        )
        return events_of(
            self._events.envelopes,
            PairConsentRequested,
            lambda request: request.pair_id not in answered,
        )

    async def _answer(self, asked: list[PairConsentRequested], *, declines: int) -> ConsentAnswers:
        answers = await self._readers.answer_consent(asked, declines=declines)
        await self._send(answers.by_platform)
        return answers

    async def _repair_proposals(self, rounds: int) -> list[PairProposed]:
        """The proposals of the first ``rounds`` repair rounds, once they are all done."""

        await self._events.wait_for(
            lambda envelopes: len(events_of(envelopes, MatchingCompleted, of_repair)) >= rounds,
            limit_seconds=600,
            what="repair rounds",
        )
        return events_of(self._events.envelopes, PairProposed, of_repair)


def events_of(
    envelopes: Iterable[Envelope[Message]],
    kind: type[EventT],
    keep: Callable[[EventT], bool] = lambda _event: True,
) -> list[EventT]:
    """The events of ``kind`` among ``envelopes`` that ``keep`` holds for, in order."""
    return [
        envelope.data
        for envelope in envelopes
        if isinstance(envelope.data, kind) and keep(envelope.data)
    ]


def of_repair(event: MatchingCompleted | PairProposed) -> bool:
    """Whether the event is about a round pairing ran itself after a pair ended."""
    return event.round_id.startswith(REPAIR_ROUND_PREFIX)


def in_consent_scope(proposals: Sequence[PairProposed], grades: dict[str, int]) -> int:
    """How many of these pairs the programme puts to their members once approved (``grades``:
    each person's job grade)."""
    return sum(DEMO_CONSENT.asks(grades[p.mentee.participant_id]) for p in proposals)
