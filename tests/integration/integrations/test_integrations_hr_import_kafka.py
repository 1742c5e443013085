"""The HR import against the real local Kafka: a file with one bad row enrols the good rows
on this test's own ``binome.hr.commands``, as CloudEvents records keyed by programme."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from binome_devstack.cohort_generator import generate_cohort
from binome_integrations.participants_csv import write_participants_csv
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.topics import HR_COMMANDS
from binome_shared.messaging.cloudevents import decode
from tests.support.platform import REPO_ROOT, Kafka, received
from tests.support.spans import trace_id_of

pytestmark = pytest.mark.integration


async def test_import_sends_good_rows_and_reports_the_bad_one(
    kafka: Kafka, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    cohort = generate_cohort(mentees=3, mentors=3, seed=11)
    export = tmp_path / "export.csv"
    write_participants_csv(cohort.participants, export)
    lines = export.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("@groupe.example", "")
    export.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    refused_id = cohort.participants[1].participant_id

    completed = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "binome_integrations.hr_import",
            str(export),
            "--programme-id",
            "prog-import",
            "--tenant-id",
            "groupe-exemple",
            "--language",
            "en",
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "BINOME_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "BINOME_TOPIC_PREFIX": topic_prefix,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"line 3  {refused_id}  " in completed.stdout
    assert f"5 EnrolParticipant command(s) sent to {topic_prefix}binome.hr.commands" in (
        completed.stdout
    )
    records = await kafka.read_all(HR_COMMANDS.full_name(topic_prefix), expect=5)
    assert len(records) == 5
    assert {record.key for record in records} == {b"prog-import"}
    assert len({record.partition for record in records}) == 1, "one key, one partition"
    records.sort(key=lambda record: record.offset)
    envelopes = [decode(received(record), CATALOGUE) for record in records]
    sent = [profile for profile in cohort.participants if profile.participant_id != refused_id]
    assert [envelope.data for envelope in envelopes] == [
        EnrolParticipant(participant=profile) for profile in sent
    ]
    headers = dict(records[0].headers)
    assert headers["ce_type"] == b"binome.hr.enrol-participant"
    assert headers["ce_source"] == b"/hr/csv-import"
    assert headers["ce_tenantid"] == b"groupe-exemple"
    assert headers["ce_programmeid"] == b"prog-import"
    assert headers["ce_subject"] == sent[0].participant_id.encode()
    assert {envelope.correlation_id for envelope in envelopes} == {envelopes[0].id}
    # The import's own send span: every command carries its context, so the services'
    # spans of one import make one trace.
    assert {trace_id_of(record.headers) for record in records} == {trace_id_of(records[0].headers)}
    assert trace_id_of(records[0].headers) != 0
