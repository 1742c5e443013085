"""The HR participants CSV: every column type, both separators, BOM, accents, refused rows
with their line numbers, duplicates, unusable files, and the write → read round trip."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_integrations.participants_columns import COLUMNS
from binome_integrations.participants_csv import (
    ImportReport,
    UnusableFileError,
    parse_participants_csv,
    participants_csv_text,
    write_participants_csv,
)
from binome_shared.contracts.participants import (
    Gender,
    LearningNeed,
    ParticipantRole,
    Skill,
    Weekday,
    WeeklySlot,
    WorkingHours,
)
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

FULL_HEADER = (
    "participant_id;role;full_name;email;preferred_language;birth_year;department;"
    "business_unit;job_grade;manager_id;site;time_zone;languages;skills;learning_needs;"
    "availability;working_hours;interests;mentor_training_completed;gender;capacity"
)
MENTOR_ROW = (
    "Y0001;mentor;Inès Martin;ines.martin@groupe.example;en;1998;Marketing digital;"
    "Grand Public;5;T0001;Paris La Défense;America/Toronto;fr|EN;generative_ai:4|linkedin:3;;"
    "mon 08:30-10:00|jeu 12h-13h30;08:30-17:30;photography|sustainability;oui;F;2"
)
MENTEE_ROW = (
    "M0001;mentorée;Hélène Dubois-Lefèvre;helene.dubois@groupe.example;fr;1968;Finance;"
    "Entreprises;16;;Lyon;Europe/Paris;fr;;generative_ai:5|data:3;tue 17:30-19:00;;;non;;"
)


def parse(*rows: str, header: str = FULL_HEADER) -> ImportReport:
    return parse_participants_csv("\n".join([header, *rows]) + "\n")


def test_every_column_type_is_read() -> None:
    report = parse_participants_csv(f"{FULL_HEADER}\n{MENTOR_ROW}\n{MENTEE_ROW}\n")

    assert report.problems == []
    mentor, mentee = report.accepted
    assert mentor.participant_id == "Y0001"
    assert mentor.role is ParticipantRole.MENTOR
    assert mentor.full_name == "Inès Martin"
    assert mentor.preferred_language is Language.EN
    assert mentor.birth_year == 1998
    assert mentor.job_grade == 5
    assert mentor.manager_id == "T0001"
    assert mentor.site == "Paris La Défense"
    assert mentor.time_zone == "America/Toronto"
    assert mentor.languages == ["fr", "en"]
    assert mentor.skills == [
        Skill(topic="generative_ai", level=4),
        Skill(topic="linkedin", level=3),
    ]
    assert mentor.availability == [
        WeeklySlot(weekday=Weekday.MONDAY, start=time(8, 30), end=time(10)),
        WeeklySlot(weekday=Weekday.THURSDAY, start=time(12), end=time(13, 30)),
    ]
    assert mentor.working_hours == WorkingHours(start=time(8, 30), end=time(17, 30))
    assert mentor.interests == ["photography", "sustainability"]
    assert mentor.mentor_training_completed is True
    assert mentor.gender is Gender.FEMALE
    assert mentor.capacity == 2
    assert mentee.role is ParticipantRole.MENTEE
    assert mentee.full_name == "Hélène Dubois-Lefèvre"
    assert mentee.manager_id is None
    assert mentee.learning_needs == [
        LearningNeed(topic="generative_ai", priority=5),
        LearningNeed(topic="data", priority=3),
    ]
    assert mentee.working_hours == WorkingHours(start=time(9), end=time(18))
    assert mentee.mentor_training_completed is False
    assert mentee.gender is None
    assert mentee.capacity is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("oui", True),
        ("Non", False),
        ("yes", True),
        ("NO", False),
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("Vrai", True),
    ],
)
def test_booleans_in_french_and_english(cell: str, expected: bool) -> None:
    row = MENTOR_ROW.replace(";oui;F;2", f";{cell};F;2")
    report = parse_participants_csv(f"{FULL_HEADER}\n{row}\n")
    assert report.accepted[0].mentor_training_completed is expected


def test_comma_separated_file_with_french_headers_and_quotes() -> None:
    text = (
        "Matricule,Rôle,Nom complet,Courriel,Année de naissance,Direction,Entité,Grade,"
        "Site,Langues,Besoins,Disponibilités,Centres d'intérêt,Genre\n"
        'M42,mentoré,"Dupont, Élodie",elodie.dupont@groupe.example,1965,"Achats, Groupe",'
        "Finance,17,Paris,fr|en,cybersecurity:4,vendredi 9h-10h30,cinema-club,femme\n"
    )
    report = parse_participants_csv(text)

    assert report.delimiter == ","
    assert report.problems == []
    (profile,) = report.accepted
    assert profile.full_name == "Dupont, Élodie"
    assert profile.department == "Achats, Groupe"
    assert profile.availability[0].weekday is Weekday.FRIDAY
    assert profile.gender is Gender.FEMALE
    assert profile.learning_needs == [LearningNeed(topic="cybersecurity", priority=4)]


def test_interest_with_accents_is_refused_as_a_slug() -> None:
    text = (
        "matricule;rôle;nom;email;annee_naissance;direction;entite;grade;site;langues;interets\n"
        "M1;mentee;Zoé;zoe@groupe.example;1970;Achats;Finance;14;Paris;fr;cinéma\n"
    )
    report = parse_participants_csv(text)
    assert report.accepted == []
    (problem,) = report.problems
    assert (problem.line, problem.field) == (2, "interests")
    assert "cinéma" in problem.message_fr
    assert "slug" in problem.message_en


@pytest.mark.parametrize("bom", [True, False], ids=["with-bom", "without-bom"])
@pytest.mark.parametrize("delimiter", [";", ","])
def test_file_with_or_without_bom_either_separator(
    tmp_path: Path, bom: bool, delimiter: str
) -> None:
    text = f"{FULL_HEADER}\n{MENTOR_ROW}\n{MENTEE_ROW}\n"
    if delimiter == ",":
        text = text.replace(";", ",")
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))

    report = parse_participants_csv(path)

    assert report.delimiter == delimiter
    assert [profile.participant_id for profile in report.accepted] == ["Y0001", "M0001"]
    assert report.accepted[1].full_name == "Hélène Dubois-Lefèvre"


def test_string_naming_an_existing_file_is_read_as_a_path(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{FULL_HEADER}\n{MENTOR_ROW}\n", encoding="utf-8")
    assert parse_participants_csv(str(path)).accepted[0].participant_id == "Y0001"


def test_bad_rows_are_reported_with_line_and_field_and_good_rows_go_in() -> None:
    bad_email = MENTEE_ROW.replace("M0001", "M0002").replace(
        "helene.dubois@groupe.example", "helene-at-groupe"
    )
    bad_year_and_grade = (
        MENTEE_ROW.replace("M0001", "M0003").replace(";1968;", ";19x8;").replace(";16;", ";;")
    )
    bad_skill = MENTOR_ROW.replace("Y0001", "Y0002").replace("linkedin:3", "linkedin:7")
    bad_slot = (
        MENTOR_ROW.replace("Y0003", "Y0003")
        .replace("Y0001", "Y0003")
        .replace("mon 08:30-10:00", "mon 10:00-09:00")
    )
    report = parse(MENTOR_ROW, bad_email, bad_year_and_grade, "", bad_skill, bad_slot, MENTEE_ROW)

    assert [profile.participant_id for profile in report.accepted] == ["Y0001", "M0001"]
    assert report.rows == 6  # the blank line is no row, but still counts as a line
    found = {(problem.line, problem.participant_id, problem.field) for problem in report.problems}
    assert found == {
        (3, "M0002", "email"),
        (4, "M0003", "birth_year"),
        (4, "M0003", "job_grade"),
        (6, "Y0002", "skills"),
        (7, "Y0003", "availability"),
    }
    by_field = {problem.field: problem for problem in report.problems}
    assert by_field["email"].message_fr == (
        "email : « helene-at-groupe » n'est pas une adresse e-mail"
    )
    assert by_field["email"].message_en == "email: 'helene-at-groupe' is not an e-mail address"
    assert by_field["job_grade"].message_en == "job_grade is empty (required)"
    assert "entre 1 et 5" in by_field["skills"].message_fr
    assert "later than the start" in by_field["availability"].message_en
    assert report.refused_lines == [3, 4, 6, 7]


def test_bounds_checked_by_the_contract_are_translated() -> None:
    too_old = MENTEE_ROW.replace(";1968;", ";1850;")
    report = parse(too_old)
    (problem,) = report.problems
    assert problem.field == "birth_year"
    assert problem.message_fr == "birth_year : doit valoir au moins 1900"
    assert problem.message_en == "birth_year: must be at least 1900"


def test_unknown_values_and_own_manager_are_refused() -> None:
    row = (
        MENTOR_ROW.replace(";en;1998", ";de;1998")
        .replace("America/Toronto", "Mars/Olympus")
        .replace("T0001", "Y0001")
        .replace(";F;2", ";?;2")
        .replace("Y0001;mentor;", "Y0001;coach;")
    )
    report = parse(row)
    assert {problem.field for problem in report.problems} == {
        "role",
        "preferred_language",
        "time_zone",
        "manager_id",
        "gender",
    }
    assert all(problem.line == 2 for problem in report.problems)


def test_a_row_with_more_cells_than_the_header_is_refused() -> None:
    report = parse(MENTOR_ROW + ";surplus", MENTEE_ROW + ";;")
    assert [profile.participant_id for profile in report.accepted] == ["M0001"]
    (problem,) = report.problems
    assert (problem.line, problem.field) == (2, None)
    assert "22" in problem.message_en


def test_a_duplicate_id_is_reported_on_both_lines_and_neither_goes_in() -> None:
    copy = MENTEE_ROW.replace("Hélène", "Hélène (bis)")
    report = parse(MENTEE_ROW, MENTOR_ROW, copy)

    assert [profile.participant_id for profile in report.accepted] == ["Y0001"]
    duplicates = [problem for problem in report.problems if problem.participant_id == "M0001"]
    assert [problem.line for problem in duplicates] == [2, 4]
    assert duplicates[0].message_en == (
        "duplicate participant_id 'M0001': also on line 4; none of lines 2, 4 is imported"
    )
    assert "aussi ligne 2" in duplicates[1].message_fr


def test_line_numbers_count_physical_lines_of_quoted_multi_line_cells() -> None:
    # A department is one line of text: the quoted line break is refused, and the next
    # row's problem is still reported on its physical line.
    multi_line = MENTEE_ROW.replace("Finance;", '"Finance\net achats";', 1)
    report = parse(multi_line, MENTOR_ROW.replace("linkedin:3", "linkedin:9"))
    assert report.accepted == []
    assert [problem.line for problem in report.problems] == [2, 4]
    assert report.problems[0].message_en.startswith("department: contains a control character")


def test_excel_separator_hint_line_is_honoured() -> None:
    text = f"sep=,\n{FULL_HEADER.replace(';', ',')}\n{MENTOR_ROW.replace(';', ',')}x\n"
    report = parse_participants_csv(text)
    assert report.delimiter == ","
    assert report.problems[0].line == 3


def test_unknown_columns_are_ignored_and_listed() -> None:
    report = parse(MENTOR_ROW + ";note libre", header=FULL_HEADER + ";Commentaire RH")
    assert report.ignored_columns == ["Commentaire RH"]
    assert len(report.accepted) == 1


@pytest.mark.parametrize(
    ("content", "expected_en"),
    [
        (b"", "the file is empty"),
        (FULL_HEADER.encode() + b"\n", "no data rows"),
        (b"prenom;age\nx;y\n", "no known column"),
        (b"matricule;role;nom\nE1;mentor;X\n", "required column(s) missing: email, birth_year"),
        (
            FULL_HEADER.encode() + b";matricule\n",
            "columns 'participant_id' and 'matricule' both mean participant_id",
        ),
        (
            FULL_HEADER.encode() + b"\n" + MENTEE_ROW.encode("cp1252") + b"\n",
            "line 2: the file is not UTF-8",
        ),
    ],
    ids=[
        "empty",
        "header-only",
        "no-known-column",
        "missing-columns",
        "same-field-twice",
        "cp1252",
    ],
)
def test_unusable_files_say_why(tmp_path: Path, content: bytes, expected_en: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableFileError) as raised:
        parse_participants_csv(path)
    assert expected_en in raised.value.message_en
    assert raised.value.message_fr
    assert raised.value.message_fr != raised.value.message_en


def test_a_missing_file_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(UnusableFileError) as raised:
        parse_participants_csv(tmp_path / "absent.csv")
    assert "cannot read the file" in raised.value.message_en


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("seed", [1, 2027])
def test_generated_cohort_round_trips_through_a_csv_file(
    tmp_path: Path, delimiter: str, seed: int
) -> None:
    cohort = generate_cohort(mentees=60, mentors=70, seed=seed)
    path = tmp_path / "cohort.csv"

    written = write_participants_csv(cohort.participants, path, delimiter=delimiter)
    report = parse_participants_csv(path)

    assert written == 130
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert report.problems == []
    assert report.accepted == cohort.participants


def test_written_header_lists_every_column_in_order() -> None:
    text = participants_csv_text([], delimiter=";")
    assert text == ";".join(column.field for column in COLUMNS) + "\r\n"
