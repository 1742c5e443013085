"""What the HR import sends (CloudEvents records keyed by programme) and how the command
line reports and exits, without a broker (``--dry-run``, unreachable Kafka)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_integrations.hr_import import (
    EXIT_ALL_IMPORTED,
    EXIT_KAFKA_FAILED,
    EXIT_ROWS_REFUSED,
    EXIT_UNUSABLE_FILE,
    main,
)
from binome_integrations.hr_publishing import participant_records
from binome_integrations.language import default_language
from binome_integrations.participants_csv import write_participants_csv
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import EnrolParticipant, UpdateParticipant
from binome_shared.messaging.cloudevents import ReceivedRecord, decode

pytestmark = pytest.mark.unit

NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
COHORT = generate_cohort(mentees=4, mentors=5, seed=7)


def received(record: object) -> ReceivedRecord:
    return ReceivedRecord(
        topic=record.topic,  # type: ignore[attr-defined]
        partition=0,
        offset=0,
        key=record.key,  # type: ignore[attr-defined]
        value=record.value,  # type: ignore[attr-defined]
        headers=record.headers,  # type: ignore[attr-defined]
    )


def test_records_are_enrolments_keyed_by_programme_with_one_correlation() -> None:
    records = participant_records(
        COHORT.participants,
        programme_id="prog-2027",
        tenant_id="groupe-exemple",
        time=NOW,
        topic_prefix="acme.",
    )

    assert len(records) == 9
    assert {record.topic for record in records} == {"acme.binome.hr.commands"}
    assert {record.key for record in records} == {b"prog-2027"}
    envelopes = [decode(received(record), CATALOGUE) for record in records]
    assert [envelope.data.participant.participant_id for envelope in envelopes] == [  # type: ignore[attr-defined]
        profile.participant_id for profile in COHORT.participants
    ]
    assert all(isinstance(envelope.data, EnrolParticipant) for envelope in envelopes)
    assert len({envelope.id for envelope in envelopes}) == 9
    assert {envelope.correlation_id for envelope in envelopes} == {envelopes[0].id}
    first = envelopes[0]
    assert first.source == "/hr/csv-import"
    assert first.tenant_id == "groupe-exemple"
    assert first.programme_id == "prog-2027"
    assert first.time == NOW
    assert first.subject == COHORT.participants[0].participant_id
    assert first.data.participant == COHORT.participants[0]  # type: ignore[attr-defined]
    headers = dict(records[0].headers)
    assert headers["ce_type"] == b"binome.hr.enrol-participant"
    assert headers["ce_specversion"] == b"1.0"


def test_update_command_and_given_correlation() -> None:
    correlation = uuid.uuid4()
    records = participant_records(
        COHORT.participants[:2],
        programme_id="p",
        tenant_id="t",
        time=NOW,
        command="update",
        source="/hr/workday",
        correlation_id=correlation,
    )
    envelopes = [decode(received(record), CATALOGUE) for record in records]
    assert all(isinstance(envelope.data, UpdateParticipant) for envelope in envelopes)
    assert {envelope.correlation_id for envelope in envelopes} == {correlation}
    assert {envelope.source for envelope in envelopes} == {"/hr/workday"}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    write_participants_csv(COHORT.participants, path)
    return path


def test_dry_run_of_a_clean_file_exits_0(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(export), "--dry-run", "--language", "en"])
    out = capsys.readouterr().out
    assert code == EXIT_ALL_IMPORTED
    assert "9 data row(s), separator ';'" in out
    assert "9 valid participant(s)." in out
    assert "Dry run (--dry-run): nothing was sent." in out


def test_refused_rows_exit_1_and_are_listed_by_line(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = export.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("@groupe.example", "")
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = main([str(export), "--dry-run", "--language", "fr"])

    out = capsys.readouterr().out
    assert code == EXIT_ROWS_REFUSED
    assert "1 ligne(s) refusée(s) :" in out
    assert "ligne 4  M000002  email : «" in out
    assert "8 participant(s) valide(s)." in out


def test_json_output_lists_problems_in_both_languages(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = export.read_text(encoding="utf-8-sig").splitlines()
    lines.append(lines[1])
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = main([str(export), "--dry-run", "--json"])

    document = json.loads(capsys.readouterr().out)
    assert code == EXIT_ROWS_REFUSED
    assert document["accepted"] == 8
    assert document["refused_lines"] == [2, 11]
    assert document["problems"][0]["field"] == "participant_id"
    assert "none of lines 2, 11" in document["problems"][0]["message_en"]
    assert "aucune des lignes 2, 11" in document["problems"][0]["message_fr"]
    assert document["published"] == 0


def test_unusable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    assert main([str(path), "--dry-run", "--language", "en"]) == EXIT_UNUSABLE_FILE
    assert "Unusable file: the file is empty" in capsys.readouterr().err


def test_programme_and_tenant_are_required_to_send(export: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main([str(export), "--language", "en"])
    assert raised.value.code == 2


def test_unreachable_kafka_exits_3(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            str(export),
            "--programme-id",
            "p",
            "--tenant-id",
            "t",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--language",
            "en",
        ]
    )
    assert code == EXIT_KAFKA_FAILED
    assert "Kafka (127.0.0.1:1) did not take the commands" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"BINOME_LANG": "fr", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_default_language_follows_binome_lang_then_locale(
    environ: dict[str, str], expected: str
) -> None:
    assert default_language(environ) == expected


def test_contradictory_kafka_security_settings_exit_2_naming_them(
    export: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINOME_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")

    with pytest.raises(SystemExit) as exited:
        main([str(export), "--dry-run"])

    assert exited.value.code == 2
    assert "SASL_SSL needs BINOME_KAFKA_SASL_USERNAME" in capsys.readouterr().err
