"""Validation of participant records, one problem per record and field.

Bad records do not stop a round: errors leave their record out (the service dead-letters
it), warnings are reported and the record is solved as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from binome_pairing.domain.hierarchy import manager_links, reporting_loops
from binome_pairing.domain.results import CohortValidation, RecordProblem, Severity
from binome_pairing.domain.taxonomy import UNKNOWN_TOPIC, KnownTopics
from binome_shared.contracts.participants import (
    ParticipantProfile,
    ParticipantRole,
    ReportingLine,
)
from binome_shared.contracts.programme import Criterion, ProgrammeRules
from binome_shared.contracts.values import LocalisedText

PARTICIPANTS = "participants"
REPORTING_LINES = "reporting_lines"

_FRENCH_ERRORS: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "greater_than": "doit être supérieur à {gt}",
    "less_than": "doit être inférieur à {lt}",
    "string_pattern_mismatch": "format invalide (motif attendu : {pattern})",
    "string_too_short": "texte trop court (au moins {min_length} caractère(s))",
    "string_too_long": "texte trop long (au plus {max_length} caractères)",
    "too_short": "liste trop courte (au moins {min_length} élément(s))",
    "too_long": "liste trop longue (au plus {max_length} éléments)",
    "int_parsing": "doit être un nombre entier",
    "int_type": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "string_type": "doit être un texte",
    "bool_type": "doit être vrai ou faux",
    "bool_parsing": "doit être vrai ou faux",
    "list_type": "doit être une liste",
    "model_type": "doit être un objet",
    "dict_type": "doit être un objet",
    "enum": "doit valoir l'une de ces valeurs : {expected}",
    "literal_error": "doit valoir l'une de ces valeurs : {expected}",
    "time_parsing": "heure invalide (format HH:MM)",
    "time_type": "heure invalide (format HH:MM)",
    "date_parsing": "date invalide (format AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date invalide (format AAAA-MM-JJ)",
    "value_error": "valeur refusée : {error}",
}


def _field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _french(error: ErrorDetails) -> str:
    template = _FRENCH_ERRORS.get(error["type"])
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if template is None:
        return f"valeur refusée : {error['msg']}"
    try:
        return template.format(**{key: str(value) for key, value in context.items()})
    except (KeyError, IndexError):
        return f"valeur refusée : {error['msg']}"


def problems_from_validation_error(
    error: ValidationError, *, collection: str, index: int | None, record_id: str | None
) -> list[RecordProblem]:
    """One problem per pydantic error, with the field's dotted path."""
    return [
        RecordProblem(
            collection=collection,
            index=index,
            record_id=record_id,
            field=_field_path(detail["loc"]),
            code=detail["type"],
            severity=Severity.ERROR,
            message=LocalisedText(fr=_french(detail), en=detail["msg"]),
        )
        for detail in error.errors(include_url=False)
    ]


def _record_id(record: object) -> str | None:
    if isinstance(record, Mapping):
        value = record.get("participant_id")
        return value if isinstance(value, str) else None
    return None


def parse_participants(
    records: Sequence[object], *, collection: str = PARTICIPANTS
) -> tuple[list[tuple[int, ParticipantProfile]], list[RecordProblem]]:
    """Read raw records (e.g. decoded JSON) into profiles, keeping each record's position."""
    profiles: list[tuple[int, ParticipantProfile]] = []
    problems: list[RecordProblem] = []
    for index, record in enumerate(records):
        try:
            profiles.append((index, ParticipantProfile.model_validate(record)))
        except ValidationError as error:
            problems.extend(
                problems_from_validation_error(
                    error, collection=collection, index=index, record_id=_record_id(record)
                )
            )
    return profiles, problems


LOOP_NAMES_SHOWN = 12
"""A loop's warning names this many people, then says how many more."""


def _loop_problems(
    *,
    participants: Sequence[ParticipantProfile],
    where: Sequence[int],
    reporting_lines: Sequence[ReportingLine],
    collection: str,
) -> list[RecordProblem]:
    """One warning per reporting loop, on its first enrolled member's record.

    A loop of people who are not enrolled is reported on the reporting line of its first
    member. The warning names the loop's members in chain order.
    """
    position = {
        person.participant_id: index for index, person in zip(where, participants, strict=True)
    }
    line_position = {line.employee_id: index for index, line in enumerate(reporting_lines)}
    problems: list[RecordProblem] = []
    for loop in reporting_loops(manager_links(participants, reporting_lines)):
        enrolled = [member for member in loop if member in position]
        index: int | None
        if enrolled:
            first = min(enrolled, key=position.__getitem__)
            record_collection, index = collection, position[first]
        else:
            first = loop[0]
            record_collection, index = REPORTING_LINES, line_position.get(first)
        start = loop.index(first)
        ordered = loop[start:] + loop[:start]
        shown = " → ".join([*ordered[:LOOP_NAMES_SHOWN], ordered[0]])
        if len(ordered) > LOOP_NAMES_SHOWN:
            hidden = len(ordered) - LOOP_NAMES_SHOWN
            shown = " → ".join(ordered[:LOOP_NAMES_SHOWN]) + f" → … (+{hidden})"
        problems.append(
            RecordProblem(
                collection=record_collection,
                index=index,
                record_id=first,
                field="manager_id",
                code="reporting_loop",
                severity=Severity.WARNING,
                message=LocalisedText(
                    fr=(
                        f"boucle hiérarchique de {len(ordered)} personne(s) : {shown} ; "
                        "chacune y compte comme au-dessus des autres (jamais appariées entre elles)"
                    ),
                    en=(
                        f"reporting loop of {len(ordered)} people: {shown}; each counts as "
                        "above the others (never paired together)"
                    ),
                ),
            )
        )
    return problems


def validate_cohort(
    *,
    rules: ProgrammeRules,
    participants: Sequence[ParticipantProfile],
    positions: Sequence[int] | None = None,
    collection: str = PARTICIPANTS,
    reporting_lines: Iterable[ReportingLine] = (),
    unknown_topic_severity: Severity = Severity.ERROR,
) -> CohortValidation:
    """Check a cohort as a whole; ``positions`` are the records' indices in their input.

    Errors (the record is left out): a participant id seen earlier in the cohort; skills,
    learning needs or interests outside the programme's taxonomy (``unknown_topic``, once per
    list, naming each slug's position and the known slugs), unless ``unknown_topic_severity``
    makes that a warning (a round solves people enrolled before the taxonomy changed).
    Warnings (solved anyway): capacity on a mentee, a mentor without skills, a mentee without
    learning needs, no availability while availability counts, no gender in a single-gender
    programme, a reporting loop (once per loop, naming its members, through
    ``reporting_lines`` too).
    """
    where = list(positions) if positions is not None else list(range(len(participants)))
    problems: list[RecordProblem] = []
    accepted: list[ParticipantProfile] = []
    accepted_where: list[int] = []
    seen: set[str] = set()
    availability_counts = rules.weights.as_mapping()[Criterion.AVAILABILITY] > 0
    known_topics = KnownTopics.of(rules)
    for index, person in zip(where, participants, strict=True):

        def report(
            field: str,
            code: str,
            fr: str,
            en: str,
            *,
            index: int = index,
            person: ParticipantProfile = person,
            severity: Severity = Severity.WARNING,
        ) -> None:
            problems.append(
                RecordProblem.of(
                    collection=collection,
                    index=index,
                    record_id=person.participant_id,
                    field=field,
                    code=code,
                    severity=severity,
                    fr=fr,
                    en=en,
                )
            )

        if person.participant_id in seen:
            report(
                "participant_id",
                "duplicate_id",
                "identifiant déjà utilisé par un participant précédent ; enregistrement ignoré",
                "id already used by an earlier participant; record left out",
                severity=Severity.ERROR,
            )
            continue
        seen.add(person.participant_id)
        unknown = known_topics.unknown_in(person)
        for item in unknown:
            message = item.message()
            report(
                item.field, UNKNOWN_TOPIC, message.fr, message.en, severity=unknown_topic_severity
            )
        if unknown and unknown_topic_severity is Severity.ERROR:
            continue
        accepted.append(person)
        accepted_where.append(index)
        is_mentor = person.role is ParticipantRole.MENTOR
        if not is_mentor and person.capacity is not None:
            report(
                "capacity",
                "capacity_ignored",
                "capacité ignorée pour un mentoré",
                "capacity is ignored for a mentee",
            )
        if is_mentor and not person.skills:
            report(
                "skills",
                "no_skills",
                "aucune compétence : ses besoins couverts vaudront 0",
                "no skills: needs coverage will score 0",
            )
        if not is_mentor and not person.learning_needs:
            report(
                "learning_needs",
                "no_learning_needs",
                "aucun besoin d'apprentissage : couverture des besoins à 0",
                "no learning needs: needs coverage will score 0",
            )
        if availability_counts and not person.availability:
            report(
                "availability",
                "no_availability",
                "aucune disponibilité : le critère de disponibilités vaudra 0",
                "no availability: the availability criterion will score 0",
            )
        if rules.constraints.same_gender and person.gender is None:
            report(
                "gender",
                "gender_missing",
                "genre non renseigné : impossible à apparier dans un programme non mixte",
                "gender not given: cannot be paired in a single-gender programme",
            )
    problems += _loop_problems(
        participants=accepted,
        where=accepted_where,
        reporting_lines=list(reporting_lines),
        collection=collection,
    )
    problems.sort(key=lambda problem: (problem.collection != collection, problem.index or 0))
    return CohortValidation(accepted=accepted, problems=problems)
