"""The columns of the HR participants CSV: the profile field each fills, how it is read and
written, the names HR tools give it (English and French), and its documentation.

A table of its own so that the reader (``participants_csv``) stays about reading, and the
column reference in docs/hr-import-columns.md is generated from this one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from binome_integrations import csv_cells as cells
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.values import LocalisedText

__all__ = ["BY_NAME", "COLUMNS", "Column", "columns_reference_markdown"]


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _joined(values: Any) -> str:
    return cells.join(str(value) for value in values)


@dataclass(frozen=True, kw_only=True, slots=True)
class Column:
    """A CSV column: the profile field it fills, how to read and write it, how HR names it.

    Most columns hold free text written as is, so ``read`` and ``write`` default to that.
    """

    field: str
    aliases: tuple[str, ...]
    read: Callable[[str], Any] = cells.read_text
    write: Callable[[Any], str] = _plain
    description: LocalisedText
    example: str

    @property
    def required(self) -> bool:
        """A column the file must have: the profile field has no default."""
        return ParticipantProfile.model_fields[self.field].is_required()


COLUMNS: tuple[Column, ...] = (
    Column(
        field="participant_id",
        aliases=("matricule", "id", "employee_id", "identifiant", "id_salarie"),
        description=LocalisedText(
            fr="Matricule dans le SIRH ; unique dans le programme.",
            en="Employee id in the HR system of record; unique in the programme.",
        ),
        example="E10442",
    ),
    Column(
        field="role",
        aliases=("rôle", "type", "profil"),
        read=cells.read_role,
        description=LocalisedText(
            fr="`mentor` ou `mentee` (`mentoré`, `mentorée` acceptés).",
            en="`mentor` or `mentee` (French `mentoré`, `mentorée` accepted).",
        ),
        example="mentor",
    ),
    Column(
        field="full_name",
        aliases=("nom_complet", "nom", "name", "prenom_nom", "nom_prenom"),
        description=LocalisedText(
            fr="Prénom et nom, tels que les gens les lisent.",
            en="Name as people read it.",
        ),
        example="Inès Martin",
    ),
    Column(
        field="email",
        aliases=("e-mail", "mail", "courriel", "adresse_email", "email_professionnel"),
        read=cells.read_email,
        description=LocalisedText(
            fr="Adresse e-mail professionnelle.",
            en="Work e-mail address.",
        ),
        example="ines.martin@groupe.example",
    ),
    Column(
        field="preferred_language",
        aliases=("langue_preferee", "langue_de_communication", "language"),
        read=cells.read_language,
        description=LocalisedText(
            fr=(
                "Langue des messages reçus : `fr` ou `en` (aussi `français`, `anglais`) ; "
                "défaut `fr`."
            ),
            en=(
                "Language of the messages they receive: `fr` or `en` (also `français`, `anglais`); "
                "default `fr`."
            ),
        ),
        example="fr",
    ),
    Column(
        field="birth_year",
        aliases=("annee_de_naissance", "annee_naissance", "year_of_birth"),
        read=cells.read_integer,
        description=LocalisedText(
            fr="Année de naissance (1900–2100).",
            en="Year of birth (1900–2100).",
        ),
        example="1998",
    ),
    Column(
        field="department",
        aliases=("direction", "departement", "service"),
        description=LocalisedText(
            fr="Direction ou département.",
            en="Department.",
        ),
        example="Marketing digital",
    ),
    Column(
        field="business_unit",
        aliases=("entite", "bu", "filiale", "unite"),
        description=LocalisedText(
            fr="Entité ou filiale (business unit).",
            en="Business unit (entity, subsidiary).",
        ),
        example="Grand Public",
    ),
    Column(
        field="organisation",
        aliases=("organization", "entreprise", "societe", "company", "employeur", "employer"),
        description=LocalisedText(
            fr=(
                "Entreprise de la personne si ce n'est pas celle du programme (programmes "
                "inter-entreprises) ; vide = l'organisation du programme."
            ),
            en=(
                "Their company when it is not the programme's own (cross-company programmes); "
                "empty = the programme's organisation."
            ),
        ),
        example="Nova Numérique",
    ),
    Column(
        field="job_grade",
        aliases=("grade", "niveau", "classification", "niveau_de_poste"),
        read=cells.read_integer,
        description=LocalisedText(
            fr="Niveau dans la grille du groupe (1–30, plus haut = plus senior).",
            en="Grade in the group's grid (1–30, higher is more senior).",
        ),
        example="6",
    ),
    Column(
        field="manager_id",
        aliases=("matricule_manager", "manager", "responsable", "n_1", "id_manager"),
        description=LocalisedText(
            fr="Matricule du manager direct (vide si aucun).",
            en="Employee id of their line manager (empty if none).",
        ),
        example="E00017",
    ),
    Column(
        field="site",
        aliases=("lieu", "lieu_de_travail", "location", "etablissement"),
        description=LocalisedText(
            fr="Site de travail.",
            en="Work site.",
        ),
        example="Paris La Défense",
    ),
    Column(
        field="time_zone",
        aliases=("fuseau_horaire", "fuseau", "timezone", "tz"),
        read=cells.read_time_zone,
        description=LocalisedText(
            fr="Fuseau horaire IANA ; défaut `Europe/Paris`.",
            en="IANA time zone; default `Europe/Paris`.",
        ),
        example="Europe/Paris",
    ),
    Column(
        field="languages",
        aliases=("langues", "langues_parlees", "spoken_languages"),
        read=cells.read_language_codes,
        write=_joined,
        description=LocalisedText(
            fr="Langues de session, codes ISO 639 séparés par `|`.",
            en="Languages they can hold a session in, ISO 639 codes separated by `|`.",
        ),
        example="fr|en",
    ),
    Column(
        field="skills",
        aliases=("competences",),
        read=cells.read_skills,
        write=lambda skills: cells.join(f"{skill.topic}:{skill.level}" for skill in skills),
        description=LocalisedText(
            fr="Mentors : `sujet:niveau` (1–5) séparés par `|`.",
            en="Mentors: `topic:level` (1–5) separated by `|`.",
        ),
        example="generative_ai:4|linkedin:3",
    ),
    Column(
        field="learning_needs",
        aliases=("besoins", "besoins_d_apprentissage", "attentes", "needs"),
        read=cells.read_learning_needs,
        write=lambda needs: cells.join(f"{need.topic}:{need.priority}" for need in needs),
        description=LocalisedText(
            fr="Mentorés : `sujet:priorité` (1–5) séparés par `|`.",
            en="Mentees: `topic:priority` (1–5) separated by `|`.",
        ),
        example="generative_ai:5|data:3",
    ),
    Column(
        field="availability",
        aliases=("disponibilites", "creneaux"),
        read=cells.read_availability,
        write=lambda slots: cells.join(cells.write_slot(slot) for slot in slots),
        description=LocalisedText(
            fr=(
                "Créneaux hebdomadaires `jour HH:MM-HH:MM` séparés par `|` ; jours `lun`…`dim`, "
                "`mon`…`sun` ou en toutes lettres (`lundi`) ; heures `08:30`, `8h30` ou `9h`."
            ),
            en=(
                "Weekly slots `day HH:MM-HH:MM` separated by `|`; days `mon`…`sun`, `lun`…`dim` "
                "or in full (`lundi`); times `08:30`, `8h30` or `9h`."
            ),
        ),
        example="mon 08:30-10:00|jeu 12:00-13:30",
    ),
    Column(
        field="working_hours",
        aliases=("horaires", "horaires_de_travail", "heures_de_travail"),
        read=cells.read_working_hours,
        write=cells.write_working_hours,
        description=LocalisedText(
            fr="Journée de travail habituelle `HH:MM-HH:MM` ; défaut `09:00-18:00`.",
            en="Usual working day `HH:MM-HH:MM`; default `09:00-18:00`.",
        ),
        example="09:00-18:00",
    ),
    Column(
        field="interests",
        aliases=("centres_d_interet", "centres_interet", "interets"),
        read=cells.read_slugs,
        write=_joined,
        description=LocalisedText(
            fr="Identifiants (minuscules, chiffres, `-`, `_`) séparés par `|`.",
            en="Slugs (lower-case letters, digits, `-`, `_`) separated by `|`.",
        ),
        example="photography|sustainability",
    ),
    Column(
        field="mentor_training_completed",
        aliases=("formation_mentor", "mentor_forme", "mentor_trained", "formation_suivie"),
        read=cells.read_boolean,
        write=cells.write_boolean,
        description=LocalisedText(
            fr=("`oui`/`non`, `yes`/`no`, `true`/`false`, `vrai`/`faux`, `1`/`0` ; défaut non."),
            en=("`oui`/`non`, `yes`/`no`, `true`/`false`, `vrai`/`faux`, `1`/`0`; default no."),
        ),
        example="oui",
    ),
    Column(
        field="gender",
        aliases=("genre", "sexe"),
        read=cells.read_gender,
        description=LocalisedText(
            fr=(
                "`female`, `male` ou `non_binary` (`F`/`femme`, `H`/`M`/`homme`, `NB` acceptés). "
                "Seuls les programmes non mixtes s'en servent."
            ),
            en=(
                "`female`, `male` or `non_binary` (`F`/`femme`, `H`/`M`/`homme`, `NB` accepted). "
                "Only single-gender programmes use it."
            ),
        ),
        example="female",
    ),
    Column(
        field="capacity",
        aliases=("capacite", "nombre_de_mentores", "max_mentees"),
        read=cells.read_integer,
        description=LocalisedText(
            fr=("Mentors : nombre de mentorés accueillis (1–50) ; vide = défaut du programme."),
            en=("Mentors: how many mentees they take (1–50); empty = the programme's default."),
        ),
        example="2",
    ),
)

BY_NAME: dict[str, Column] = {
    cells.fold(name): column for column in COLUMNS for name in (column.field, *column.aliases)
}

"""Each column by its folded name and aliases: how a header cell finds its column."""


def columns_reference_markdown() -> str:
    """The column reference of docs/hr-import-columns.md, written from :data:`COLUMNS`."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "# Colonnes de l'import RH / HR import columns",
        "",
        "Generated from `binome_integrations.participants_columns.COLUMNS` by `binome-docs`;",
        "do not edit by hand. How the file is read: [hr-import.md](hr-import.md).",
        "",
        "| Column | Aliases | Required | Format | Format (français) | Example |",
        "|---|---|---|---|---|---|",
    ]
    for column in COLUMNS:
        aliases = ", ".join(f"`{alias}`" for alias in column.aliases)
        lines.append(
            f"| `{column.field}` | {aliases} | {'yes' if column.required else 'no'} | "
            f"{cell(column.description.en)} | {cell(column.description.fr)} | "
            f"`{cell(column.example)}` |"
        )
    return "\n".join(lines) + "\n"
