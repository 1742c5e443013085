"""Enrolments and updates naming a topic outside the programme's taxonomy are refused by the
pairing handlers (dead-lettered with ``unknown_topic``), and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from binome_pairing.handlers import MessageHandlers
from binome_pairing.rounds import solve_in_process
from binome_shared.contracts.hr_commands import EnrolParticipant, UpdateParticipant
from binome_shared.contracts.programme import Topic
from binome_shared.messaging.errors import RejectedError
from binome_shared.messaging.routes import dispatch
from tests.support.programmes import programme_definition

from .pairing_builders import mentee, mentor, need, rules, skill
from .service_fakes import PROGRAMME, FakeOutbox, FakePairing, envelope, unit_of_work

pytestmark = pytest.mark.unit

TAXONOMY = [
    Topic(slug="generative_ai", fr="IA générative", en="generative AI"),
    Topic(slug="cybersecurity", fr="cybersécurité", en="cybersecurity"),
]


class Pairing:
    """The handlers over fakes, with a programme whose taxonomy is :data:`TAXONOMY`."""

    def __init__(self) -> None:
        self.repository = FakePairing()
        self.outbox = FakeOutbox()
        self.routes = MessageHandlers(
            repository=lambda conn: self.repository, solver=solve_in_process
        ).routes()

    async def handle(self, message: Any) -> None:
        await dispatch(self.routes[type(message)], [envelope(message)], unit_of_work(self.outbox))

    async def defined(self) -> None:
        await self.handle(programme_definition(rules().model_copy(update={"topics": TAXONOMY})))


async def test_an_enrolment_naming_an_unknown_topic_is_refused_with_the_known_ones() -> None:
    pairing = Pairing()
    await pairing.defined()
    person = mentor("Y1", skills=[skill("generative_ai", 4), skill("cyber", 3)])

    with pytest.raises(RejectedError) as refusal:
        await pairing.handle(EnrolParticipant(participant=person))

    assert refusal.value.code == "unknown_topic"
    assert refusal.value.reason == (
        "skills: topic(s) not in the programme's taxonomy: skills[1].topic 'cyber' (did you "
        "mean 'cybersecurity'?); known topics: generative_ai, cybersecurity / "
        "sujet(s) absent(s) de la taxonomie du programme : skills[1].topic « cyber » "
        "(vouliez-vous dire « cybersecurity » ?) ; sujets connus : generative_ai, cybersecurity"
    )
    assert (PROGRAMME, "Y1") not in pairing.repository.profiles
    assert pairing.outbox.envelopes == []


async def test_an_update_naming_an_unknown_topic_is_refused_and_the_profile_kept() -> None:
    pairing = Pairing()
    await pairing.defined()
    enrolled = mentee("E1", learning_needs=[need("generative_ai", 5)])
    await pairing.handle(EnrolParticipant(participant=enrolled))
    changed = mentee("E1", learning_needs=[need("generative_ai", 5), need("linkedin", 2)])

    with pytest.raises(RejectedError) as refusal:
        await pairing.handle(UpdateParticipant(participant=changed))

    assert refusal.value.code == "unknown_topic"
    assert "learning_needs: " in refusal.value.reason
    assert "learning_needs[1].topic 'linkedin'" in refusal.value.reason
    assert pairing.repository.profiles[PROGRAMME, "E1"] == enrolled


async def test_an_enrolment_within_the_taxonomy_is_stored() -> None:
    pairing = Pairing()
    await pairing.defined()
    person = mentor("Y1", skills=[skill("cybersecurity", 3)], organisation="Nova Numérique")

    await pairing.handle(EnrolParticipant(participant=person))

    assert pairing.repository.profiles[PROGRAMME, "Y1"] == person
