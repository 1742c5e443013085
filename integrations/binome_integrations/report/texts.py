"""Every word and number format the report shows, in French and English."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from binome_integrations.language import Language

LANGUAGES: Final[tuple[Language, ...]] = ("fr", "en")

LABELS: Final[dict[str, dict[Language, str]]] = {
    "report_title": {"fr": "Bilan du programme", "en": "Programme report"},
    "generated_at": {"fr": "Chiffres au", "en": "Figures as of"},
    "programme": {"fr": "Programme", "en": "Programme"},
    "participants": {"fr": "Participants", "en": "Participants"},
    "mentors": {"fr": "Mentors", "en": "Mentors"},
    "mentees": {"fr": "Mentorés", "en": "Mentees"},
    "pairs_formed": {"fr": "Binômes formés", "en": "Pairs formed"},
    "unmatched": {"fr": "Sans binôme", "en": "Unmatched"},
    "unmatched_title": {"fr": "Sans binôme, par motif", "en": "Unmatched, by reason"},
    "none_unmatched": {"fr": "Tout le monde a un binôme.", "en": "Everyone has a pair."},
    "reason": {"fr": "Motif", "en": "Reason"},
    "role": {"fr": "Rôle", "en": "Role"},
    "count": {"fr": "Nombre", "en": "Count"},
    "examples": {"fr": "Exemples", "en": "Examples"},
    "role_mentor": {"fr": "mentor", "en": "mentor"},
    "role_mentee": {"fr": "mentoré", "en": "mentee"},
    "scores_title": {
        "fr": "Répartition des scores d'appariement",
        "en": "Pairing score distribution",
    },
    "scores_desc": {
        "fr": "Histogramme du score (0 à 1) des {count} binômes formés ; médiane {median}.",
        "en": "Histogram of the score (0 to 1) of the {count} pairs formed; median {median}.",
    },
    "score": {"fr": "Score", "en": "Score"},
    "pairs": {"fr": "Binômes", "en": "Pairs"},
    "score_stats": {
        "fr": "min {minimum} · médiane {median} · moyenne {mean} · max {maximum}",
        "en": "min {minimum} · median {median} · mean {mean} · max {maximum}",
    },
    "no_scores": {"fr": "Aucun binôme formé.", "en": "No pair formed."},
    "funnel_title": {"fr": "Parcours des mentorés", "en": "Mentee funnel"},
    "funnel_desc": {
        "fr": "Mentorés à chaque étape, de l'inscription à la fin du programme.",
        "en": "Mentees at each step, from enrolment to the end of the programme.",
    },
    "stage": {"fr": "Étape", "en": "Stage"},
    "share": {"fr": "Part des inscrits", "en": "Share of enrolled"},
    "stage_enrolled_mentees": {"fr": "Inscrits", "en": "Enrolled"},
    "stage_matched": {"fr": "Appariés", "en": "Matched"},
    "stage_formed": {"fr": "Binôme validé", "en": "Pair formed"},
    "stage_first_session_held": {"fr": "1re séance tenue", "en": "First session held"},
    "stage_completed": {"fr": "Programme terminé", "en": "Completed"},
    "sessions_title": {"fr": "Séances par mois", "en": "Sessions per month"},
    "sessions_desc": {
        "fr": "Séances tenues, manquées, annulées et prévues, par mois, empilées.",
        "en": "Sessions held, missed, cancelled and planned, per month, stacked.",
    },
    "month": {"fr": "Mois", "en": "Month"},
    "held": {"fr": "Tenues", "en": "Held"},
    "missed": {"fr": "Manquées", "en": "Missed"},
    "cancelled": {"fr": "Annulées", "en": "Cancelled"},
    "planned": {"fr": "Prévues", "en": "Planned"},
    "total": {"fr": "Total", "en": "Total"},
    "no_sessions": {"fr": "Aucune séance.", "en": "No session."},
    "pairs_title": {"fr": "État des binômes", "en": "Pairs"},
    "active_pairs": {"fr": "En cours", "en": "Active"},
    "stalled_pairs": {"fr": "À l'arrêt", "en": "Stalled"},
    "completed_pairs": {"fr": "Terminés", "en": "Completed"},
    "units_title": {"fr": "Avancement par entité", "en": "Progress by business unit"},
    "units_desc": {
        "fr": "Séances tenues sur séances prévues par entité ; entités de moins de {minimum} "
        "personnes masquées.",
        "en": "Sessions held over sessions planned per business unit; units under {minimum} "
        "people suppressed.",
    },
    "business_unit": {"fr": "Entité", "en": "Business unit"},
    "people": {"fr": "Personnes", "en": "People"},
    "sessions_held_planned": {"fr": "Séances tenues / prévues", "en": "Sessions held / planned"},
    "completion": {"fr": "Achevés", "en": "Completed"},
    "rating": {"fr": "Note", "en": "Rating"},
    "planned_track": {"fr": "Séances au plan", "en": "Sessions in plan"},
    "median_score": {"fr": "Score médian {median}", "en": "Median score {median}"},
    "plan_finished": {
        "fr": "dont {count} au bout du déroulé ({share} des inscrits)",
        "en": "{count} finished the whole plan ({share} of enrolled)",
    },
    "in_plan": {"fr": "Au plan", "en": "In plan"},
    "held_share": {"fr": "% tenues", "en": "% held"},
    "overview_title": {"fr": "Participants et binômes", "en": "Participants and pairs"},
    "completion_rate": {"fr": "Taux d'achèvement", "en": "Completion rate"},
    "average_rating": {"fr": "Note moyenne", "en": "Average rating"},
    "suppressed": {
        "fr": "masqué (moins de {minimum} personnes)",
        "en": "suppressed (under {minimum} people)",
    },
    "no_rating": {"fr": "—", "en": "—"},
    "notifications_title": {"fr": "Notifications envoyées", "en": "Notifications sent"},
    "kind": {"fr": "Type", "en": "Kind"},
    "no_notifications": {"fr": "Aucune notification.", "en": "No notification."},
    "dead_letters_title": {"fr": "Messages en lettre morte", "en": "Dead-lettered messages"},
    "dead_letters_none": {
        "fr": "Aucun message en lettre morte.",
        "en": "No dead-lettered message.",
    },
    "dead_letters_some": {
        "fr": "{count} message(s) en lettre morte : à examiner.",
        "en": "{count} dead-lettered message(s): to investigate.",
    },
    "topic": {"fr": "Topic", "en": "Topic"},
    "emails_title": {"fr": "E-mails", "en": "E-mails"},
    "emails_written": {
        "fr": "{count} e-mail(s) écrit(s) (.eml) dans {path}",
        "en": "{count} e-mail(s) written (.eml) to {path}",
    },
    "emails_none": {"fr": "Aucun e-mail écrit sur disque.", "en": "No e-mail written to disk."},
    "data_table": {"fr": "Voir les données", "en": "Show the data"},
    "switch_language": {"fr": "English", "en": "Français"},
    "switch_language_label": {"fr": "Read in English", "en": "Lire en français"},
    "legend": {"fr": "Légende", "en": "Legend"},
    "footer": {
        "fr": "Produit par Binôme. Aucune donnée nominative hors identifiants.",
        "en": "Produced by Binôme. No personal data beyond ids.",
    },
}

NOTIFICATION_KINDS: Final[dict[str, dict[Language, str]]] = {
    "introduction": {"fr": "Présentation du binôme", "en": "Pair introduction"},
    "session_invitation": {"fr": "Invitation à une séance", "en": "Session invitation"},
    "session_reminder": {"fr": "Rappel de séance", "en": "Session reminder"},
    "session_cancellation": {"fr": "Annulation de séance", "en": "Session cancellation"},
    "feedback_request": {"fr": "Demande de retour", "en": "Feedback request"},
    "stall_nudge": {"fr": "Relance binôme à l'arrêt", "en": "Stalled pair nudge"},
    "hr_stall_alert": {"fr": "Alerte RH (binôme à l'arrêt)", "en": "HR stall alert"},
    "hr_fit_alert": {"fr": "Alerte RH (binôme mal assorti)", "en": "HR alert: pair not a good fit"},
    "matching_summary": {"fr": "Synthèse d'appariement (RH)", "en": "Matching summary (HR)"},
    "progress_report": {"fr": "Point d'avancement (RH)", "en": "Progress report (HR)"},
    "pair_thanks": {"fr": "Remerciements de fin", "en": "End-of-programme thanks"},
}

_MONTHS: Final[dict[Language, tuple[str, ...]]] = {
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

NARROW_NO_BREAK_SPACE: Final = "\u202f"


def label(key: str, language: Language, **values: object) -> str:
    """The label ``key`` in ``language``, with ``values`` filled in."""
    return LABELS[key][language].format(**values)


def kind_label(kind: str, language: Language) -> str:
    """A notification kind as people read it; unknown kinds as they are."""
    known = NOTIFICATION_KINDS.get(kind)
    return known[language] if known else kind


def integer(value: int, language: Language) -> str:
    """``1 234`` in French (narrow no-break space), ``1,234`` in English."""
    text = f"{value:,}"
    return text.replace(",", NARROW_NO_BREAK_SPACE) if language == "fr" else text


def decimal(value: float, language: Language, digits: int = 2) -> str:
    """``0,72`` in French, ``0.72`` in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "fr" else text


def percent(fraction: float, language: Language) -> str:
    """``72 %`` in French (no-break space), ``72%`` in English; whole percents."""
    number = f"{fraction * 100:.0f}"
    return f"{number}{NARROW_NO_BREAK_SPACE}%" if language == "fr" else f"{number}%"


def month(text: str, language: Language) -> str:
    """``2027-02`` as ``févr. 2027`` or ``Feb 2027``."""
    year, number = text.split("-")
    return f"{_MONTHS[language][int(number) - 1]} {year}"


def short_month(text: str, language: Language) -> str:
    """``2027-02`` as ``févr. 27`` or ``Feb 27``: axis labels."""
    year, number = text.split("-")
    return f"{_MONTHS[language][int(number) - 1]} {year[2:]}"


def timestamp(moment: datetime, language: Language) -> str:
    """``14 janv. 2027 09:30 UTC+01:00`` style, in the moment's own offset."""
    offset = moment.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    day = f"{moment.day} {_MONTHS[language][moment.month - 1]} {moment.year}"
    return f"{day} {moment:%H:%M} {zone}".strip()
