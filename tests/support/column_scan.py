"""Searching every text, JSON and byte column of the services' schemas for given strings.

The columns come from ``information_schema`` (so a table added later is scanned too); each
value is searched case-insensitively: ``text``/``varchar``/``char`` as they are, ``json``/
``jsonb``/arrays as their text, ``bytea`` as its ``escape`` encoding (ASCII kept as is, so an
ASCII needle is found in UTF-8 JSON bytes whichever way the writer escaped other characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

SCHEMAS = ("pairing", "sessions", "notifications")
_TEXTUAL = {"text", "character varying", "character", "json", "jsonb", "xml", "bytea"}
_TEXTUAL_ARRAYS = {"_text", "_varchar", "_bpchar", "_json", "_jsonb"}

_COLUMNS = """
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.udt_name
FROM information_schema.columns AS c
JOIN information_schema.tables AS t USING (table_schema, table_name)
WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'
ORDER BY 1, 2, c.ordinal_position
"""


@dataclass(frozen=True)
class Column:
    schema: str
    table: str
    name: str
    data_type: str

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}.{self.name}"

    @property
    def as_text(self) -> str:
        quoted = f'"{self.name}"'
        if self.data_type == "bytea":
            return f"encode({quoted}, 'escape')"
        return f"{quoted}::text"


@dataclass(frozen=True)
class Finding:
    column: Column
    needle: str
    rows: int
    sample: str

    def __str__(self) -> str:
        return f"{self.column.label} holds {self.needle!r} in {self.rows} row(s): …{self.sample}…"


async def textual_columns(
    conn: asyncpg.Connection, schemas: Sequence[str] = SCHEMAS
) -> list[Column]:
    return [
        Column(row["table_schema"], row["table_name"], row["column_name"], row["data_type"])
        for row in await conn.fetch(_COLUMNS, list(schemas))
        if row["data_type"] in _TEXTUAL
        or (row["data_type"] == "ARRAY" and row["udt_name"] in _TEXTUAL_ARRAYS)
    ]


async def scan(
    dsn: str, needles: Sequence[str], schemas: Sequence[str] = SCHEMAS
) -> tuple[list[Column], list[Finding]]:
    """Every column scanned, and every (column, needle) with at least one row holding it."""
    conn = await asyncpg.connect(dsn)
    try:
        columns = await textual_columns(conn, schemas)
        findings: list[Finding] = []
        for column in columns:
            # Names come from information_schema; the needles are parameters.
            value = column.as_text
            found_at = f"greatest(strpos(lower({value}), lower(needle)) - 60, 1)"
            query = (
                f"SELECT needle, count(*) AS rows,"
                f" min(substring({value} FROM {found_at} FOR 200)) AS sample"
                f' FROM "{column.schema}"."{column.table}", unnest($1::text[]) AS needle'
                f" WHERE strpos(lower({value}), lower(needle)) > 0 GROUP BY needle"
            )
            for row in await conn.fetch(query, list(needles)):
                findings.append(Finding(column, row["needle"], row["rows"], row["sample"]))
        return columns, findings
    finally:
        await conn.close()
