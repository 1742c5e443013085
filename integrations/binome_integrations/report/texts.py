"""Every word and number format the report shows, in French and English."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from binome_integrations.language import localised
from binome_shared.contracts.values import Language, LocalisedText

LANGUAGES: Final[tuple[Language, ...]] = (Language.FR, Language.EN)

LABELS: Final[dict[str, LocalisedText]] = {
    "report_title": LocalisedText(fr="Bilan du programme", en="Programme report"),
    "generated_at": LocalisedText(fr="Chiffres au", en="Figures as of"),
    "programme": LocalisedText(fr="Programme", en="Programme"),
    "participants": LocalisedText(fr="Participants", en="Participants"),
    "mentors": LocalisedText(fr="Mentors", en="Mentors"),
    "mentees": LocalisedText(fr="Mentorés", en="Mentees"),
    "pairs_formed": LocalisedText(fr="Binômes formés", en="Pairs formed"),
    "unmatched": LocalisedText(fr="Sans binôme", en="Unmatched"),
    "unmatched_title": LocalisedText(fr="Sans binôme, par motif", en="Unmatched, by reason"),
    "none_unmatched": LocalisedText(fr="Tout le monde a un binôme.", en="Everyone has a pair."),
    "reason": LocalisedText(fr="Motif", en="Reason"),
    "role": LocalisedText(fr="Rôle", en="Role"),
    "count": LocalisedText(fr="Nombre", en="Count"),
    "examples": LocalisedText(fr="Exemples", en="Examples"),
    "role_mentor": LocalisedText(fr="mentor", en="mentor"),
    "role_mentee": LocalisedText(fr="mentoré", en="mentee"),
    "scores_title": LocalisedText(
        fr="Répartition des scores d'appariement",
        en="Pairing score distribution",
    ),
    "scores_desc": LocalisedText(
        fr="Histogramme du score (0 à 1) des {count} binômes formés ; médiane {median}.",
        en="Histogram of the score (0 to 1) of the {count} pairs formed; median {median}.",
    ),
    "score": LocalisedText(fr="Score", en="Score"),
    "pairs": LocalisedText(fr="Binômes", en="Pairs"),
    "score_stats": LocalisedText(
        fr="min {minimum} · médiane {median} · moyenne {mean} · max {maximum}",
        en="min {minimum} · median {median} · mean {mean} · max {maximum}",
    ),
    "no_scores": LocalisedText(fr="Aucun binôme formé.", en="No pair formed."),
    "funnel_title": LocalisedText(fr="Parcours des mentorés", en="Mentee funnel"),
    "funnel_desc": LocalisedText(
        fr="Mentorés à chaque étape, de l'inscription à la fin du programme.",
        en="Mentees at each step, from enrolment to the end of the programme.",
    ),
    "stage": LocalisedText(fr="Étape", en="Stage"),
    "share": LocalisedText(fr="Part des inscrits", en="Share of enrolled"),
    "stage_enrolled_mentees": LocalisedText(fr="Inscrits", en="Enrolled"),
    "stage_matched": LocalisedText(fr="Appariés", en="Matched"),
    "stage_formed": LocalisedText(fr="Binôme validé", en="Pair formed"),
    "stage_first_session_held": LocalisedText(fr="1re séance tenue", en="First session held"),
    "stage_completed": LocalisedText(fr="Programme terminé", en="Completed"),
    "sessions_title": LocalisedText(fr="Séances par mois", en="Sessions per month"),
    "sessions_desc": LocalisedText(
        fr="Séances tenues, manquées, annulées et prévues, par mois, empilées.",
        en="Sessions held, missed, cancelled and planned, per month, stacked.",
    ),
    "month": LocalisedText(fr="Mois", en="Month"),
    "held": LocalisedText(fr="Tenues", en="Held"),
    "missed": LocalisedText(fr="Manquées", en="Missed"),
    "cancelled": LocalisedText(fr="Annulées", en="Cancelled"),
    "planned": LocalisedText(fr="Prévues", en="Planned"),
    "total": LocalisedText(fr="Total", en="Total"),
    "no_sessions": LocalisedText(fr="Aucune séance.", en="No session."),
    "pairs_title": LocalisedText(fr="État des binômes", en="Pairs"),
    "active_pairs": LocalisedText(fr="En cours", en="Active"),
    "stalled_pairs": LocalisedText(fr="À l'arrêt", en="Stalled"),
    "completed_pairs": LocalisedText(fr="Terminés", en="Completed"),
    "units_title": LocalisedText(fr="Avancement par entité", en="Progress by business unit"),
    "units_desc": LocalisedText(
        fr="Séances tenues sur séances prévues par entité ; entités de moins de {minimum} "
        "personnes masquées.",
        en="Sessions held over sessions planned per business unit; units under {minimum} "
        "people suppressed.",
    ),
    "business_unit": LocalisedText(fr="Entité", en="Business unit"),
    "people": LocalisedText(fr="Personnes", en="People"),
    "sessions_held_planned": LocalisedText(
        fr="Séances tenues / prévues", en="Sessions held / planned"
    ),
    "completion": LocalisedText(fr="Achevés", en="Completed"),
    "rating": LocalisedText(fr="Note", en="Rating"),
    "planned_track": LocalisedText(fr="Séances au plan", en="Sessions in plan"),
    "median_score": LocalisedText(fr="Score médian {median}", en="Median score {median}"),
    "plan_finished": LocalisedText(
        fr="dont {count} au bout du déroulé ({share} des inscrits)",
        en="{count} finished the whole plan ({share} of enrolled)",
    ),
    "in_plan": LocalisedText(fr="Au plan", en="In plan"),
    "held_share": LocalisedText(fr="% tenues", en="% held"),
    "overview_title": LocalisedText(fr="Participants et binômes", en="Participants and pairs"),
    "completion_rate": LocalisedText(fr="Taux d'achèvement", en="Completion rate"),
    "average_rating": LocalisedText(fr="Note moyenne", en="Average rating"),
    "suppressed": LocalisedText(
        fr="masqué (moins de {minimum} personnes)",
        en="suppressed (under {minimum} people)",
    ),
    "no_rating": LocalisedText(fr="—", en="—"),
    "notifications_title": LocalisedText(fr="Notifications envoyées", en="Notifications sent"),
    "kind": LocalisedText(fr="Type", en="Kind"),
    "no_notifications": LocalisedText(fr="Aucune notification.", en="No notification."),
    "dead_letters_title": LocalisedText(fr="Messages en lettre morte", en="Dead-lettered messages"),
    "dead_letters_none": LocalisedText(
        fr="Aucun message en lettre morte.",
        en="No dead-lettered message.",
    ),
    "dead_letters_some": LocalisedText(
        fr="{count} message(s) en lettre morte : à examiner.",
        en="{count} dead-lettered message(s): to investigate.",
    ),
    "topic": LocalisedText(fr="Topic", en="Topic"),
    "emails_title": LocalisedText(fr="E-mails", en="E-mails"),
    "emails_written": LocalisedText(
        fr="{count} e-mail(s) écrit(s) (.eml) dans {path}",
        en="{count} e-mail(s) written (.eml) to {path}",
    ),
    "emails_none": LocalisedText(
        fr="Aucun e-mail écrit sur disque.", en="No e-mail written to disk."
    ),
    "data_table": LocalisedText(fr="Voir les données", en="Show the data"),
    "switch_language": LocalisedText(fr="English", en="Français"),
    "switch_language_label": LocalisedText(fr="Read in English", en="Lire en français"),
    "legend": LocalisedText(fr="Légende", en="Legend"),
    "footer": LocalisedText(
        fr="Produit par Binôme. Aucune donnée nominative hors identifiants.",
        en="Produced by Binôme. No personal data beyond ids.",
    ),
    # Follow-up cards (consent, pulse check-ins, ratings by session): followup_charts.py
    "consent_title": LocalisedText(fr="Consentement des binômes", en="Pair consent"),
    "consent_desc": LocalisedText(
        fr="Binômes proposés soumis à l'accord des deux personnes ({asked}) : où ils en sont.",
        en="Proposed pairs both people were asked to accept ({asked}): where they stand.",
    ),
    "consent_outcome": LocalisedText(fr="Issue", en="Outcome"),
    "consent_accepted": LocalisedText(fr="Acceptés (formés)", en="Accepted (formed)"),
    "consent_declined": LocalisedText(fr="Refusés", en="Declined"),
    "consent_lapsed": LocalisedText(fr="Sans réponse à l'échéance", en="No answer by deadline"),
    "consent_left": LocalisedText(fr="Départ d'un participant", en="A participant left"),
    "consent_pending": LocalisedText(fr="En attente", en="Pending"),
    "pulse_title": LocalisedText(fr="Points d'étape (pulse)", en="Pulse check-ins"),
    "pulse_desc": LocalisedText(
        fr="Par point d'étape, membres interrogés : sur la bonne voie, besoin d'aide, sans "
        "réponse (dernière réponse de chacun ; masqué sous {minimum} personnes).",
        en="Per round, members asked: on track, need help, no answer (each member's last "
        "answer; hidden under {minimum} people).",
    ),
    "pulse": LocalisedText(fr="Point d'étape", en="Round"),
    "pulse_round": LocalisedText(fr="Point {number}", en="Round {number}"),
    "asked": LocalisedText(fr="Interrogés", en="Asked"),
    "answered": LocalisedText(fr="Réponses", en="Answered"),
    "on_track": LocalisedText(fr="Sur la bonne voie", en="On track"),
    "need_help": LocalisedText(fr="Besoin d'aide", en="Need help"),
    "unanswered": LocalisedText(fr="Sans réponse", en="No answer"),
    "ratings_title": LocalisedText(fr="Notes par séance", en="Ratings by session"),
    "ratings_desc": LocalisedText(
        fr="Note moyenne (1 à 5) donnée après chaque séance du plan, de la 1re à la dernière "
        "(masquée sous {minimum} notes).",
        en="Average rating (1 to 5) given after each session of the plan, first to last "
        "(hidden under {minimum} ratings).",
    ),
    "session": LocalisedText(fr="Séance", en="Session"),
    "session_number": LocalisedText(fr="Séance {number}", en="Session {number}"),
    "ratings": LocalisedText(fr="Notes", en="Ratings"),
    "imposed_pairs": LocalisedText(fr="Binômes imposés", en="Imposed pairs"),
    "imposed_note": LocalisedText(
        fr="dont {count} hors règle (motif RH)", en="{count} against a rule (HR's reason)"
    ),
}

NOTIFICATION_KINDS: Final[dict[str, LocalisedText]] = {
    "introduction": LocalisedText(fr="Présentation du binôme", en="Pair introduction"),
    "session_invitation": LocalisedText(fr="Invitation à une séance", en="Session invitation"),
    "session_reminder": LocalisedText(fr="Rappel de séance", en="Session reminder"),
    "session_cancellation": LocalisedText(fr="Annulation de séance", en="Session cancellation"),
    "feedback_request": LocalisedText(fr="Demande de retour", en="Feedback request"),
    "stall_nudge": LocalisedText(fr="Relance binôme à l'arrêt", en="Stalled pair nudge"),
    "hr_stall_alert": LocalisedText(fr="Alerte RH (binôme à l'arrêt)", en="HR stall alert"),
    "hr_fit_alert": LocalisedText(
        fr="Alerte RH (binôme mal assorti)", en="HR alert: pair not a good fit"
    ),
    "matching_summary": LocalisedText(fr="Synthèse d'appariement (RH)", en="Matching summary (HR)"),
    "progress_report": LocalisedText(fr="Point d'avancement (RH)", en="Progress report (HR)"),
    "pair_thanks": LocalisedText(fr="Remerciements de fin", en="End-of-programme thanks"),
}

_MONTHS: Final[tuple[LocalisedText, ...]] = (
    LocalisedText(fr="janv.", en="Jan"),
    LocalisedText(fr="févr.", en="Feb"),
    LocalisedText(fr="mars", en="Mar"),
    LocalisedText(fr="avr.", en="Apr"),
    LocalisedText(fr="mai", en="May"),
    LocalisedText(fr="juin", en="Jun"),
    LocalisedText(fr="juil.", en="Jul"),
    LocalisedText(fr="août", en="Aug"),
    LocalisedText(fr="sept.", en="Sep"),
    LocalisedText(fr="oct.", en="Oct"),
    LocalisedText(fr="nov.", en="Nov"),
    LocalisedText(fr="déc.", en="Dec"),
)

NARROW_NO_BREAK_SPACE: Final = "\u202f"


def label(key: str, language: Language, **values: object) -> str:
    """The label ``key`` in ``language``, with ``values`` filled in."""
    return localised(LABELS[key], language, **values)


def kind_label(kind: str, language: Language) -> str:
    """A notification kind as people read it; unknown kinds as they are."""
    known = NOTIFICATION_KINDS.get(kind)
    return known.in_language(language) if known else kind


def labelled(name: str, value: object, language: Language) -> str:
    """``name : value`` in French typography (a space before the colon), ``name: value`` in
    English."""
    return f"{name} : {value}" if language == Language.FR else f"{name}: {value}"


def integer(value: int, language: Language) -> str:
    """``1 234`` in French (narrow no-break space), ``1,234`` in English."""
    text = f"{value:,}"
    return text.replace(",", NARROW_NO_BREAK_SPACE) if language == Language.FR else text


def decimal(value: float, language: Language, digits: int = 2) -> str:
    """``0,72`` in French, ``0.72`` in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == Language.FR else text


def percent(fraction: float, language: Language) -> str:
    """``72 %`` in French (no-break space), ``72%`` in English; whole percents."""
    number = f"{fraction * 100:.0f}"
    return f"{number}{NARROW_NO_BREAK_SPACE}%" if language == Language.FR else f"{number}%"


def month(text: str, language: Language) -> str:
    """``2027-02`` as ``févr. 2027`` or ``Feb 2027``."""
    year, number = text.split("-")
    return f"{_MONTHS[int(number) - 1].in_language(language)} {year}"


def short_month(text: str, language: Language) -> str:
    """``2027-02`` as ``févr. 27`` or ``Feb 27``: axis labels."""
    year, number = text.split("-")
    return f"{_MONTHS[int(number) - 1].in_language(language)} {year[2:]}"


def timestamp(moment: datetime, language: Language) -> str:
    """``14 janv. 2027 09:30 UTC+01:00`` style, in the moment's own offset."""
    offset = moment.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    day = f"{moment.day} {_MONTHS[moment.month - 1].in_language(language)} {moment.year}"
    return f"{day} {moment:%H:%M} {zone}".strip()
