"""The HR participants CSV: one row per person, one column per field of a profile.

HR tools export such files with ``;`` (French locales) or ``,`` separators, in UTF-8 with or
without a byte order mark, with headers in English or French. :func:`parse_participants_csv`
reads one into valid :class:`ParticipantProfile` objects and a list of refused rows, each
with its line number and the reason in French and English; :func:`write_participants_csv`
writes profiles in the same format, so a generated cohort can take the very path a real
export takes. The columns are documented in ``docs/hr-import.md``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from binome_integrations import csv_cells as cells
from binome_integrations.language import localised
from binome_integrations.participants_columns import (
    BY_NAME,
    COLUMNS,
    Column,
)
from binome_shared.contracts.participants import ParticipantProfile
from binome_shared.contracts.values import Language, LocalisedText

DELIMITERS = (";", ",", "\t")


class RowProblem(BaseModel):
    """A refused row (or one of its fields): where, and why in French and English."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1, description="Line in the file where the row starts (header is 1).")
    participant_id: str | None = Field(description="The row's id, when it has one.")
    field: str | None = Field(description="Profile field at fault; None for the whole row.")
    message_fr: str = Field(description="The reason in French (it quotes the cell as is).")
    message_en: str = Field(description="The reason in English.")

    def message(self, language: Language) -> str:
        """The reason in ``language``."""
        return self.message_fr if language == Language.FR else self.message_en


class ImportReport(BaseModel):
    """What a file gave: profiles ready to enrol, and every refused row with its reasons."""

    model_config = ConfigDict(frozen=True)

    accepted: list[ParticipantProfile]
    problems: list[RowProblem]
    rows: int = Field(default=0, ge=0, description="Data rows read (blank lines excluded).")
    delimiter: str = Field(default=";", description="The separator the file uses.")
    ignored_columns: list[str] = Field(
        default_factory=list, description="Headers that name no profile field, left aside."
    )

    @property
    def refused_lines(self) -> list[int]:
        """Lines of the rows that were refused, in file order."""
        return sorted({problem.line for problem in self.problems})


class UnusableFileError(cells.BilingualError):
    """The file as a whole cannot be read: wrong encoding, no header, a missing column."""


def parse_participants_csv(source: Path | str) -> ImportReport:
    """Read an HR participants export.

    ``source`` is a :class:`~pathlib.Path`, or the CSV text itself (a one-line string that
    names an existing file is taken as its path). Rows with any problem are refused and
    reported; every other row is accepted. An id found on several rows refuses all of
    them, each reported with the other lines. Raises :class:`UnusableFileError` when the
    file cannot be read at all.
    """
    if isinstance(source, Path) or _names_a_file(source):
        text = _decode(Path(source))
    else:
        text = source.removeprefix("\ufeff")
    return _parse_text(text)


def _names_a_file(text: str) -> bool:
    if "\n" in text:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # too long for a path, or a NUL inside: it is CSV text
        return False


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnusableFileError(
            fr=f"impossible de lire le fichier : {error.strerror}",
            en=f"cannot read the file: {error.strerror}",
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise UnusableFileError(
            fr=f"ligne {line} : le fichier n'est pas en UTF-8 (enregistrez-le en « CSV UTF-8 »)",
            en=f"line {line}: the file is not UTF-8 (save it as 'CSV UTF-8')",
        ) from None


def _parse_text(text: str) -> ImportReport:
    header_line, first_line = text.partition("\n")[0], 1
    delimiter: str | None = None
    if header_line.strip().lower().startswith("sep="):
        # Excel writes this hint line; the header follows it.
        delimiter = header_line.strip()[4:5] or None
        text = text.partition("\n")[2]
        first_line = 2
    if not text.strip():
        raise UnusableFileError(fr="le fichier est vide", en="the file is empty")
    delimiter = delimiter or _sniff_delimiter(text.partition("\n")[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader)
    columns, ignored = _map_header(header, first_line)
    rows: list[tuple[int, list[str]]] = []
    previous_end = reader.line_num
    for row in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if any(cell.strip() for cell in row):
            rows.append((start + first_line - 1, row))
    if not rows:
        raise UnusableFileError(
            fr="le fichier n'a aucune ligne de données après l'en-tête",
            en="the file has no data rows after its header",
        )
    parsed = [_parse_row(line, row, columns, width=len(header)) for line, row in rows]
    accepted, problems = _refuse_duplicate_ids(parsed)
    return ImportReport(
        accepted=accepted,
        problems=sorted(problems, key=lambda problem: problem.line),
        rows=len(rows),
        delimiter=delimiter,
        ignored_columns=ignored,
    )


def _sniff_delimiter(header_line: str) -> str:
    known = {
        delimiter: sum(cells.fold(name) in BY_NAME for name in header_line.split(delimiter))
        for delimiter in DELIMITERS
    }
    best = max(DELIMITERS, key=lambda delimiter: known[delimiter])
    if known[best] == 0:
        raise UnusableFileError(
            fr="l'en-tête ne contient aucune colonne connue (séparateur ; ou ,)",
            en="the header holds no known column (separator ; or ,)",
        )
    return best


def _map_header(header: Sequence[str], line: int) -> tuple[dict[int, Column], list[str]]:
    columns: dict[int, Column] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        column = BY_NAME.get(cells.fold(name.removeprefix("\ufeff")))
        if column is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if column.field in seen:
            raise UnusableFileError(
                fr=f"ligne {line} : les colonnes « {seen[column.field]} » et « {name} » "
                f"désignent toutes deux {column.field}",
                en=f"line {line}: columns '{seen[column.field]}' and '{name}' both mean "
                f"{column.field}",
            )
        seen[column.field] = name
        columns[index] = column
    missing = [column.field for column in COLUMNS if column.required and column.field not in seen]
    if missing:
        listed = ", ".join(missing)
        raise UnusableFileError(
            fr=f"ligne {line} : colonne(s) obligatoire(s) absente(s) : {listed}",
            en=f"line {line}: required column(s) missing: {listed}",
        )
    return columns, ignored


@dataclass(frozen=True, slots=True)
class _ParsedRow:
    line: int
    participant_id: str | None
    profile: ParticipantProfile | None
    problems: list[RowProblem]


def _parse_row(line: int, row: list[str], columns: dict[int, Column], *, width: int) -> _ParsedRow:
    id_index = next(index for index, column in columns.items() if column.field == "participant_id")
    participant_id = row[id_index].strip() if id_index < len(row) else ""
    problems: list[RowProblem] = []

    def refuse(field: str | None, *, fr: str, en: str) -> None:
        problems.append(
            RowProblem(
                line=line,
                participant_id=participant_id or None,
                field=field,
                message_fr=fr,
                message_en=en,
            )
        )

    if any(cell.strip() for cell in row[width:]):
        # Trailing empty cells are what spreadsheets leave; filled ones mean a shifted row.
        refuse(
            None,
            fr=f"la ligne a {len(row)} cellules, l'en-tête n'en a que {width} "
            "(séparateur dans une valeur non entourée de guillemets ?)",
            en=f"the row has {len(row)} cells, the header only {width} "
            "(a separator inside an unquoted value?)",
        )
    values: dict[str, Any] = {}
    for index, column in columns.items():
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            if column.required:
                refuse(
                    column.field,
                    fr=f"{column.field} est vide (obligatoire)",
                    en=f"{column.field} is empty (required)",
                )
            continue
        try:
            values[column.field] = column.read(cell)
        except cells.CellError as error:
            refuse(
                column.field,
                fr=f"{column.field} : {error.message_fr}",
                en=f"{column.field}: {error.message_en}",
            )
    if participant_id and values.get("manager_id") == participant_id:
        refuse(
            "manager_id",
            fr="manager_id : une personne ne peut pas être son propre manager",
            en="manager_id: a person cannot be their own manager",
        )
    if problems:
        return _ParsedRow(line, participant_id or None, None, problems)
    try:
        profile = ParticipantProfile.model_validate(values)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            field, fr, en = _translate(detail)
            refuse(field, fr=fr, en=en)
        return _ParsedRow(line, participant_id or None, None, problems)
    return _ParsedRow(line, participant_id, profile, [])


_PYDANTIC_MESSAGES: dict[str, LocalisedText] = {
    "string_too_short": LocalisedText(
        fr="est trop court (au moins {min_length} caractère(s))",
        en="is too short (at least {min_length} character(s))",
    ),
    "string_too_long": LocalisedText(
        fr="est trop long (au plus {max_length} caractères)",
        en="is too long (at most {max_length} characters)",
    ),
    "too_short": LocalisedText(
        fr="doit avoir au moins {min_length} élément(s)",
        en="must have at least {min_length} item(s)",
    ),
    "too_long": LocalisedText(
        fr="a trop d'éléments (au plus {max_length})",
        en="has too many items (at most {max_length})",
    ),
    "greater_than_equal": LocalisedText(fr="doit valoir au moins {ge}", en="must be at least {ge}"),
    "less_than_equal": LocalisedText(fr="doit valoir au plus {le}", en="must be at most {le}"),
    "string_pattern_mismatch": LocalisedText(
        fr="n'a pas le format attendu", en="does not have the expected format"
    ),
}


def _translate(detail: ErrorDetails) -> tuple[str | None, str, str]:
    field = str(detail["loc"][0]) if detail["loc"] else None
    context = detail.get("ctx", {})
    template = _PYDANTIC_MESSAGES.get(detail["type"])
    if template is None:
        fr_reason, en_reason = f"valeur refusée ({detail['msg']})", detail["msg"]
    else:
        fr_reason, en_reason = (
            localised(template, language, **context) for language in (Language.FR, Language.EN)
        )
    label = field or "profil"
    return field, f"{label} : {fr_reason}", f"{field or 'profile'}: {en_reason}"


def _refuse_duplicate_ids(
    parsed: Iterable[_ParsedRow],
) -> tuple[list[ParticipantProfile], list[RowProblem]]:
    rows = list(parsed)
    lines_by_id: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.participant_id:
            lines_by_id[row.participant_id].append(row.line)
    accepted: list[ParticipantProfile] = []
    problems: list[RowProblem] = []
    for row in rows:
        problems.extend(row.problems)
        lines = lines_by_id.get(row.participant_id or "", [])
        if len(lines) > 1:
            others = ", ".join(str(line) for line in lines if line != row.line)
            all_lines = ", ".join(str(line) for line in lines)
            problems.append(
                RowProblem(
                    line=row.line,
                    participant_id=row.participant_id,
                    field="participant_id",
                    message_fr=f"participant_id « {row.participant_id} » en double : aussi "
                    f"ligne {others} ; aucune des lignes {all_lines} n'est importée",
                    message_en=f"duplicate participant_id '{row.participant_id}': also on "
                    f"line {others}; none of lines {all_lines} is imported",
                )
            )
        elif row.profile is not None:
            accepted.append(row.profile)
    return accepted, problems


def participants_csv_text(profiles: Iterable[ParticipantProfile], *, delimiter: str = ";") -> str:
    """Profiles as CSV text: a header of every column, then one row per profile."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(column.field for column in COLUMNS)
    for profile in profiles:
        writer.writerow(column.write(getattr(profile, column.field)) for column in COLUMNS)
    return buffer.getvalue()


def write_participants_csv(
    profiles: Iterable[ParticipantProfile], path: Path, *, delimiter: str = ";"
) -> int:
    """Write profiles to ``path`` as UTF-8 with a byte order mark, the way spreadsheet tools
    save "CSV UTF-8" (so accents survive a double-click open); returns the rows written."""
    materialised = list(profiles)
    Path(path).write_text(
        "\ufeff" + participants_csv_text(materialised, delimiter=delimiter),
        encoding="utf-8",
        newline="",
    )
    return len(materialised)
