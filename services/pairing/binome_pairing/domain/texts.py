"""Words the engine writes for people, in French and English."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from binome_shared.contracts.programme import (
    AgeBands,
    Criterion,
    HardConstraint,
    MinimumAgeGap,
    ProgrammeRules,
)
from binome_shared.contracts.values import Language, LocalisedText

LANGUAGE_NAMES: dict[str, LocalisedText] = {
    "fr": LocalisedText(fr="français", en="French"),
    "en": LocalisedText(fr="anglais", en="English"),
    "de": LocalisedText(fr="allemand", en="German"),
    "es": LocalisedText(fr="espagnol", en="Spanish"),
    "it": LocalisedText(fr="italien", en="Italian"),
    "pt": LocalisedText(fr="portugais", en="Portuguese"),
    "nl": LocalisedText(fr="néerlandais", en="Dutch"),
    "pl": LocalisedText(fr="polonais", en="Polish"),
    "ar": LocalisedText(fr="arabe", en="Arabic"),
    "zh": LocalisedText(fr="chinois", en="Chinese"),
    "ja": LocalisedText(fr="japonais", en="Japanese"),
    "ro": LocalisedText(fr="roumain", en="Romanian"),
}

CRITERION_LABELS: dict[Criterion, LocalisedText] = {
    Criterion.NEEDS_COVERAGE: LocalisedText(fr="besoins couverts", en="needs covered"),
    Criterion.AVAILABILITY: LocalisedText(fr="disponibilités communes", en="shared availability"),
    Criterion.SAME_SITE: LocalisedText(fr="même site", en="same site"),
    Criterion.SENIORITY_GAP: LocalisedText(fr="écart de séniorité", en="seniority gap"),
    Criterion.SHARED_INTERESTS: LocalisedText(fr="intérêts communs", en="shared interests"),
}

CONSTRAINT_LABELS: dict[HardConstraint, LocalisedText] = {
    HardConstraint.MENTOR_YOUNGER: LocalisedText(fr="mentor plus jeune", en="mentor younger"),
    HardConstraint.NOT_IN_MANAGEMENT_CHAIN: LocalisedText(
        fr="hors ligne hiérarchique", en="outside the management chain"
    ),
    HardConstraint.DIFFERENT_DEPARTMENT: LocalisedText(
        fr="départements différents", en="different departments"
    ),
    HardConstraint.DIFFERENT_BUSINESS_UNIT: LocalisedText(
        fr="entités différentes", en="different business units"
    ),
    HardConstraint.DIFFERENT_ORGANISATION: LocalisedText(
        fr="organisations différentes", en="different organisations"
    ),
    HardConstraint.SHARED_LANGUAGE: LocalisedText(fr="langue commune", en="shared language"),
    HardConstraint.MENTOR_TRAINED: LocalisedText(fr="mentor formé", en="trained mentor"),
    HardConstraint.SAME_GENDER: LocalisedText(fr="même genre", en="same gender"),
    HardConstraint.WORKING_HOURS_OVERLAP: LocalisedText(
        fr="horaires de travail compatibles", en="overlapping working hours"
    ),
    HardConstraint.NOT_EXCLUDED_PAIR: LocalisedText(
        fr="binôme ni déjà formé ni refusé", en="pair neither formed before nor rejected"
    ),
    HardConstraint.MENTOR_CAPACITY: LocalisedText(fr="capacité du mentor", en="mentor capacity"),
}


def bilingual(render: Callable[[Language], str]) -> LocalisedText:
    """The text ``render`` writes, in French and in English."""
    return LocalisedText(fr=render(Language.FR), en=render(Language.EN))


def constraint_labels(constraints: Sequence[HardConstraint], language: Language) -> str:
    """'mentor younger, shared language' / 'mentor plus jeune, langue commune'."""
    return ", ".join(CONSTRAINT_LABELS[item].in_language(language) for item in constraints)


def language_name(code: str) -> LocalisedText:
    """The language's name in both languages, or its code when unknown."""
    return LANGUAGE_NAMES.get(code, LocalisedText(fr=code, en=code))


def number(value: int, language: Language) -> str:
    """1,100 in English, 1 100 (narrow no-break space) in French."""
    grouped = f"{value:,}"
    return grouped.replace(",", "\u202f") if language is Language.FR else grouped


def decimal(value: float, language: Language) -> str:
    """0.78 in English, 0,78 in French."""
    text = f"{value:.2f}"
    return text.replace(".", ",") if language is Language.FR else text


def join_words(items: Sequence[str], language: Language) -> str:
    """'a, b and c' / 'a, b et c'."""
    conjunction = " et " if language is Language.FR else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + conjunction + items[-1]


def join_languages(codes: Sequence[str], language: Language) -> str:
    """'German or Spanish' / 'allemand ou espagnol'."""
    names = [language_name(code).in_language(language) for code in codes]
    disjunction = " ou " if language is Language.FR else " or "
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + disjunction + names[-1]


_FIXED_REQUIREMENTS: dict[HardConstraint, LocalisedText] = {
    HardConstraint.NOT_IN_MANAGEMENT_CHAIN: LocalisedText(
        fr="est hors de sa ligne hiérarchique", en="is outside their management chain"
    ),
    HardConstraint.DIFFERENT_DEPARTMENT: LocalisedText(
        fr="travaille dans un autre département", en="works in another department"
    ),
    HardConstraint.DIFFERENT_BUSINESS_UNIT: LocalisedText(
        fr="travaille dans une autre entité", en="works in another business unit"
    ),
    HardConstraint.DIFFERENT_ORGANISATION: LocalisedText(
        fr="vient d'une autre organisation", en="comes from another organisation"
    ),
    HardConstraint.MENTOR_TRAINED: LocalisedText(
        fr="est formé au mentorat", en="completed the mentor training"
    ),
    HardConstraint.SAME_GENDER: LocalisedText(
        fr="est du même genre (déclaré)", en="has the same (declared) gender"
    ),
    HardConstraint.NOT_EXCLUDED_PAIR: LocalisedText(
        fr="n'a jamais formé de binôme avec lui ni été refusé par les RH",
        en="was never paired with them nor rejected by HR",
    ),
}


def _age_requirement(rules: ProgrammeRules, *, seeker_is_mentee: bool) -> LocalisedText:
    age_rule = rules.constraints.mentor_younger
    if isinstance(age_rule, MinimumAgeGap):
        years = age_rule.years
        if seeker_is_mentee:
            return LocalisedText(
                fr=f"a au moins {years} an(s) de moins", en=f"is at least {years} year(s) younger"
            )
        return LocalisedText(
            fr=f"a au moins {years} an(s) de plus", en=f"is at least {years} year(s) older"
        )
    if isinstance(age_rule, AgeBands):
        return LocalisedText(
            fr="est dans la tranche d'âge du programme", en="is within the programme's age band"
        )
    return LocalisedText(fr="a l'âge requis", en="has the required age")


def requirement(
    constraint: HardConstraint,
    *,
    rules: ProgrammeRules,
    seeker_is_mentee: bool,
    seeker_languages: Sequence[str],
) -> LocalisedText:
    """What a counterpart would need to satisfy ``constraint``, as a relative clause.

    Reads after "a mentor who …" / "un mentor qui …" (or mentee when a mentor seeks).
    """
    fixed = _FIXED_REQUIREMENTS.get(constraint)
    if fixed is not None:
        return fixed
    if constraint is HardConstraint.MENTOR_YOUNGER:
        return _age_requirement(rules, seeker_is_mentee=seeker_is_mentee)
    if constraint is HardConstraint.SHARED_LANGUAGE:
        return LocalisedText(
            fr=f"parle {join_languages(seeker_languages, Language.FR)}",
            en=f"speaks {join_languages(seeker_languages, Language.EN)}",
        )
    if constraint is HardConstraint.WORKING_HOURS_OVERLAP:
        minutes = rules.constraints.min_working_hours_overlap_minutes or 0
        return LocalisedText(
            fr=f"partage au moins {minutes} min d'horaires de travail",
            en=f"shares at least {minutes} min of working hours",
        )
    label = CONSTRAINT_LABELS[constraint]
    return LocalisedText(fr=f"respecte : {label.fr}", en=f"meets: {label.en}")
