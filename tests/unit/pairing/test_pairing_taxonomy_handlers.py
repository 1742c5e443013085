"""Enrolments and updates naming a topic outside the programme's taxonomy are refused by the
pairing handlers (dead-lettered with ``unknown_topic``), and nothing is stored."""

from __future__ import annotations

import pytest

from binome_shared.contracts.hr_commands import EnrolParticipant, UpdateParticipant
from binome_shared.contracts.programme import Topic

from .pairing_builders import mentee, mentor, need, rules, skill
from .service_fakes import PROGRAMME, TENANT
from .service_harness import Service

pytestmark = pytest.mark.unit

TAXONOMY = [
    Topic(slug="generative_ai", fr="IA générative", en="generative AI"),
    Topic(slug="cybersecurity", fr="cybersécurité", en="cybersecurity"),
]


async def defined() -> Service:
    """The handlers over fakes, with a programme whose taxonomy is :data:`TAXONOMY`."""
    service = Service()
    await service.programme(rules().model_copy(update={"topics": TAXONOMY}))
    return service


async def test_an_enrolment_naming_an_unknown_topic_is_refused_with_the_known_ones() -> None:
    service = await defined()
    person = mentor("Y1", skills=[skill("generative_ai", 4), skill("cyber", 3)])

    refusal = await service.refused(EnrolParticipant(participant=person), "unknown_topic")

    assert refusal.reason == (
        "skills: topic(s) not in the programme's taxonomy: skills[1].topic 'cyber' (did you "
        "mean 'cybersecurity'?); known topics: generative_ai, cybersecurity / "
        "sujet(s) absent(s) de la taxonomie du programme : skills[1].topic « cyber » "
        "(vouliez-vous dire « cybersecurity » ?) ; sujets connus : generative_ai, cybersecurity"
    )
    assert (TENANT, PROGRAMME, "Y1") not in service.pairing.profiles


async def test_an_update_naming_an_unknown_topic_is_refused_and_the_profile_kept() -> None:
    service = await defined()
    enrolled = mentee("E1", learning_needs=[need("generative_ai", 5)])
    await service.enrolled(enrolled)
    changed = mentee("E1", learning_needs=[need("generative_ai", 5), need("linkedin", 2)])

    refusal = await service.refused(UpdateParticipant(participant=changed), "unknown_topic")

    assert refusal.reason.startswith("learning_needs: ")
    assert "learning_needs[1].topic 'linkedin'" in refusal.reason
    assert service.profile("E1") == enrolled


async def test_an_enrolment_within_the_taxonomy_is_stored() -> None:
    service = await defined()
    person = mentor("Y1", skills=[skill("cybersecurity", 3)], organisation="Nova Numérique")

    await service.enrolled(person)

    assert service.profile("Y1") == person
