"""Pairing's consent action kinds, over the consent harness's fakes: a link becomes the
AcceptPair / DeclinePair a platform would send for its reader, handled by the same handler;
"already recorded" is read from the stored answers; every refusal code is worded in French
and English."""

from __future__ import annotations

from typing import cast

import asyncpg
import pytest

from binome_pairing.actions import CONSENT_REFUSALS, ConsentActions
from binome_shared.contracts.action_names import PAIR_ACCEPT, PAIR_DECLINE
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import AcceptPair, DeclinePair
from binome_shared.contracts.pairing_events import PairAccepted
from binome_shared.messaging.errors import RejectedError
from binome_shared.runtime.action_kinds import ActionKind
from binome_shared.runtime.action_links import ActionClaims

from .consent_harness import DEADLINE, ConsentService
from .service_fakes import NOW, PROGRAMME, TENANT

pytestmark = pytest.mark.unit

NO_CONNECTION = cast("asyncpg.Connection", object())
"""The fakes ignore the connection; the kinds only hand it to their storage factories."""


def claims(action: str, pair_id: str, subject: str = "E1") -> ActionClaims:
    return ActionClaims(
        tenant_id=TENANT,
        subject=subject,
        action=action,
        target={"programme_id": PROGRAMME, "pair_id": pair_id},
        language="fr",
        token_id="t-1",
        expires_at=0,
    )


def kinds(service: ConsentService) -> dict[str, ActionKind]:
    actions = ConsentActions(
        pairing=lambda conn: service.pairing, consents=lambda conn: service.consents
    )
    return {kind.name: kind for kind in actions.kinds()}


async def built(kind: ActionKind, link: ActionClaims) -> Message:
    return await kind.build(link, {}, NO_CONNECTION)


async def done(kind: ActionKind, link: ActionClaims) -> bool:
    assert kind.already_done is not None
    return await kind.already_done(link, NO_CONNECTION)


async def test_the_links_become_the_commands_a_platform_sends_for_the_reader() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    by_name = kinds(service)

    accept = await built(by_name[PAIR_ACCEPT], claims(PAIR_ACCEPT, pair_id))
    decline = await built(by_name[PAIR_DECLINE], claims(PAIR_DECLINE, pair_id, "M1"))

    assert accept == AcceptPair(pair_id=pair_id, participant_id="E1")
    assert decline == DeclinePair(pair_id=pair_id, participant_id="M1")
    await service.handle_at(accept, NOW)
    assert [event.side.value for event in service.outbox.of_type(PairAccepted)] == ["mentee"]


async def test_already_done_reads_the_readers_own_stored_answer() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    by_name = kinds(service)
    accept, decline = by_name[PAIR_ACCEPT], by_name[PAIR_DECLINE]
    assert not await done(accept, claims(PAIR_ACCEPT, pair_id))

    await service.handle_at(AcceptPair(pair_id=pair_id, participant_id="E1"), NOW)

    assert await done(accept, claims(PAIR_ACCEPT, pair_id))
    assert not await done(decline, claims(PAIR_DECLINE, pair_id))
    assert not await done(accept, claims(PAIR_ACCEPT, pair_id, subject="M1"))  # the other side
    # Someone outside the pair, or an unknown pair: the handler refuses, the page says why.
    assert not await done(accept, claims(PAIR_ACCEPT, pair_id, subject="E9"))
    assert not await done(accept, claims(PAIR_ACCEPT, "pair-unknown"))


async def test_every_refusal_of_an_answer_is_worded_for_the_person_in_both_languages() -> None:
    service = ConsentService()
    pair_id = await service.asked()
    refused: set[str] = set()
    for command in (
        AcceptPair(pair_id=pair_id, participant_id="E9"),  # not a member
        AcceptPair(pair_id="pair-unknown", participant_id="E1"),
    ):
        with pytest.raises(RejectedError) as refusal:
            await service.handle_at(command, NOW)
        refused.add(refusal.value.code)
    with pytest.raises(RejectedError) as late:
        await service.handle_at(AcceptPair(pair_id=pair_id, participant_id="E1"), DEADLINE)
    refused.add(late.value.code)
    await service.handle_at(DeclinePair(pair_id=pair_id, participant_id="M1"), NOW)
    with pytest.raises(RejectedError) as settled:
        await service.handle_at(AcceptPair(pair_id=pair_id, participant_id="E1"), NOW)
    refused.add(settled.value.code)

    assert refused == {
        "not_pair_member",
        "unknown_pair",
        "consent_deadline_passed",
        "pair_not_awaiting_consent",
    }
    assert refused <= set(CONSENT_REFUSALS)
    for code, words in CONSENT_REFUSALS.items():
        assert words.fr != words.en, code
        assert "rien n'a été enregistré" in words.fr.lower(), code
        assert "nothing was recorded" in words.en.lower(), code
        # The other person's answer is never told.
        assert "declined" not in words.en, code
        assert "décliné" not in words.fr, code
    for kind in kinds(service).values():
        assert kind.refusals is CONSENT_REFUSALS
