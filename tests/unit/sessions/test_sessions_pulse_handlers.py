"""Pulse check-ins through the service's wiring, over fakes: the follow-up job asks each round
once and publishes it, AnswerPulse goes through the pairs' command handler, and an answer for
a pair the tenant does not have is refused at once, not parked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binome_shared.contracts.sessions_messages import (
    SESSION_COMMAND_TYPES,
    AnswerPulse,
    PairNeedsHelp,
    PulseAnswer,
    PulseAnswered,
    PulseCheckRequested,
)
from binome_shared.messaging.errors import RejectedError

from .service_fakes import FORMED_AT, Service

pytestmark = pytest.mark.unit

OTHER_TENANT = "autre-groupe"
FIRST_ROUND = FORMED_AT + timedelta(days=30)
"""The pairs are formed on the programme's first day: the default first round is 30 days on."""


def answer(participant_id: str, value: PulseAnswer, pulse_number: int = 1) -> AnswerPulse:
    return AnswerPulse(
        pair_id="pair-1", pulse_number=pulse_number, participant_id=participant_id, answer=value
    )


async def asked_service() -> Service:
    service = Service()
    await service.formed()
    service.now = FIRST_ROUND
    await service.run_job("follow-up")
    return service


async def test_the_follow_up_asks_each_due_round_once_naming_both_members() -> None:
    service = Service()
    await service.formed()
    service.now = FIRST_ROUND - timedelta(minutes=1)
    await service.run_job("follow-up")
    assert "PulseCheckRequested" not in service.outbox.types()

    service.now = FIRST_ROUND
    await service.run_job("follow-up")
    service.now += timedelta(hours=1)
    await service.run_job("follow-up")

    requests = [e for e in service.outbox.envelopes if isinstance(e.data, PulseCheckRequested)]
    assert len(requests) == 1
    [request] = requests
    assert request.data == PulseCheckRequested(
        pair_id="pair-1", pulse_number=1, mentor_id="M1", mentee_id="E1"
    )
    assert (request.subject, request.partition_key()) == ("pair-1", "pair-1")


async def test_a_need_help_answer_is_published_with_one_alert() -> None:
    service = await asked_service()
    assert AnswerPulse in SESSION_COMMAND_TYPES
    before = len(service.outbox.envelopes)

    await service.handle(answer("E1", PulseAnswer.NEED_HELP), time=FIRST_ROUND)
    await service.handle(answer("M1", PulseAnswer.NEED_HELP), time=FIRST_ROUND)
    await service.handle(answer("M1", PulseAnswer.NEED_HELP), time=FIRST_ROUND)

    published = [envelope.data for envelope in service.outbox.envelopes[before:]]
    assert [type(data).__name__ for data in published] == [
        "PulseAnswered",
        "PairNeedsHelp",
        "PulseAnswered",
    ]
    assert published[0] == PulseAnswered(
        pair_id="pair-1", pulse_number=1, side="mentee", answer=PulseAnswer.NEED_HELP
    )
    assert published[1] == PairNeedsHelp(pair_id="pair-1", pulse_number=1, side="mentee")


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (answer("E9", PulseAnswer.ON_TRACK), "not_pair_member"),
        (answer("E1", PulseAnswer.ON_TRACK, pulse_number=2), "pulse_not_asked"),
        (
            AnswerPulse(pair_id="pair-404", pulse_number=1, participant_id="E1", answer="on_track"),
            "unknown_pair",
        ),
    ],
)
async def test_refused_answers_are_dead_lettered_in_both_languages(
    command: AnswerPulse, code: str
) -> None:
    service = await asked_service()
    before = len(service.outbox.envelopes)

    with pytest.raises(RejectedError) as refused:
        await service.handle(command)

    assert refused.value.code == code
    assert " / " in refused.value.reason, "English / français"
    assert len(service.outbox.envelopes) == before


async def test_another_tenants_answer_for_the_same_pair_id_is_refused_as_unknown() -> None:
    service = await asked_service()

    with pytest.raises(RejectedError) as refused:
        await service.handle(answer("E1", PulseAnswer.NEED_HELP), tenant_id=OTHER_TENANT)

    assert refused.value.code == "unknown_pair"
    assert service.tracks.track("pair-1").pulses[0].replies == []
