"""Why a command is refused: a stable machine code and a reason in French and English.

Each reason is the contracts' ``LocalisedText``: the one type of a text people read in both
languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from binome_shared.contracts.values import LocalisedText


class RejectionCode(StrEnum):
    """Stable, machine-readable identifier of a broken rule; never renamed once published."""

    PAIR_DISSOLVED = "pair_dissolved"
    PAIR_CLOSED = "pair_closed"
    UNKNOWN_SESSION = "unknown_session"
    SESSION_NOT_SCHEDULED = "session_not_scheduled"
    SESSION_ALREADY_SCHEDULED = "session_already_scheduled"
    SESSION_ALREADY_HELD = "session_already_held"
    SESSION_SKIPPED = "session_skipped"
    SESSION_NOT_SKIPPABLE = "session_not_skippable"
    OUTSIDE_PROGRAMME_DATES = "outside_programme_dates"
    MENTOR_TRAINING_REQUIRED = "mentor_training_required"
    SEQUENCE_OUT_OF_ORDER = "sequence_out_of_order"
    OVERLAPPING_SESSION = "overlapping_session"
    HELD_IN_FUTURE = "held_in_future"
    SESSION_NOT_YET_DUE = "session_not_yet_due"
    DURATION_OUT_OF_RANGE = "duration_out_of_range"
    NOTES_TOO_LONG = "notes_too_long"
    LOCATION_TOO_LONG = "location_too_long"
    OBJECTIVE_ALREADY_EXISTS = "objective_already_exists"
    UNKNOWN_OBJECTIVE = "unknown_objective"
    OBJECTIVE_CLOSED = "objective_closed"
    OBJECTIVE_STATEMENT_INVALID = "objective_statement_invalid"
    TOO_MANY_OBJECTIVES = "too_many_objectives"
    PROGRESS_OUT_OF_RANGE = "progress_out_of_range"
    FEEDBACK_NOT_REQUESTED = "feedback_not_requested"
    FEEDBACK_SESSION_NOT_HELD = "feedback_session_not_held"
    FEEDBACK_ALREADY_GIVEN = "feedback_already_given"
    FEEDBACK_BEFORE_COMPLETION = "feedback_before_completion"
    RATING_OUT_OF_RANGE = "rating_out_of_range"
    COMMENT_TOO_LONG = "comment_too_long"
    FIT_ANSWER_REQUIRED = "fit_answer_required"
    FIT_QUESTION_NOT_ASKED = "fit_question_not_asked"
    # Pulse check-ins (issue #17): appended, so that other additions merge.
    NOT_PAIR_MEMBER = "not_pair_member"
    PULSE_NOT_ASKED = "pulse_not_asked"
    PULSE_CLOSED = "pulse_closed"


_REASONS: dict[RejectionCode, LocalisedText] = {
    RejectionCode.PAIR_DISSOLVED: LocalisedText(
        fr="Ce binôme a été dissous : plus aucune séance, aucun objectif ni avis n'est accepté.",
        en="This pair has been dissolved: no more sessions, objectives or feedback are accepted.",
    ),
    RejectionCode.PAIR_CLOSED: LocalisedText(
        fr=(
            "Le parcours de ce binôme est terminé : plus aucune séance ne peut être planifiée ni "
            "déclarée."
        ),
        en="This pair's programme is over: no session can be scheduled or reported any more.",
    ),
    RejectionCode.UNKNOWN_SESSION: LocalisedText(
        fr="Cette séance ne fait pas partie du déroulé du programme.",
        en="This session is not part of the programme's session plan.",
    ),
    RejectionCode.SESSION_NOT_SCHEDULED: LocalisedText(
        fr="Cette séance n'est pas planifiée : planifiez-la d'abord.",
        en="This session is not scheduled: schedule it first.",
    ),
    RejectionCode.SESSION_ALREADY_SCHEDULED: LocalisedText(
        fr=(
            "Cette séance est déjà planifiée : déplacez-la plutôt que de la planifier une seconde "
            "fois."
        ),
        en="This session is already scheduled: reschedule it rather than scheduling it twice.",
    ),
    RejectionCode.SESSION_ALREADY_HELD: LocalisedText(
        fr=(
            "Cette séance a déjà eu lieu : elle ne peut plus être planifiée, déplacée, annulée ni "
            "déclarée à nouveau."
        ),
        en=(
            "This session has already been held: it cannot be scheduled, moved, cancelled or "
            "reported again."
        ),
    ),
    RejectionCode.SESSION_SKIPPED: LocalisedText(
        fr="Cette séance a été retirée du parcours de ce binôme.",
        en="This session has been skipped from this pair's plan.",
    ),
    RejectionCode.SESSION_NOT_SKIPPABLE: LocalisedText(
        fr="Le programme ne permet pas de sauter cette séance.",
        en="The programme does not allow this session to be skipped.",
    ),
    RejectionCode.OUTSIDE_PROGRAMME_DATES: LocalisedText(
        fr="Cette date est en dehors des dates du programme.",
        en="This date is outside the programme's dates.",
    ),
    RejectionCode.MENTOR_TRAINING_REQUIRED: LocalisedText(
        fr="Le programme exige que le mentor ait suivi la formation avant toute séance.",
        en="The programme requires the mentor to complete the training before any session.",
    ),
    RejectionCode.SEQUENCE_OUT_OF_ORDER: LocalisedText(
        fr=(
            "Le déroulé se suit dans l'ordre : les séances précédentes doivent avoir eu lieu (ou "
            "être sautées), et plus tôt."
        ),
        en=(
            "The plan is followed in order: earlier sessions must have been held (or skipped), "
            "and held earlier."
        ),
    ),
    RejectionCode.OVERLAPPING_SESSION: LocalisedText(
        fr="Ce créneau chevauche une autre séance déjà planifiée pour ce binôme.",
        en="This slot overlaps another session already scheduled for this pair.",
    ),
    RejectionCode.HELD_IN_FUTURE: LocalisedText(
        fr="Une séance ne peut pas être déclarée tenue à une date future.",
        en="A session cannot be reported held at a future time.",
    ),
    RejectionCode.SESSION_NOT_YET_DUE: LocalisedText(
        fr="Cette séance n'a pas encore commencé : elle ne peut pas être déclarée manquée.",
        en="This session has not started yet: it cannot be reported missed.",
    ),
    RejectionCode.DURATION_OUT_OF_RANGE: LocalisedText(
        fr=(
            "Une séance planifiée dure de 1 à 480 minutes ; une séance tenue, 600 minutes au plus."
        ),
        en="A scheduled session lasts 1 to 480 minutes; a held one, 600 minutes at most.",
    ),
    RejectionCode.LOCATION_TOO_LONG: LocalisedText(
        fr="Le lieu de la séance est trop long (300 caractères au plus).",
        en="The session's location is too long (300 characters at most).",
    ),
    RejectionCode.NOTES_TOO_LONG: LocalisedText(
        fr="Les notes de séance sont trop longues.",
        en="The session notes are too long.",
    ),
    RejectionCode.OBJECTIVE_ALREADY_EXISTS: LocalisedText(
        fr="Un objectif portant cet identifiant existe déjà pour ce binôme.",
        en="An objective with this identifier already exists for this pair.",
    ),
    RejectionCode.UNKNOWN_OBJECTIVE: LocalisedText(
        fr="Cet objectif n'existe pas pour ce binôme.",
        en="This objective does not exist for this pair.",
    ),
    RejectionCode.OBJECTIVE_CLOSED: LocalisedText(
        fr="Cet objectif est clos : il ne peut plus être modifié.",
        en="This objective is closed: it can no longer be changed.",
    ),
    RejectionCode.OBJECTIVE_STATEMENT_INVALID: LocalisedText(
        fr="L'énoncé de l'objectif doit être renseigné et tenir en 500 caractères.",
        en="The objective's statement must be filled in and fit in 500 characters.",
    ),
    RejectionCode.TOO_MANY_OBJECTIVES: LocalisedText(
        fr="Ce côté du binôme a déjà le nombre maximal d'objectifs (5).",
        en="This side of the pair already has the maximum number of objectives (5).",
    ),
    RejectionCode.PROGRESS_OUT_OF_RANGE: LocalisedText(
        fr="L'avancement d'un objectif est un pourcentage entre 0 et 100.",
        en="An objective's progress is a percentage between 0 and 100.",
    ),
    RejectionCode.FEEDBACK_NOT_REQUESTED: LocalisedText(
        fr="Le programme ne demande pas ce type d'avis.",
        en="The programme does not ask for this kind of feedback.",
    ),
    RejectionCode.FEEDBACK_SESSION_NOT_HELD: LocalisedText(
        fr="Un avis ne peut porter que sur une séance qui a eu lieu.",
        en="Feedback can only be given on a session that has been held.",
    ),
    RejectionCode.FEEDBACK_ALREADY_GIVEN: LocalisedText(
        fr="Cet avis a déjà été donné par ce côté du binôme.",
        en="This side of the pair has already given this feedback.",
    ),
    RejectionCode.FEEDBACK_BEFORE_COMPLETION: LocalisedText(
        fr="L'avis de fin de programme se donne une fois le parcours du binôme terminé.",
        en="End-of-programme feedback is given once the pair's programme is over.",
    ),
    RejectionCode.RATING_OUT_OF_RANGE: LocalisedText(
        fr="La note doit être comprise entre 1 et 5.",
        en="The rating must be between 1 and 5.",
    ),
    RejectionCode.COMMENT_TOO_LONG: LocalisedText(
        fr="Le commentaire dépasse la longueur permise par le programme.",
        en="The comment is longer than the programme allows.",
    ),
    RejectionCode.FIT_ANSWER_REQUIRED: LocalisedText(
        fr="Après la première séance, merci d'indiquer si le binôme vous semble bien assorti.",
        en="After the first session, please say whether the pair seems a good fit.",
    ),
    RejectionCode.FIT_QUESTION_NOT_ASKED: LocalisedText(
        fr="La question « binôme bien assorti ? » ne se pose qu'après la première séance.",
        en="The 'is this pair a good fit?' question is only asked after the first session.",
    ),
    RejectionCode.NOT_PAIR_MEMBER: LocalisedText(
        fr="Cette personne ne fait pas partie de ce binôme : seuls ses deux membres répondent.",
        en="This person is not a member of this pair: only its two members may answer.",
    ),
    RejectionCode.PULSE_NOT_ASKED: LocalisedText(
        fr="Ce baromètre n'a pas (encore) été demandé à ce binôme.",
        en="This pulse check-in has not been asked of this pair (yet).",
    ),
    RejectionCode.PULSE_CLOSED: LocalisedText(
        fr=(
            "Ce baromètre est clos : un baromètre plus récent a été demandé, ou le parcours du "
            "binôme est terminé."
        ),
        en=(
            "This pulse check-in is closed: a later one was asked, or the pair's programme is over."
        ),
    ),
}

REJECTION_REASONS: Mapping[RejectionCode, LocalisedText] = MappingProxyType(_REASONS)
"""Every rejection code's reason in French and English."""


class CommandRejectedError(Exception):
    """A command broke a rule; the pair's state is unchanged and no event was recorded."""

    def __init__(self, *, code: RejectionCode, subject: str | None = None) -> None:
        self.code = code
        self.subject = subject
        """The session key or objective id the command named, when it named one."""
        self.reason = REJECTION_REASONS[code]
        super().__init__(f"{code}: {self.reason.en}")
