"""The published contracts, read by the tools HR platforms use: the official AsyncAPI parser
and Ajv (strict mode, ajv-formats), run by ``tools/contract-check`` under node; and the
CloudEvents SDK on the records Binôme writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event

from binome_shared.contracts.catalogue import CATALOGUE
from tests.unit.contracts.contract_samples import DOCS, published_schemas, samples

pytestmark = pytest.mark.unit

TOOL = DOCS.parent / "tools" / "contract-check"


def _node() -> str:
    """node, with the tool's packages installed; CI must have both, a laptop may skip."""
    node = shutil.which("node")
    installed = (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir()
    if node and installed:
        return node
    missing = "node" if not node else f"{TOOL}/node_modules (run `npm ci` there)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} is required in CI: .ci/run and `make install` install it")
    pytest.skip(f"{missing} not found: `make install` sets it up")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    records = tmp_path_factory.mktemp("contracts") / "records.json"
    records.write_text(
        json.dumps([{"dataschema": s.dataschema, "data": s.body} for s in samples()])
    )
    completed = subprocess.run(
        [_node(), str(TOOL / "check.mjs"), "--docs", str(DOCS), "--records", str(records)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.stdout, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    result["exit"] = completed.returncode
    return result


def test_the_official_asyncapi_parser_reads_every_document_without_a_diagnostic(
    report: dict[str, Any],
) -> None:
    documents = report["asyncapi"]
    assert {Path(path).name for path in documents} == {
        "pairing.json",
        "sessions.json",
        "notifications.json",
    }
    assert {path: r for path, r in documents.items() if r["errors"] or r["warnings"]} == {}


def test_ajv_strict_compiles_every_schema_and_accepts_examples_and_real_records(
    report: dict[str, Any],
) -> None:
    schemas = report["schemas"]
    assert schemas["compileErrors"] == []
    assert schemas["compiled"] == len(published_schemas()) == len(list(CATALOGUE))
    assert schemas["exampleFailures"] == []
    assert schemas["examples"] >= 150
    assert schemas["recordFailures"] == []
    assert schemas["records"] == len(samples())
    assert report["exit"] == 0


def test_the_cloudevents_sdk_reads_every_record_with_its_dataschema_and_key() -> None:
    by_type = {message.message_type: message for message in CATALOGUE}
    for sample in samples():
        record = sample.record
        event = from_binary_event(
            KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
        )
        message = by_type[event.get_type()]
        assert event.get_dataschema() == sample.dataschema
        assert event.get_dataschema() in published_schemas()
        assert event.get_extension("schemaversion") == str(message.schema_version)
        key_field = message.key_field
        expected_key = sample.body[key_field] if key_field else event.get_extension("programmeid")
        assert record.key == str(expected_key).encode()
        assert event.get_data() == sample.body
