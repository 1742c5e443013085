"""The page's chart cards: a chart with its caption and its data table (what the template
shows for every chart)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup


@dataclass(frozen=True, kw_only=True, slots=True)
class Table:
    """A data table: the accessible (and exact) form of a chart or a list."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    muted_rows: frozenset[int] = frozenset()


@dataclass(frozen=True, kw_only=True, slots=True)
class Chart:
    """A chart card: heading, the SVG, a caption, and its data table."""

    chart_id: str
    heading: str
    svg: Markup
    caption: str
    table: Table
    table_open: bool = False
    wide: bool = False
