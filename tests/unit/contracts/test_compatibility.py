"""Every message version ever committed stays readable; minor versions only add optional fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from binome_shared.contracts.base import SchemaVersion
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.docs.json_schema import message_json_schema

pytestmark = pytest.mark.unit

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "messages"
COMMITTED = sorted(SCHEMAS.glob("*.json"))
COMMITTED_VERSIONS: dict[str, dict[str, str]] = {
    entry["dataschema"]: entry
    for entry in json.loads((SCHEMAS.parent / "catalogue.json").read_text())["messages"]
}


def committed_identity(schema: dict[str, Any]) -> tuple[str, SchemaVersion]:
    """The type and version a committed schema was written for, from the committed index;
    a schema the index no longer lists (its major was dropped) stands for its ``.0``."""
    entry = COMMITTED_VERSIONS.get(schema["$id"])
    if entry is not None:
        return entry["type"], SchemaVersion.parse(entry["version"])
    message_type, _, major = schema["$id"].rsplit("/", 1)[-1].removesuffix(".json").rpartition(".v")
    return message_type, SchemaVersion.parse(major)


def test_there_are_committed_schemas_to_check() -> None:
    assert len(COMMITTED) >= len(list(CATALOGUE))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_a_committed_version_is_still_readable_and_only_grew(path: Path) -> None:
    committed: dict[str, Any] = json.loads(path.read_text())
    message_type, version = committed_identity(committed)
    reader = CATALOGUE.reader_for(message_type, version)
    current = message_json_schema(reader)
    lost = set(committed.get("properties", {})) - set(current.get("properties", {}))
    assert not lost, f"{path.stem}: fields removed within major {version.major}: {lost}"
    newly_required = set(current.get("required", [])) - set(committed.get("required", []))
    assert not newly_required, f"{path.stem}: fields became required: {newly_required}"
    assert reader.schema_version.minor >= version.minor
