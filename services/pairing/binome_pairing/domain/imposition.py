"""Which pairs HR may impose, and how an imposed pair explains itself (pure).

HR's list is checked in two steps. Before solving, what the list and the people's standing
say: the same mentee listed twice, someone never enrolled, withdrawn or erased. After
solving (the engine fixes the imposed pairs like kept ones, see
:mod:`binome_pairing.domain.locking`), what the cohort says: a pair whose member is not a
valid mentor or mentee, a mentee already in a pair, a mentor without a place, and each hard
constraint a pair breaks. A broken constraint is allowed only by an override with a reason;
the rest never is. Every problem is a :class:`RecordProblem` under ``imposed_pairs[i]``
with a stable code: the constraint's own (``different_department``…) or the problem's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from binome_pairing.domain import texts
from binome_pairing.domain.lifecycle import ParticipantStatus
from binome_pairing.domain.locking import IMPOSED_PAIRS
from binome_pairing.domain.results import ProposedPair, RecordProblem
from binome_shared.contracts.programme import HardConstraint
from binome_shared.contracts.values import Language, LocalisedText


@dataclass(frozen=True, kw_only=True, slots=True)
class Imposition:
    """One entry of HR's list: the pair, and the override's reason if HR gave one."""

    mentor_id: str
    mentee_id: str
    override_reason: str | None = None

    @property
    def members(self) -> tuple[str, str]:
        return self.mentor_id, self.mentee_id


def _problem(index: int, entry: Imposition, code: str, fr: str, en: str) -> RecordProblem:
    return RecordProblem.of(
        collection=IMPOSED_PAIRS, index=index, record_id=entry.mentee_id, code=code, fr=fr, en=en
    )


def listing_problems(
    entries: Sequence[Imposition], statuses: Mapping[str, ParticipantStatus]
) -> list[RecordProblem]:
    """What is wrong before solving: a mentee listed twice, a person not (or no longer)
    enrolled. ``statuses`` are the people's in the programme (absent: never enrolled)."""
    problems: list[RecordProblem] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.mentee_id in seen:
            problems.append(
                _problem(
                    index,
                    entry,
                    "mentee_imposed_twice",
                    f"{entry.mentee_id} figure déjà plus haut dans la liste",
                    f"{entry.mentee_id} is already listed above",
                )
            )
        seen.add(entry.mentee_id)
        for person_id in entry.members:
            problem = _standing_problem(index, entry, person_id, statuses.get(person_id))
            if problem is not None:
                problems.append(problem)
    return problems


def _standing_problem(
    index: int, entry: Imposition, person_id: str, status: ParticipantStatus | None
) -> RecordProblem | None:
    if status is None:
        return _problem(
            index,
            entry,
            "unknown_participant",
            f"{person_id} n'est pas inscrit dans ce programme",
            f"{person_id} is not enrolled in this programme",
        )
    if status is ParticipantStatus.WITHDRAWN:
        return _problem(
            index,
            entry,
            "participant_withdrawn",
            f"{person_id} s'est retiré du programme",
            f"{person_id} has withdrawn from the programme",
        )
    if status is ParticipantStatus.ERASED:
        return _problem(
            index,
            entry,
            "participant_erased",
            f"{person_id} a été effacé (RGPD)",
            f"{person_id} was erased (GDPR)",
        )
    return None


def solved_problems(
    entries: Sequence[Imposition],
    *,
    problems: Sequence[RecordProblem],
    imposed: Sequence[ProposedPair],
) -> list[RecordProblem]:
    """What the engine found: the imposed entries it could not fix, and each hard constraint
    an imposed pair breaks without an override. ``problems`` are the round's, ``imposed``
    the imposed pairs it formed."""
    found = [problem for problem in problems if problem.collection == IMPOSED_PAIRS]
    index_of = {entry.members: index for index, entry in enumerate(entries)}
    for pair in imposed:
        index = index_of[pair.mentor_id, pair.mentee_id]
        entry = entries[index]
        if entry.override_reason:
            continue
        for constraint in pair.constraints_violated:
            label = texts.CONSTRAINT_LABELS[constraint]
            found.append(
                _problem(
                    index,
                    entry,
                    str(constraint),
                    f"enfreint la règle « {label.fr} » : dérogation possible avec un motif",
                    f"breaks the rule '{label.en}': an override with a reason allows it",
                )
            )
    return sorted(found, key=lambda problem: problem.index or 0)


def imposition_summary(
    overridden: Sequence[HardConstraint], override_reason: str | None
) -> LocalisedText:
    """What the explanation of an imposed pair says of its imposition."""
    return texts.bilingual(lambda language: _summary(overridden, override_reason, language))


def _summary(
    overridden: Sequence[HardConstraint], override_reason: str | None, language: Language
) -> str:
    fr = language is Language.FR
    parts = ["Binôme imposé par les RH." if fr else "Pair imposed by HR."]
    if overridden:
        labels = texts.constraint_labels(overridden, language)
        parts.append(("Dérogation aux règles : " if fr else "Rules overridden: ") + labels + ".")
    if override_reason:
        parts.append(("Motif : " if fr else "Reason: ") + override_reason)
    return " ".join(parts)
