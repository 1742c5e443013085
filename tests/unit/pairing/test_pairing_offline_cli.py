"""The offline ``solve`` command and the committed JSON Schema of its input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_pairing.offline_cli import EXIT_BAD_INPUT, EXIT_SOLVED, main, render_input_schema

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[3]
SCHEMA_FILE = REPOSITORY / "docs" / "schemas" / "pairing-input.schema.json"


def write_input(tmp_path: Path, **changes: Any) -> Path:
    cohort = generate_cohort(mentees=12, mentors=14, seed=4)
    document: dict[str, Any] = {
        "programme": cohort.rules.model_dump(mode="json"),
        "participants": [p.model_dump(mode="json") for p in cohort.participants],
        "reporting_lines": [line.model_dump(mode="json") for line in cohort.reporting_lines],
    }
    document.update(changes)
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_solve_writes_explained_pairs(tmp_path: Path) -> None:
    source = write_input(tmp_path)
    output = tmp_path / "pairs.json"

    code = main(["solve", str(source), "--output", str(output)])

    assert code == EXIT_SOLVED
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["stats"]["pairs"] == len(result["pairs"]) > 0
    assert result["stats"]["optimality_proof"] == "all_feasible_edges"
    first = result["pairs"][0]
    assert set(first["explanation"]) == {"fr", "en"}
    assert first["constraints_checked"][-1] == "mentor_capacity"


def test_bad_records_are_named_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = generate_cohort(mentees=3, mentors=3, seed=4)
    participants = [p.model_dump(mode="json") for p in cohort.participants]
    participants[1]["birth_year"] = 1850
    participants[4]["capacity"] = 0
    participants.append(dict(participants[0]))
    source = write_input(tmp_path, participants=participants)

    code = main(["solve", str(source), "--output", str(tmp_path / "out.json")])

    assert code == EXIT_BAD_INPUT
    errors = capsys.readouterr().err.splitlines()
    assert (
        'participants[1] (id "M000001").birth_year: Input should be greater than or equal to 1900'
        in errors
    )
    assert (
        'participants[4] (id "Y000001").capacity: Input should be greater than or equal to 1'
        in errors
    )
    assert any(
        line.startswith('participants[6] (id "M000000").participant_id: id already used')
        for line in errors
    )
    assert not (tmp_path / "out.json").exists()


def test_a_topic_outside_the_files_taxonomy_is_named_with_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cohort = generate_cohort(mentees=3, mentors=3, seed=4)
    programme = cohort.rules.model_dump(mode="json") | {
        "topics": [{"slug": "data", "fr": "données", "en": "data"}]
    }
    participants = [p.model_dump(mode="json") for p in cohort.participants]
    participants[3]["skills"] = [{"topic": "data", "level": 4}, {"topic": "dta", "level": 2}]
    source = write_input(tmp_path, programme=programme, participants=participants)

    code = main(["solve", str(source), "--output", str(tmp_path / "out.json")])

    assert code == EXIT_BAD_INPUT
    errors = capsys.readouterr().err.splitlines()
    assert (
        'participants[3] (id "Y000000").skills: topic(s) not in the programme\'s taxonomy: '
        "skills[1].topic 'dta' (did you mean 'data'?); known topics: data"
    ) in errors


def test_skip_invalid_solves_everyone_else(tmp_path: Path) -> None:
    cohort = generate_cohort(mentees=6, mentors=6, seed=4)
    participants = [p.model_dump(mode="json") for p in cohort.participants]
    participants[2]["languages"] = []
    source = write_input(tmp_path, participants=participants)
    output = tmp_path / "pairs.json"

    code = main(
        ["solve", str(source), "--output", str(output), "--skip-invalid", "--language", "fr"]
    )

    assert code == EXIT_SOLVED
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["stats"]["mentees"] == 5
    locations = [
        (p["collection"], p["index"], p["field"])
        for p in result["problems"]
        if p["severity"] == "error"
    ]
    assert locations == [("participants", 2, "languages")]


def test_each_problem_is_listed_once_at_its_record(tmp_path: Path) -> None:
    cohort = generate_cohort(mentees=6, mentors=6, seed=4)
    participants = [p.model_dump(mode="json") for p in cohort.participants]
    participants[1]["languages"] = []  # does not parse: left out
    participants[3] = {**participants[0]}  # a duplicate id: left out
    mentor_position = next(
        index for index, p in enumerate(participants) if p["role"] == "mentor" and index > 3
    )
    participants[mentor_position]["skills"] = []  # a warning, after the records left out
    source = write_input(tmp_path, participants=participants)
    output = tmp_path / "pairs.json"

    code = main(["solve", str(source), "--output", str(output), "--skip-invalid"])

    assert code == EXIT_SOLVED
    problems = json.loads(output.read_text(encoding="utf-8"))["problems"]
    located = [(p["index"], p["record_id"], p["field"], p["code"]) for p in problems]
    what = [(record_id, field, code) for _, record_id, field, code in located]
    assert len(what) == len(set(what))
    skills_id = participants[mentor_position]["participant_id"]
    assert [item for item in located if item[3] == "no_skills"] == [
        (mentor_position, skills_id, "skills", "no_skills")
    ]
    assert (3, participants[0]["participant_id"], "participant_id", "duplicate_id") in located
    assert [index for index, *_ in located if index == 1] == [1]


def test_broken_json_and_bad_programme_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"programme": ', encoding="utf-8")
    bad_rules = write_input(tmp_path, programme={"starts_on": "2027-01-11", "mentor_capacity": 0})

    assert main(["solve", str(broken)]) == EXIT_BAD_INPUT
    assert main(["solve", str(bad_rules)]) == EXIT_BAD_INPUT
    assert main(["solve", str(tmp_path / "missing.json")]) == EXIT_BAD_INPUT
    errors = capsys.readouterr().err
    assert "invalid JSON at line 1" in errors
    assert "programme.mentor_capacity: Input should be greater than or equal to 1" in errors


def test_kept_and_rejected_pairs_from_the_file_are_honoured(tmp_path: Path) -> None:
    first_output = tmp_path / "first.json"
    main(["solve", str(write_input(tmp_path)), "--output", str(first_output)])
    pairs = json.loads(first_output.read_text(encoding="utf-8"))["pairs"]
    kept = {"mentor_id": pairs[0]["mentor_id"], "mentee_id": pairs[0]["mentee_id"]}
    rejected = {"mentor_id": pairs[1]["mentor_id"], "mentee_id": pairs[1]["mentee_id"]}
    source = write_input(tmp_path, locked_pairs=[kept], rejected_pairs=[rejected])
    output = tmp_path / "second.json"

    assert main(["solve", str(source), "--output", str(output), "--objective", "fairest"]) == 0

    second = json.loads(output.read_text(encoding="utf-8"))
    found = {(p["mentor_id"], p["mentee_id"]): p["locked"] for p in second["pairs"]}
    assert found[(kept["mentor_id"], kept["mentee_id"])] is True
    assert (rejected["mentor_id"], rejected["mentee_id"]) not in found
    assert second["stats"]["objective"] == "fairest"


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_input_schema(), (
        "regenerate: python -c 'from binome_pairing.offline_cli import write_input_schema; "
        "write_input_schema()'"
    )
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert set(schema["required"]) == {"programme", "participants"}
    assert "ParticipantProfile" in schema["$defs"]


def test_input_schema_accepts_a_real_input_under_a_format_checking_validator(
    tmp_path: Path,
) -> None:
    """What an HR analyst's own validator sees: a strict 2020-12 schema (no OpenAPI
    keyword, no `format: time` on offset-less times) that accepts a file the CLI solves."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "discriminator" not in SCHEMA_FILE.read_text(encoding="utf-8")
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    document = json.loads(write_input(tmp_path).read_text(encoding="utf-8"))
    assert [error.message for error in validator.iter_errors(document)] == []
    document["participants"][0]["availability"][0]["start"] = "25:00"
    assert [error.json_path for error in validator.iter_errors(document)] == [
        "$.participants[0].availability[0].start"
    ]
