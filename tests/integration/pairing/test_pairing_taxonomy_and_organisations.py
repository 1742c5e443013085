"""The programme's taxonomy and the participants' organisations on the real broker and
Postgres: an enrolment naming an unknown topic is dead-lettered with the known ones, and the
"different organisations" rule holds in a real round."""

from __future__ import annotations

from typing import Any

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.domain import solve
from binome_shared.contracts.hr_commands import (
    EnrolParticipant,
    RecordReportingLines,
    RequestMatching,
    UpdateParticipant,
)
from binome_shared.contracts.pairing_events import MatchingCompleted, PairFormed
from binome_shared.contracts.participants import LearningNeed, Skill
from binome_shared.contracts.programme import ApprovalMode, ProgrammeRules, Topic
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from tests.support.platform import Kafka, read_envelopes
from tests.support.programmes import hr_command, programme_definition

pytestmark = pytest.mark.integration

TAXONOMY = [
    Topic(slug="generative_ai", fr="IA générative", en="generative AI"),
    Topic(slug="cybersecurity", fr="cybersécurité", en="cybersecurity"),
    Topic(slug="data", fr="données", en="data"),
]


def of_type(envelopes: list[Any], kind: type) -> list[Any]:
    return [envelope.data for envelope in envelopes if isinstance(envelope.data, kind)]


def automatic(rules: ProgrammeRules, **update: Any) -> ProgrammeRules:
    return rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC, **update})


async def test_an_enrolment_or_update_naming_an_unknown_topic_is_dead_lettered_with_the_known_ones(
    kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    cohort = generate_cohort(mentees=1, mentors=2, seed=7)
    programme = "prog-taxonomy"
    mentee = cohort.mentees[0].model_copy(
        update={"learning_needs": [LearningNeed(topic="data", priority=4)]}
    )
    good, bad = (
        mentor.model_copy(update={"skills": [Skill(topic=topic, level=4)]})
        for mentor, topic in zip(cohort.mentors, ("generative_ai", "gen_ai"), strict=True)
    )
    # linkedin is one of the default topics, not one of this programme's.
    changed = mentee.model_copy(
        update={
            "learning_needs": [*mentee.learning_needs, LearningNeed(topic="linkedin", priority=2)]
        }
    )
    commands: list[Any] = [
        programme_definition(automatic(cohort.rules, topics=TAXONOMY)),
        EnrolParticipant(participant=mentee),
        EnrolParticipant(participant=good),
        EnrolParticipant(participant=bad),
        UpdateParticipant(participant=changed),
        RequestMatching(round_id="r1", preview=True),
    ]
    for command in commands:
        await kafka.publish(hr_command(command, programme_id=programme))

    dead = await kafka.read_all(HR_COMMANDS.dead_letter_name(kafka.prefix), expect=2, timeout=60)
    letters = [dict(record.headers) for record in dead]
    assert [letter["binome_dlq_code"].decode() for letter in letters] == ["unknown_topic"] * 2
    enrolment, update = (letter["binome_dlq_reason"].decode() for letter in letters)
    assert enrolment == (
        "skills: topic(s) not in the programme's taxonomy: skills[0].topic 'gen_ai' (did you "
        "mean 'generative_ai'?); known topics: generative_ai, cybersecurity, data / "
        "sujet(s) absent(s) de la taxonomie du programme : skills[0].topic « gen_ai » "
        "(vouliez-vous dire « generative_ai » ?) ; sujets connus : generative_ai, "
        "cybersecurity, data"
    )
    assert (
        "learning_needs[1].topic 'linkedin'; known topics: generative_ai, cybersecurity, data"
        in (update)
    )
    # The refused mentor was not enrolled: the round sees one mentor, and no invalid record.
    [completed] = of_type(await read_envelopes(kafka, PAIRING_EVENTS, expect=1), MatchingCompleted)
    assert (completed.mentors, completed.mentees, completed.rejected_records) == (1, 1, 0)


async def test_the_different_organisations_rule_holds_in_a_real_round(
    kafka: Kafka, service_factory: Any
) -> None:
    pairing = service_factory("pairing")
    await pairing.wait_ready()
    # Mentees are the group's executives; a quarter of the mentors come from partners.
    cohort = generate_cohort(mentees=12, mentors=30, seed=7)
    constraints = cohort.rules.constraints.model_copy(update={"different_organisation": True})
    rules = automatic(cohort.rules, constraints=constraints)
    organisation = {person.participant_id: person.organisation for person in cohort.participants}
    expected = solve(
        rules=rules, participants=cohort.participants, reporting_lines=cohort.reporting_lines
    )
    without_rule = solve(
        rules=cohort.rules, participants=cohort.participants, reporting_lines=cohort.reporting_lines
    )
    assert any(organisation[p.mentor_id] is None for p in without_rule.pairs), (
        "the cohort must tempt the engine into pairs within the group"
    )
    programme = "prog-across"
    await kafka.publish(hr_command(programme_definition(rules), programme_id=programme))
    await kafka.publish(
        hr_command(RecordReportingLines(lines=cohort.reporting_lines), programme_id=programme)
    )
    for person in cohort.participants:
        await kafka.publish(
            hr_command(EnrolParticipant(participant=person), programme_id=programme)
        )
    await kafka.publish(hr_command(RequestMatching(round_id="r1"), programme_id=programme))

    events = await read_envelopes(kafka, PAIRING_EVENTS, expect=len(expected.pairs) + 1, timeout=90)
    formed = of_type(events, PairFormed)
    [completed] = of_type(events, MatchingCompleted)

    assert len(formed) == completed.pairs == len(expected.pairs) > 0
    for pair in formed:
        partner = organisation[pair.mentor.participant_id]
        assert partner is not None
        assert organisation[pair.mentee.participant_id] is None
        assert "different_organisation" in pair.explanation.constraints_checked
        assert f"mentor — {partner}; mentee — the programme's organisation" in (
            pair.explanation.summary.en
        )
        assert f"mentor — {partner} ; mentoré — organisation du programme" in (
            pair.explanation.summary.fr
        )
    unmatched_mentees = [u for u in completed.unmatched if u.role == "mentee"]
    assert len(unmatched_mentees) == 12 - len(formed)
