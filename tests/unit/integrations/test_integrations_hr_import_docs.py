"""docs/hr-import.md stays true: its example file imports cleanly, and it leads to the column
reference generated from the parser, which documents every column and alias."""

from __future__ import annotations

import re

import pytest

from binome_integrations.participants_columns import COLUMNS
from binome_integrations.participants_csv import parse_participants_csv
from tests.support.platform import REPO_ROOT

pytestmark = pytest.mark.unit

DOC = (REPO_ROOT / "docs" / "hr-import.md").read_text(encoding="utf-8")
COLUMNS_DOC = (REPO_ROOT / "docs" / "hr-import-columns.md").read_text(encoding="utf-8")


def test_example_file_imports_without_a_problem() -> None:
    example = re.search(r"```csv\n(.*?)```", DOC, re.DOTALL)
    assert example is not None
    report = parse_participants_csv(example.group(1))
    assert report.problems == []
    assert [profile.participant_id for profile in report.accepted] == [
        "Y000101",
        "Y000102",
        "M000007",
        "M000008",
    ]
    assert report.accepted[3].full_name == "Lefèvre, Valérie"


def test_every_column_and_alias_is_documented() -> None:
    assert "(hr-import-columns.md)" in DOC
    table_rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in COLUMNS_DOC.splitlines()
        if line.startswith("| `")
    }
    assert len(table_rows) == len(COLUMNS)
    for column in COLUMNS:
        assert column.field in table_rows, column.field
        for alias in column.aliases:
            assert f"`{alias}`" in table_rows[column.field], (column.field, alias)
