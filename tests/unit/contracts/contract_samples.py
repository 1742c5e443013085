"""Records as Binôme puts them on Kafka: envelopes from the tests' factories and the demo's
cohort, encoded by the production encoder; and the schemas they claim to follow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from binome_devstack.demo_cohort import SIZES, demo_cohort, programme_definition
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.hr_commands import EnrolParticipant, RecordReportingLines
from binome_shared.contracts.privacy_events import ErasingService, ErasureCompleted
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from tests.support.programmes import hr_command
from tests.unit.notifications import notifications_factories as make

DOCS = Path(__file__).resolve().parents[3] / "docs"
SCHEMAS = DOCS / "schemas" / "messages"
STARTS_ON = date(2027, 1, 11)


@dataclass(frozen=True)
class Sample:
    """One encoded record and what a consumer reads from it."""

    record: KafkaRecord

    @property
    def headers(self) -> dict[str, bytes]:
        return dict(self.record.headers)

    @property
    def dataschema(self) -> str:
        return self.headers["ce_dataschema"].decode()

    @property
    def body(self) -> Any:
        return json.loads(self.record.value)


def _demo_run() -> list[Envelope[Any]]:
    """The committee demo's HR commands: the programme, 35 enrolments, reporting lines."""
    size = SIZES["committee"]
    cohort = demo_cohort(size, seed=7, starts_on=STARTS_ON)
    programme = "prog-demo"
    commands: list[Any] = [programme_definition(cohort, size=size)]
    commands += [EnrolParticipant(participant=person) for person in cohort.participants]
    if cohort.reporting_lines:
        commands.append(RecordReportingLines(lines=cohort.reporting_lines))
    return [hr_command(command, programme_id=programme) for command in commands]


def _service_events() -> list[Envelope[Any]]:
    """What pairing, sessions and notifications read and write, from the tests' factories."""
    start = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    return [
        make.define_programme(),
        *make.enrol_pair(),
        make.erase(make.MENTEE),
        _erasure_proof(make.erase(make.MENTEE)),
        make.pair_formed(),
        make.matching_completed(),
        make.matching_completed("round-2", preview=True),
        make.session_scheduled(starts_at=start),
        make.session_rescheduled(previous=start, starts_at=start + timedelta(days=2)),
        make.session_cancelled(),
        make.session_completed(),
        make.pair_fit_concern_raised(),
        make.progress_reported(),
    ]


def _erasure_proof(erasure: Envelope[Any]) -> Envelope[Any]:
    proof = ErasureCompleted(
        participant_id=erasure.data.participant_id,
        service=ErasingService.NOTIFICATIONS,
        erased_at=erasure.time,
        already_erased=False,
        erased={"addresses": 1, "deliveries": 3},
    )
    return erasure.caused(proof, source="/binome/notifications", time=erasure.time)


@cache
def samples() -> tuple[Sample, ...]:
    """Every sample record, encoded once."""
    envelopes = [*_demo_run(), *_service_events()]
    return tuple(Sample(encode(envelope, topic=envelope.data.topic.name)) for envelope in envelopes)


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every committed message schema, by its ``$id``."""
    schemas = [json.loads(path.read_text()) for path in sorted(SCHEMAS.glob("*.json"))]
    return {schema["$id"]: schema for schema in schemas}


def examples_of(schema: Any, pointer: str = "") -> list[tuple[str, list[Any]]]:
    """Each (JSON pointer, examples) pair written anywhere in a schema."""
    if isinstance(schema, list):
        return [
            found for i, item in enumerate(schema) for found in examples_of(item, f"{pointer}/{i}")
        ]
    if not isinstance(schema, dict):
        return []
    found: list[tuple[str, list[Any]]] = []
    for key, value in schema.items():
        if key == "examples" and isinstance(value, list):
            found.append((pointer, value))
        elif key not in {"const", "default", "enum", "examples"}:
            escaped = key.replace("~", "~0").replace("/", "~1")
            found += examples_of(value, f"{pointer}/{escaped}")
    return found
