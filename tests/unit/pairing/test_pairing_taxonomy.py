"""The programme's skills taxonomy: a profile naming an unknown topic is refused with the known
ones, and explanations use the programme's names of its topics."""

from __future__ import annotations

import pytest

from binome_pairing.domain import Severity, solve, validate_cohort
from binome_pairing.domain.taxonomy import KNOWN_LIST_CHARS, UNKNOWN_TOPIC
from binome_shared.contracts.programme import DEFAULT_TOPICS, ProgrammeRules, Topic
from tests.unit.pairing.pairing_builders import mentee, mentor, need, rules, skill

pytestmark = pytest.mark.unit

DEFAULT_SLUGS = [topic.slug for topic in DEFAULT_TOPICS]


def with_topics(*topics: Topic, interests: list[Topic] | None = None) -> ProgrammeRules:
    return rules().model_copy(update={"topics": list(topics), "interests": interests})


AI = Topic(slug="ai", fr="intelligence artificielle", en="artificial intelligence")
DATA = Topic(slug="data", fr="données", en="data")


def test_a_skill_outside_the_default_taxonomy_is_refused_with_the_known_topics() -> None:
    people = [mentor("Y1", skills=[skill("data", 4), skill("gen_ai", 5)]), mentor("Y2")]

    validation = validate_cohort(rules=rules(), participants=people)

    assert [person.participant_id for person in validation.accepted] == ["Y2"]
    (problem,) = validation.errors
    assert (problem.field, problem.code) == ("skills", UNKNOWN_TOPIC)
    assert problem.severity is Severity.ERROR
    assert problem.location == 'participants[0] (id "Y1").skills'
    assert problem.message.en == (
        "topic(s) not in the programme's taxonomy: skills[1].topic 'gen_ai' (did you mean "
        f"'generative_ai'?); known topics: {', '.join(DEFAULT_SLUGS)}"
    )
    assert problem.message.fr == (
        "sujet(s) absent(s) de la taxonomie du programme : skills[1].topic « gen_ai » "
        f"(vouliez-vous dire « generative_ai » ?) ; sujets connus : {', '.join(DEFAULT_SLUGS)}"
    )


def test_the_programmes_own_taxonomy_replaces_the_default() -> None:
    # linkedin is a default topic, but not one of this programme's.
    people = [
        mentee("E1", learning_needs=[need("ai", 5), need("linkedin", 3), need("blockchain", 1)]),
        mentee("E2", learning_needs=[need("ai", 5), need("data", 2)]),
    ]

    validation = validate_cohort(rules=with_topics(AI, DATA), participants=people)

    assert [person.participant_id for person in validation.accepted] == ["E2"]
    (problem,) = validation.errors
    assert problem.field == "learning_needs"
    assert problem.message.en == (
        "topic(s) not in the programme's taxonomy: learning_needs[1].topic 'linkedin'; "
        "learning_needs[2].topic 'blockchain'; known topics: ai, data"
    )


def test_interests_are_free_unless_the_programme_lists_them() -> None:
    person = mentor("Y", interests=["chess", "sailing"])
    listed = [Topic(slug="chess", fr="échecs", en="chess")]

    free = validate_cohort(rules=rules(), participants=[person])
    checked = validate_cohort(rules=with_topics(AI, interests=listed), participants=[person])

    assert free.errors == []
    (problem,) = checked.errors
    assert (problem.field, problem.code) == ("interests", UNKNOWN_TOPIC)
    assert problem.message.en == (
        "interest(s) not in the programme's list: interests[1] 'sailing'; known interests: chess"
    )
    assert "centres d'intérêt connus : chess" in problem.message.fr


@pytest.mark.parametrize(
    ("written", "meant"),
    [("gen_ai", "generative_ai"), ("linkdin", "linkedin"), ("cyber", "cybersecurity")],
)
def test_the_refusal_suggests_the_topic_an_abbreviation_or_a_typo_meant(
    written: str, meant: str
) -> None:
    (problem,) = validate_cohort(
        rules=rules(), participants=[mentee("E", learning_needs=[need(written, 3)])]
    ).errors

    assert f"'{written}' (did you mean '{meant}'?)" in problem.message.en


def test_a_large_taxonomy_is_listed_in_part_with_how_many_more() -> None:
    topics = [Topic(slug=f"topic_{n:03d}", fr=f"sujet {n}", en=f"topic {n}") for n in range(500)]
    person = mentor("Y", skills=[skill("quantum", 3)])

    (problem,) = validate_cohort(rules=with_topics(*topics), participants=[person]).errors

    listed = problem.message.en.split("known topics: ")[1]
    shown = listed.split(" … ")[0].split(", ")
    assert shown == [topic.slug for topic in topics[: len(shown)]]
    assert listed.endswith(f" … (+{500 - len(shown)} more)")
    assert len(listed) < KNOWN_LIST_CHARS + 100
    assert problem.message.fr.endswith(f" … (+{500 - len(shown)})")


def test_a_round_solves_people_enrolled_before_their_topic_left_the_taxonomy() -> None:
    # Enrolled under the default taxonomy; the programme now knows only "ai" and "data".
    people = [
        mentee("E", learning_needs=[need("linkedin", 5), need("data", 3)]),
        mentor("Y", skills=[skill("linkedin", 5), skill("data", 3)]),
    ]

    result = solve(rules=with_topics(AI, DATA), participants=people, locked_pairs=[("Y", "E")])

    assert [(p.mentor_id, p.mentee_id, p.locked) for p in result.pairs] == [("Y", "E", True)]
    assert result.stats.rejected_records == 0
    unknown = [p for p in result.problems if p.code == UNKNOWN_TOPIC]
    assert [(p.record_id, p.field, p.severity) for p in unknown] == [
        ("E", "learning_needs", Severity.WARNING),
        ("Y", "skills", Severity.WARNING),
    ]
    # A dropped topic has no name any more: the explanation falls back on the slug's words.
    assert "linkedin (priority 5, mentor level 5)" in result.pairs[0].explanation.en


def test_explanations_name_covered_needs_as_the_programme_does() -> None:
    people = [mentee("E", learning_needs=[need("ai", 5)]), mentor("Y", skills=[skill("ai", 4)])]

    (pair,) = solve(rules=with_topics(AI, DATA), participants=people).pairs

    assert "Couvre 1 besoin(s) sur 1 : intelligence artificielle (priorité 5" in pair.explanation.fr
    assert "Covers 1 of 1 learning need(s): artificial intelligence (priority 5" in (
        pair.explanation.en
    )


def test_a_taxonomy_names_each_slug_once() -> None:
    with pytest.raises(ValueError, match="topics list a slug more than once: ai"):
        ProgrammeRules.model_validate(
            rules().model_dump() | {"topics": [AI.model_dump(), DATA.model_dump(), AI.model_dump()]}
        )
    with pytest.raises(ValueError, match="interests list a slug more than once: ai"):
        ProgrammeRules.model_validate(
            rules().model_dump() | {"interests": [AI.model_dump(), AI.model_dump()]}
        )


def test_rules_defined_without_a_taxonomy_get_the_default_digital_topics() -> None:
    written_before = rules().model_dump(mode="json")
    del written_before["topics"], written_before["interests"]

    read = ProgrammeRules.model_validate(written_before)

    assert read.topic_slugs() == DEFAULT_SLUGS
    assert read.interest_slugs() is None
    assert {"social_networks", "collaborative_tools", "generative_ai", "data"} <= set(DEFAULT_SLUGS)
    assert all(topic.fr and topic.en for topic in DEFAULT_TOPICS)
