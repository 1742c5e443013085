"""The sessions service's pulse action kinds, over fakes: a link becomes the AnswerPulse a
platform would send for its reader and round, handled by the same handler; "already
recorded" is read from the reader's last answer to that round; the refusals are worded in
French and English."""

from __future__ import annotations

from typing import cast

import asyncpg
import pytest

from binome_sessions.pulse_actions import PULSE_REFUSALS
from binome_shared.contracts.action_names import PULSE_NEED_HELP, PULSE_ON_TRACK
from binome_shared.contracts.sessions_messages import AnswerPulse, PulseAnswer, PulseAnswered
from binome_shared.messaging.errors import RejectedError
from binome_shared.runtime.action_kinds import ActionKind
from binome_shared.runtime.action_links import ActionClaims

from .service_fakes import PROGRAMME, TENANT, Service
from .test_sessions_pulse_handlers import FIRST_ROUND, asked_service

pytestmark = pytest.mark.unit

NO_CONNECTION = cast("asyncpg.Connection", object())
"""The fakes ignore the connection; the kinds only hand it to their repository factory."""


def claims(action: str, subject: str = "E1", pulse_number: int = 1) -> ActionClaims:
    return ActionClaims(
        tenant_id=TENANT,
        subject=subject,
        action=action,
        target={"programme_id": PROGRAMME, "pair_id": "pair-1", "pulse_number": pulse_number},
        language="en",
        token_id="t-1",
        expires_at=0,
    )


def kinds(service: Service) -> dict[str, ActionKind]:
    return {kind.name: kind for kind in service.definition.actions}


async def done(kind: ActionKind, link: ActionClaims) -> bool:
    assert kind.already_done is not None
    return await kind.already_done(link, NO_CONNECTION)


async def test_the_links_become_the_answer_a_platform_sends_for_the_reader() -> None:
    service = await asked_service()
    by_name = kinds(service)

    on_track = await by_name[PULSE_ON_TRACK].build(claims(PULSE_ON_TRACK), {}, NO_CONNECTION)
    help_wanted = await by_name[PULSE_NEED_HELP].build(
        claims(PULSE_NEED_HELP, subject="M1"), {}, NO_CONNECTION
    )

    assert on_track == AnswerPulse(
        pair_id="pair-1", pulse_number=1, participant_id="E1", answer=PulseAnswer.ON_TRACK
    )
    assert help_wanted == AnswerPulse(
        pair_id="pair-1", pulse_number=1, participant_id="M1", answer=PulseAnswer.NEED_HELP
    )
    await service.handle(on_track, time=FIRST_ROUND)
    assert service.outbox.types()[-1] == "PulseAnswered"
    [answered] = [e.data for e in service.outbox.envelopes if isinstance(e.data, PulseAnswered)]
    assert (answered.side.value, answered.answer) == ("mentee", PulseAnswer.ON_TRACK)


async def test_already_done_reads_the_readers_last_answer_to_that_round() -> None:
    service = await asked_service()
    by_name = kinds(service)
    on_track, need_help = by_name[PULSE_ON_TRACK], by_name[PULSE_NEED_HELP]
    assert not await done(on_track, claims(PULSE_ON_TRACK))

    await service.handle(
        await on_track.build(claims(PULSE_ON_TRACK), {}, NO_CONNECTION), time=FIRST_ROUND
    )
    assert await done(on_track, claims(PULSE_ON_TRACK))
    assert not await done(on_track, claims(PULSE_ON_TRACK, subject="M1"))
    assert not await done(on_track, claims(PULSE_ON_TRACK, pulse_number=2))
    assert not await done(on_track, claims(PULSE_ON_TRACK, subject="E9"))

    # The other link changes the answer while the round is open: the last answer counts.
    assert not await done(need_help, claims(PULSE_NEED_HELP))
    await service.handle(
        await need_help.build(claims(PULSE_NEED_HELP), {}, NO_CONNECTION), time=FIRST_ROUND
    )
    assert await done(need_help, claims(PULSE_NEED_HELP))
    assert not await done(on_track, claims(PULSE_ON_TRACK))


async def test_the_refusals_of_an_answer_are_worded_for_the_person() -> None:
    service = await asked_service()
    refused: set[str] = set()
    for command in (
        AnswerPulse(
            pair_id="pair-1", pulse_number=1, participant_id="E9", answer=PulseAnswer.ON_TRACK
        ),
        AnswerPulse(
            pair_id="pair-1", pulse_number=2, participant_id="E1", answer=PulseAnswer.ON_TRACK
        ),
        AnswerPulse(
            pair_id="pair-9", pulse_number=1, participant_id="E1", answer=PulseAnswer.ON_TRACK
        ),
    ):
        with pytest.raises(RejectedError) as refusal:
            await service.handle(command, time=FIRST_ROUND)
        refused.add(refusal.value.code)

    assert refused == {"not_pair_member", "pulse_not_asked", "unknown_pair"}
    assert set(PULSE_REFUSALS) == refused | {"pulse_closed"}
    for code, words in PULSE_REFUSALS.items():
        assert words.fr, code
        assert words.en, code
        assert words.fr != words.en, code
    for kind in kinds(service).values():
        if kind.name in (PULSE_ON_TRACK, PULSE_NEED_HELP):
            assert kind.refusals is PULSE_REFUSALS
