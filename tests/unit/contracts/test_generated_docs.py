"""Generated documents in docs/ are never stale, and each is what the code says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from binome_devstack.generators.docs_cli import generated_documents
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.messaging.cloudevents import dataschema_uri

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_committed_generated_docs_match_the_code() -> None:
    stale = [
        path
        for path, content in generated_documents().items()
        if not (DOCS / path).exists() or (DOCS / path).read_text() != content
    ]
    assert stale == [], f"run `binome-docs generate` and commit: {stale}"


def test_every_message_of_the_catalogue_has_a_schema_and_a_place_in_the_catalogue() -> None:
    catalogue = (DOCS / "events.md").read_text()
    for message in CATALOGUE:
        schema_file = (
            DOCS
            / "schemas"
            / "messages"
            / f"{message.message_type}.v{message.schema_version.major}.json"
        )
        schema = json.loads(schema_file.read_text())
        assert schema["$id"] == dataschema_uri(message.message_type, message.schema_version.major)
        assert f"`{message.message_type}`" in catalogue


def test_each_service_asyncapi_document_lists_what_it_reads_and_writes() -> None:
    pairing = json.loads((DOCS / "asyncapi" / "pairing.json").read_text())
    sessions = json.loads((DOCS / "asyncapi" / "sessions.json").read_text())
    assert pairing["asyncapi"] == "3.1.0"
    sent = [op for op in pairing["operations"].values() if op["action"] == "send"]
    assert any("PairFormedV1" in ref["$ref"] for op in sent for ref in op["messages"])
    received = [op for op in sessions["operations"].values() if op["action"] == "receive"]
    assert any("PairFormedV1" in ref["$ref"] for op in received for ref in op["messages"])
    headers = sessions["components"]["schemas"]["CloudEventsHeaders"]
    assert {"ce_id", "ce_type", "ce_source", "ce_tenantid"} <= set(headers["required"])
