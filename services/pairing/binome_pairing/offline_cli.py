"""``binome-pairing solve``: pair a cohort from a JSON file, offline, on the service's engine.

The input file holds the programme's rules, the participants and, optionally, reporting
lines, kept pairs and pairs not to form (see ``docs/schemas/pairing-input.schema.json``).
Exit codes: 0 solved, 2 bad input (each problem names the record and the field), 1 when
the output cannot be written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from binome_pairing.domain import (
    MatchingResult,
    RecordProblem,
    Severity,
    excluded_pairs,
    parse_participants,
    solve,
    validate_cohort,
)
from binome_pairing.domain.results import errors_of
from binome_pairing.domain.validation import PARTICIPANTS, problems_from_validation_error
from binome_shared.contracts.participants import ParticipantProfile, ReportingLine
from binome_shared.contracts.programme import Objective, ProgrammeRules
from binome_shared.contracts.values import Language
from binome_shared.docs.json_schema import WireJsonSchema

EXIT_SOLVED = 0
EXIT_OUTPUT_FAILED = 1
EXIT_BAD_INPUT = 2
SCHEMA_FILE_NAME = "pairing-input.schema.json"
SCHEMA_ID = f"https://binome.example/schemas/{SCHEMA_FILE_NAME}"


class PairReference(BaseModel):
    """Two participants by id: a kept, previous or rejected pair."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mentor_id: str = Field(min_length=1, description="The mentor's id.", examples=["Y000042"])
    mentee_id: str = Field(min_length=1, description="The mentee's id.", examples=["M000007"])


class PairingInput(BaseModel):
    """Everything one matching round needs, as an HR analyst hands it to the offline tool."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Binôme pairing input")

    format_version: Literal["1.0"] = Field(
        default="1.0", description="Version of this file format.", examples=["1.0"]
    )
    programme: ProgrammeRules = Field(description="The programme's pairing rules.")
    participants: list[ParticipantProfile] = Field(
        description="Mentors and mentees; ``role`` says which.", min_length=1
    )
    reporting_lines: list[ReportingLine] = Field(
        default_factory=list,
        description="Reporting links of people who are not enrolled (e.g. team leads).",
    )
    locked_pairs: list[PairReference] = Field(
        default_factory=list,
        description="Pairs kept as they are; they use their mentor's places.",
    )
    previous_pairs: list[PairReference] = Field(
        default_factory=list,
        description="Pairs of earlier rounds; never formed again if the programme says so.",
    )
    rejected_pairs: list[PairReference] = Field(
        default_factory=list, description="Pairs HR rejected; never proposed again."
    )
    objective: Objective | None = Field(
        default=None,
        description="Overrides the programme's objective for this run.",
        examples=["fairest"],
    )


class _LooseInput(PairingInput):
    """The same file with participants left raw, so that each record is checked on its own."""

    participants: list[Any] = Field(min_length=1)


def input_json_schema() -> dict[str, Any]:
    """The JSON Schema of the input file, generated from the models."""
    # The wire generator: local times as patterns (not `format: time`, which needs an
    # offset) and no OpenAPI `discriminator`, so strict validators accept the schema.
    schema = PairingInput.model_json_schema(schema_generator=WireJsonSchema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_input_schema() -> str:
    """The schema as committed in ``docs/schemas/pairing-input.schema.json``."""
    return json.dumps(input_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_input_schema(path: Path | None = None) -> Path:
    """Regenerate the committed schema file (by default ``docs/schemas/…`` of this checkout)."""
    target = path or Path(__file__).resolve().parents[3] / "docs" / "schemas" / SCHEMA_FILE_NAME
    target.write_text(render_input_schema(), encoding="utf-8")
    return target


def _file_problem(code: str, fr: str, en: str) -> RecordProblem:
    return RecordProblem.of(collection="input", code=code, fr=fr, en=en)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedInput:
    """The file read and checked: what to solve and every problem found, once each."""

    document: PairingInput | None
    participants: list[ParticipantProfile]
    """Every record that parsed, duplicates included: ``solve`` validates them itself."""
    positions: list[int]
    """Each of those records' index in the file's ``participants``."""
    parse_problems: list[RecordProblem]
    """Records that did not parse (the engine never sees them)."""
    problems: list[RecordProblem]
    """Parse problems and the cohort's validation, sorted by record."""

    @property
    def errors(self) -> list[RecordProblem]:
        """Problems that leave their record out."""
        return errors_of(self.problems)


def load_input(text: str) -> LoadedInput:
    """Parse and validate the file; nothing is solved."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        problem = _file_problem(
            "invalid_json",
            f"JSON invalide ligne {error.lineno}, colonne {error.colno} : {error.msg}",
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
        )
        return _unreadable([problem])
    try:
        loose = _LooseInput.model_validate(raw)
    except ValidationError as error:
        return _unreadable(
            problems_from_validation_error(error, collection="input", index=None, record_id=None)
        )
    parsed, parse_problems = parse_participants(loose.participants)
    participants = [profile for _, profile in parsed]
    positions = [index for index, _ in parsed]
    validation = validate_cohort(
        rules=loose.programme,
        participants=participants,
        positions=positions,
        reporting_lines=loose.reporting_lines,
    )
    document = PairingInput.model_construct(**{**dict(loose), "participants": validation.accepted})
    return LoadedInput(
        document=document,
        participants=participants,
        positions=positions,
        parse_problems=parse_problems,
        problems=_by_record([*parse_problems, *validation.problems]),
    )


def _unreadable(problems: list[RecordProblem]) -> LoadedInput:
    return LoadedInput(
        document=None, participants=[], positions=[], parse_problems=problems, problems=problems
    )


def _by_record(problems: list[RecordProblem]) -> list[RecordProblem]:
    """Problems in file order: participants by index, then the other collections."""
    return sorted(
        problems,
        key=lambda problem: (problem.collection != PARTICIPANTS, problem.index or 0),
    )


def run_solve(arguments: argparse.Namespace) -> int:
    """Handler of ``solve``: read, validate, solve, write."""
    language = Language(arguments.language)
    source: Path = arguments.input
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        print(f"{source}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    loaded = load_input(text)
    document = loaded.document
    for problem in loaded.problems:
        prefix = "" if problem.severity is Severity.ERROR else "warning: "
        print(prefix + problem.describe(language), file=sys.stderr)
    if document is None or (loaded.errors and not arguments.skip_invalid):
        print(
            f"{len(loaded.errors)} error(s); nothing solved "
            "(--skip-invalid solves the valid records)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    # The engine validates the parsed records again, at their positions in the file: its
    # problems are the cohort's, once each; only records that did not parse are added.
    result = solve(
        rules=document.programme,
        participants=loaded.participants,
        positions=loaded.positions,
        reporting_lines=document.reporting_lines,
        locked_pairs=[(pair.mentor_id, pair.mentee_id) for pair in document.locked_pairs],
        forbidden_pairs=excluded_pairs(
            rules=document.programme,
            previous_pairs=[(pair.mentor_id, pair.mentee_id) for pair in document.previous_pairs],
            rejected_pairs=[(pair.mentor_id, pair.mentee_id) for pair in document.rejected_pairs],
        ),
        objective=arguments.objective or document.objective,
    )
    result = result.model_copy(
        update={"problems": _by_record([*loaded.parse_problems, *result.problems])}
    )
    try:
        _write(result, arguments.output)
    except OSError as error:
        print(f"{arguments.output}: {error.strerror}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    _summarise(result)
    return EXIT_SOLVED


def _summarise(result: MatchingResult) -> None:
    stats = result.stats
    print(
        f"{stats.pairs} pair(s) ({stats.kept_pairs} kept), {stats.unmatched_mentees} unmatched "
        f"mentee(s), {stats.unmatched_mentors} unmatched mentor(s); total score "
        f"{stats.total_score:.3f}; pairs: {stats.cardinality_proof}; "
        f"score: {stats.optimality_proof}",
        file=sys.stderr,
    )
    if stats.pairs_missing_at_most:
        print(
            f"WARNING: not proven maximum, {stats.pairs_missing_at_most} pair(s) missing at most "
            f"/ ATTENTION : maximum non prouvé, il peut manquer jusqu'à "
            f"{stats.pairs_missing_at_most} binôme(s)",
            file=sys.stderr,
        )


def _write(result: MatchingResult, output: str) -> None:
    text = result.model_dump_json(indent=2) + "\n"
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``solve`` sub-command (its handler is ``arguments.handler``)."""
    parser = subparsers.add_parser(
        "solve",
        help="pair a cohort from a JSON file, offline",
        description=(
            "Solve a matching round from a JSON file (programme, participants, kept, previous "
            "and rejected pairs) and write the explained pairs and the unmatched as JSON."
        ),
    )
    parser.add_argument("input", type=Path, help="input JSON (see pairing-input.schema.json)")
    parser.add_argument("--output", "-o", default="-", help="output JSON file ('-': stdout)")
    parser.add_argument(
        "--objective",
        type=Objective,
        choices=list(Objective),
        default=None,
        help="override the programme's objective",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave invalid participant records out instead of stopping",
    )
    parser.add_argument(
        "--language", choices=("fr", "en"), default="en", help="language of error messages"
    )
    parser.set_defaults(handler=run_solve)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: ``python -m binome_pairing.offline_cli solve …``."""
    parser = argparse.ArgumentParser(prog="binome-pairing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register(commands)
    arguments = parser.parse_args(argv)
    handler = arguments.handler
    code: int = handler(arguments)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
