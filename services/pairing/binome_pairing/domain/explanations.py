"""Explanations of pairs and of unmatched participants, in French and English."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from binome_pairing.domain import texts
from binome_pairing.domain.results import NeedCoverage, UnmatchedReason
from binome_pairing.domain.taxonomy import topic_label
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.programme import Criterion, HardConstraint, ProgrammeRules
from binome_shared.contracts.values import Language, LocalisedText


def need_coverage(
    mentee: ParticipantProfile, mentor: ParticipantProfile
) -> tuple[list[NeedCoverage], list[str]]:
    """The mentee's needs the mentor's skills answer (highest priority first), and the rest."""
    levels = {skill.topic: skill.level for skill in mentor.skills}
    covered: list[NeedCoverage] = []
    uncovered: list[str] = []
    for need in sorted(mentee.learning_needs, key=lambda need: (-need.priority, need.topic)):
        level = levels.get(need.topic)
        if level is None:
            uncovered.append(need.topic)
        else:
            covered.append(
                NeedCoverage(
                    need=need.topic, priority=need.priority, skill=need.topic, mentor_level=level
                )
            )
    return covered, uncovered


@dataclass(frozen=True, kw_only=True, slots=True)
class PairFacts:
    """What a pair's explanation says: its score and what makes it up."""

    score: float
    breakdown: Mapping[Criterion, float]
    covered: Sequence[NeedCoverage]
    need_count: int
    shared_minutes: int
    grade_gap: int
    shared_interests: int
    checked: Sequence[HardConstraint]
    violated: Sequence[HardConstraint]
    locked: bool
    topic_labels: Mapping[str, LocalisedText]
    """The programme's names of its topics, by slug."""
    mentor_organisation: str | None = None
    mentee_organisation: str | None = None
    """Their organisations; None is the programme's own."""
    imposed: bool = False
    """HR imposed the pair: the rules it breaks were overridden, not outdated."""


def pair_explanation(facts: PairFacts) -> LocalisedText:
    """A short paragraph saying why this pair, with the score and what makes it up."""
    return texts.bilingual(functools.partial(_pair_text, facts))


def _pair_text(facts: PairFacts, language: Language) -> str:
    fr = language is Language.FR
    parts = [f"Score {texts.decimal(facts.score, language)}."]
    if facts.locked:
        parts.append("Binôme conservé." if fr else "Kept pair.")
    if facts.imposed:
        parts.append("Binôme imposé par les RH." if fr else "Pair imposed by HR.")
    if facts.need_count:
        details = [
            f"{topic_label(item.need, facts.topic_labels).in_language(language)} "
            + (
                f"(priorité {item.priority}, niveau du mentor {item.mentor_level})"
                if fr
                else f"(priority {item.priority}, mentor level {item.mentor_level})"
            )
            for item in facts.covered
        ]
        if fr:
            lead = f"Couvre {len(facts.covered)} besoin(s) sur {facts.need_count}"
        else:
            lead = f"Covers {len(facts.covered)} of {facts.need_count} learning need(s)"
        if details:
            lead += (" : " if fr else ": ") + (" ; " if fr else "; ").join(details)
        parts.append(lead + ".")
    soft = _soft_text(facts, language)
    if soft:
        parts.append(soft)
    organisations = _organisations_text(facts, language)
    if organisations:
        parts.append(organisations)
    if facts.checked:
        labels = texts.constraint_labels(facts.checked, language)
        parts.append(("Règles respectées : " if fr else "Rules met: ") + labels + ".")
    if facts.violated:
        labels = texts.constraint_labels(facts.violated, language)
        if facts.imposed:
            lead = "Règles écartées par les RH : " if fr else "Rules overridden by HR: "
        else:
            lead = "Règles qui ne tiennent plus : " if fr else "Rules no longer met: "
        parts.append(lead + labels + ".")
    return " ".join(parts)


def _soft_text(facts: PairFacts, language: Language) -> str:
    """The soft criteria that count for this pair, as one sentence (or nothing)."""
    fr = language is Language.FR
    soft: list[str] = []
    if facts.shared_minutes:
        soft.append(
            f"{facts.shared_minutes} min de disponibilités communes par semaine"
            if fr
            else f"{facts.shared_minutes} min of shared weekly availability"
        )
    if facts.breakdown.get(Criterion.SAME_SITE, 0.0) >= 1.0:
        soft.append("même site" if fr else "same site")
    if facts.grade_gap > 0:
        soft.append(f"écart de grade {facts.grade_gap}" if fr else f"grade gap {facts.grade_gap}")
    if facts.shared_interests:
        soft.append(
            f"{facts.shared_interests} centre(s) d'intérêt commun(s)"
            if fr
            else f"{facts.shared_interests} shared interest(s)"
        )
    if not soft:
        return ""
    text = (" ; " if fr else "; ").join(soft)
    return text[0].upper() + text[1:] + "."


def _organisations_text(facts: PairFacts, language: Language) -> str:
    """Where each comes from, when either is from another organisation than the programme's."""
    mentor, mentee = facts.mentor_organisation, facts.mentee_organisation
    if mentor is None and mentee is None:
        return ""
    fr = language is Language.FR
    if mentor == mentee:
        return f"Même organisation : {mentor}." if fr else f"Same organisation: {mentor}."
    own = "organisation du programme" if fr else "the programme's organisation"
    if fr:
        return f"Organisations : mentor — {mentor or own} ; mentoré — {mentee or own}."
    return f"Organisations: mentor — {mentor or own}; mentee — {mentee or own}."


@dataclass(frozen=True, kw_only=True, slots=True)
class UnmatchedFacts:
    """What is known of why someone has no pair (see :class:`~.results.Unmatched`)."""

    code: UnmatchedReason
    rules: ProgrammeRules
    seeker_is_mentee: bool
    seeker_languages: Sequence[str]
    candidates_checked: int
    feasible_candidates: int
    eliminated_by: Mapping[HardConstraint, int]
    eliminated_everyone: Sequence[HardConstraint]
    pairs_missing_at_most: int = 0


def unmatched_reason(facts: UnmatchedFacts) -> LocalisedText:
    """Why someone has no pair, in words HR can act on."""
    return texts.bilingual(functools.partial(_unmatched_text, facts))


def _not_proven_text(language: Language, *, checked: str, feasible: str, missing: str) -> str:
    if language is Language.FR:
        return (
            f"{feasible} sur {checked} remplissent toutes les conditions. Maximum non prouvé : "
            f"la recherche a été arrêtée avant de prouver qu'aucun binôme de plus n'est "
            f"possible ; il peut manquer jusqu'à {missing} binôme(s) dans ce tour."
        )
    return (
        f"{feasible} of {checked} meet every rule. Not proven maximum: the search was stopped "
        f"before proving that no further pair is possible; up to {missing} pair(s) may be "
        "missing from this round."
    )


def _capacity_text(
    language: Language, *, code: UnmatchedReason, checked: str, feasible: str
) -> str:
    fr = language is Language.FR
    if code is UnmatchedReason.MENTORS_NEEDED_ELSEWHERE:
        if fr:
            return (
                f"{feasible} mentor(s) sur {checked} remplissent toutes les conditions, mais "
                "toutes leurs places ont servi à d'autres binômes : le nombre maximal de "
                "binômes possible est formé. Ajouter des mentors ou augmenter leur capacité."
            )
        return (
            f"{feasible} of {checked} mentor(s) meet every rule, but all their places went "
            "to other pairs: the largest possible number of pairs is formed. Add mentors or "
            "raise their capacity."
        )
    if fr:
        return (
            f"{feasible} mentoré(s) sur {checked} sont compatibles, mais chacun a un binôme "
            "qui lui convient mieux ou est le seul possible pour lui."
        )
    return (
        f"{feasible} of {checked} mentee(s) are compatible, but each has a pair that suits "
        "them better or is their only option."
    )


def _unmatched_text(facts: UnmatchedFacts, language: Language) -> str:
    code, rules, seeker_is_mentee = facts.code, facts.rules, facts.seeker_is_mentee
    candidates_checked, eliminated_by = facts.candidates_checked, facts.eliminated_by
    fr = language is Language.FR
    other_fr, other_en = ("mentor", "mentor") if seeker_is_mentee else ("mentoré", "mentee")
    others_fr, others_en = other_fr + "s", other_en + "s"
    checked = texts.number(candidates_checked, language)
    feasible = texts.number(facts.feasible_candidates, language)
    if code is UnmatchedReason.MAXIMUM_NOT_PROVEN:
        missing = texts.number(facts.pairs_missing_at_most, language)
        return _not_proven_text(language, checked=checked, feasible=feasible, missing=missing)
    if code in (UnmatchedReason.MENTORS_NEEDED_ELSEWHERE, UnmatchedReason.NOT_NEEDED):
        return _capacity_text(language, code=code, checked=checked, feasible=feasible)
    ranked = sorted(
        (item for item in eliminated_by.items() if item[1] > 0), key=lambda item: -item[1]
    )
    clauses = [
        texts.requirement(
            constraint,
            rules=rules,
            seeker_is_mentee=seeker_is_mentee,
            seeker_languages=facts.seeker_languages,
        ).in_language(language)
        for constraint, _ in ranked
    ]
    counts = (" ; " if fr else "; ").join(
        f"{texts.CONSTRAINT_LABELS[constraint].in_language(language)} "
        + (
            f"en écarte {texts.number(count, Language.FR)}"
            if fr
            else f"rules out {texts.number(count, Language.EN)}"
        )
        for constraint, count in ranked
    )
    if candidates_checked == 0:
        return (
            f"Aucun {other_fr} n'est inscrit dans le programme."
            if fr
            else f"No {other_en} is enrolled in the programme."
        )
    wanted = texts.join_words(clauses, language)
    alone = texts.constraint_labels(facts.eliminated_everyone, language)
    if fr:
        text = (
            f"Aucun {other_fr} possible parmi {checked} {others_fr} : il faudrait un {other_fr} "
            f"qui {wanted}. {counts[0].upper() + counts[1:]}."
        )
        if alone:
            text += f" À elle seule, cette règle les écarte tous : {alone}."
        return text
    text = (
        f"No feasible {other_en} among {checked} {others_en}: it takes a {other_en} who "
        f"{wanted}. {counts[0].upper() + counts[1:]}."
    )
    if alone:
        text += f" On its own, this rule rules them all out: {alone}."
    return text
