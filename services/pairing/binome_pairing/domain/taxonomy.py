"""The programme's taxonomy: which topics a profile may name, and what they are called.

Skills and learning needs only meet when they name the same slug, so a slug outside the
programme's vocabulary (``gen_ai`` for ``generative_ai``) would never match anything and
silently score 0. Profiles naming one are therefore refused, with the known slugs and the
closest of them, so that HR can correct the record.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.programme import ProgrammeRules, Topic
from binome_shared.contracts.values import LocalisedText

UNKNOWN_TOPIC = "unknown_topic"
"""The stable code of a skill, need or interest outside the programme's taxonomy."""

MIN_ABBREVIATION = 3
"""Shorter slugs are not taken for abbreviations (``ai`` is in almost every slug)."""

KNOWN_LIST_CHARS = 600
"""A refusal lists known slugs up to about this many characters, then says how many more, so
that a large taxonomy still gives a short message (a dead letter's reason is bounded)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UnknownTopics:
    """The slugs one list of a profile (skills, needs or interests) names outside the
    programme's taxonomy, each with its position."""

    field: str
    """``skills``, ``learning_needs`` or ``interests``."""
    unknown: Sequence[tuple[str, str]]
    """(path, slug) of each, e.g. ``("skills[2].topic", "gen_ai")``."""
    known: Sequence[str]
    """The slugs that list may hold, in the programme's order."""

    def closest(self, slug: str) -> str | None:
        """The known slug ``slug`` most likely meant, if one is close enough.

        HR vocabularies abbreviate (``gen_ai``, ``cyber``), which plain similarity ranks below
        unrelated slugs of a similar length (``green_it``): a known slug that holds every
        letter of ``slug`` in order is preferred, the most similar of them first.
        """
        if len(slug) >= MIN_ABBREVIATION:
            spelled_out = [known for known in self.known if _holds_in_order(known, slug)]
            if spelled_out:
                return max(spelled_out, key=lambda known: _similarity(slug, known))
        matches = difflib.get_close_matches(slug, self.known, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def message(self) -> LocalisedText:
        """Which slugs are refused (with a likely correction) and the known ones, FR and EN."""
        is_interest = self.field == "interests"
        items_fr: list[str] = []
        items_en: list[str] = []
        for path, slug in self.unknown:
            closest = self.closest(slug)
            items_fr.append(
                f"{path} « {slug} »" + (f" (vouliez-vous dire « {closest} » ?)" if closest else "")
            )
            items_en.append(
                f"{path} '{slug}'" + (f" (did you mean '{closest}'?)" if closest else "")
            )
        shown, hidden = _known_list(self.known)
        if is_interest:
            lead_fr = "centre(s) d'intérêt absent(s) de la liste du programme"
            lead_en = "interest(s) not in the programme's list"
            known_fr, known_en = "centres d'intérêt connus", "known interests"
        else:
            lead_fr = "sujet(s) absent(s) de la taxonomie du programme"
            lead_en = "topic(s) not in the programme's taxonomy"
            known_fr, known_en = "sujets connus", "known topics"
        return LocalisedText(
            fr=f"{lead_fr} : {' ; '.join(items_fr)} ; {known_fr} : {shown}"
            + (f" … (+{hidden})" if hidden else ""),
            en=f"{lead_en}: {'; '.join(items_en)}; {known_en}: {shown}"
            + (f" … (+{hidden} more)" if hidden else ""),
        )


def _holds_in_order(word: str, letters: str) -> bool:
    remaining = iter(word)
    return all(letter in remaining for letter in letters)


def _similarity(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first, second).ratio()


def _known_list(known: Sequence[str]) -> tuple[str, int]:
    """The known slugs joined, cut after about :data:`KNOWN_LIST_CHARS`, and how many were cut."""
    shown: list[str] = []
    length = 0
    for slug in known:
        if shown and length + len(slug) > KNOWN_LIST_CHARS:
            break
        shown.append(slug)
        length += len(slug) + 2
    return ", ".join(shown), len(known) - len(shown)


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    slugs: Sequence[str]
    allowed: frozenset[str]

    @classmethod
    def of(cls, slugs: Sequence[str]) -> _Vocabulary:
        return cls(slugs, frozenset(slugs))

    def unknown(self, field: str, path: str, named: Sequence[str]) -> UnknownTopics | None:
        """The slugs of ``named`` outside this vocabulary (``path`` formats a position)."""
        unknown = [
            (path.format(index), slug)
            for index, slug in enumerate(named)
            if slug not in self.allowed
        ]
        return UnknownTopics(field=field, unknown=unknown, known=self.slugs) if unknown else None


@dataclass(frozen=True, kw_only=True, slots=True)
class KnownTopics:
    """A programme's taxonomy, read once to check a whole cohort."""

    topics: _Vocabulary
    interests: _Vocabulary | None
    """None when the programme accepts any interest."""

    @classmethod
    def of(cls, rules: ProgrammeRules) -> KnownTopics:
        interests = rules.interest_slugs()
        return cls(
            topics=_Vocabulary.of(rules.topic_slugs()),
            interests=None if interests is None else _Vocabulary.of(interests),
        )

    def unknown_in(self, person: ParticipantProfile) -> list[UnknownTopics]:
        """For each list of ``person`` (skills, needs, interests) naming slugs outside the
        taxonomy, those slugs; interests only when the programme lists them."""
        found = [
            self.topics.unknown("skills", "skills[{}].topic", [s.topic for s in person.skills]),
            self.topics.unknown(
                "learning_needs",
                "learning_needs[{}].topic",
                [need.topic for need in person.learning_needs],
            ),
        ]
        if self.interests is not None:
            found.append(self.interests.unknown("interests", "interests[{}]", person.interests))
        return [item for item in found if item is not None]


def topic_labels(rules: ProgrammeRules) -> Mapping[str, LocalisedText]:
    """The French and English names of the programme's topics, by slug."""
    return {topic.slug: _label(topic) for topic in rules.topics}


def _label(topic: Topic) -> LocalisedText:
    return LocalisedText(fr=topic.fr, en=topic.en)


def topic_label(slug: str, labels: Mapping[str, LocalisedText]) -> LocalisedText:
    """A readable name for a slug: the taxonomy's, or the slug's words when it has none
    (a kept pair formed before the taxonomy changed)."""
    known = labels.get(slug)
    if known is not None:
        return known
    words = slug.replace("_", " ").replace("-", " ")
    return LocalisedText(fr=words, en=words)
