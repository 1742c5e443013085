"""The report's charts as inline SVG, drawn in Python: no script, no font, no network.

Every chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``;
every mark carries a ``<title>`` (a tooltip, read by screen readers) with its exact figure;
the page puts a data table next to each chart for those who cannot see it.
Colours come from CSS classes (``c-held``…) so the page's stylesheet owns the palette.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

from binome_integrations.report.figures import histogram, summarise
from binome_integrations.report.model import (
    MINIMUM_GROUP_SIZE,
    BusinessUnitProgress,
    ProgrammeFunnel,
    SessionsMonth,
)
from binome_integrations.report.texts import (
    decimal,
    integer,
    label,
    labelled,
    percent,
    short_month,
)
from binome_shared.contracts.values import Language

SESSION_PARTS: tuple[str, ...] = ("held", "missed", "cancelled", "planned")


def element(tag: str, attributes: dict[str, object] | None = None, *children: str) -> str:
    """An SVG element; attribute values are escaped, children are inserted as given."""
    attrs = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(_number(value))}"'
        for name, value in (attributes or {}).items()
        if value is not None
    )
    if not children:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


def text(content: str, **attributes: object) -> str:
    """A ``<text>`` element with escaped content."""
    return element("text", attributes, escape(content))


def tooltip(content: str) -> str:
    """A ``<title>`` child: the exact figure, for hover and for screen readers."""
    return element("title", None, escape(content))


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def svg_chart(
    *,
    chart_id: str,
    width: float,
    height: float,
    title: str,
    description: str,
    body: Iterable[str],
) -> str:
    return element(
        "svg",
        {
            "id": chart_id,
            "class_": "chart",
            "viewBox": f"0 0 {_number(width)} {_number(height)}",
            "role": "img",
            "aria_labelledby": f"{chart_id}-title {chart_id}-desc",
            "preserveAspectRatio": "xMidYMid meet",
        },
        element("title", {"id": f"{chart_id}-title"}, escape(title)),
        element("desc", {"id": f"{chart_id}-desc"}, escape(description)),
        *body,
    )


def nice_ceiling(value: int) -> tuple[int, int]:
    """A round axis maximum at or above ``value`` and its tick step (about 4–5 ticks)."""
    if value <= 0:
        return 1, 1
    rough = value / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= rough)
    step_int = max(1, math.ceil(step))
    return step_int * math.ceil(value / step_int), step_int


def y_axis(
    *, top: float, bottom: float, left: float, right: float, maximum: int, step: int, lang: Language
) -> list[str]:
    parts: list[str] = []
    for tick in range(0, maximum + 1, step):
        y = bottom - (bottom - top) * tick / maximum
        parts.append(element("line", {"x1": left, "x2": right, "y1": y, "y2": y, "class_": "grid"}))
        parts.append(
            text(integer(tick, lang), x=left - 8, y=y + 4, text_anchor="end", class_="tick")
        )
    return parts


def score_histogram(
    scores: Sequence[float], *, chart_id: str, language: Language, width: float = 560
) -> str:
    """Vertical bars: how many formed pairs fall in each tenth of the 0–1 score range."""
    bins = histogram(scores)
    height, top, bottom, left, right = 300, 24, 252, 48, width - 12
    maximum, step = nice_ceiling(max((item.count for item in bins), default=0))
    slot = (right - left) / len(bins)
    body = y_axis(
        top=top, bottom=bottom, left=left, right=right, maximum=maximum, step=step, lang=language
    )
    for index, item in enumerate(bins):
        bar_height = (bottom - top) * item.count / maximum
        x = left + index * slot + 4
        span = f"{decimal(item.low, language, 1)}–{decimal(item.high, language, 1)}"
        body.append(
            element(
                "rect",
                {
                    "x": x,
                    "y": bottom - bar_height,
                    "width": slot - 8,
                    "height": bar_height,
                    "rx": 3,
                    "class_": "c-score",
                    "data_count": item.count,
                },
                tooltip(labelled(span, str(item.count), language)),
            )
        )
        if item.count:
            body.append(
                text(
                    integer(item.count, language),
                    x=x + (slot - 8) / 2,
                    y=bottom - bar_height - 6,
                    text_anchor="middle",
                    class_="value",
                )
            )
    for index in range(len(bins) + 1):
        body.append(
            text(
                decimal(index / len(bins), language, 1),
                x=left + index * slot,
                y=bottom + 20,
                text_anchor="middle",
                class_="tick",
            )
        )
    body.append(
        text(
            label("score", language),
            x=(left + right) / 2,
            y=height - 6,
            class_="axis-label",
            text_anchor="middle",
        )
    )
    summary = summarise(scores)
    median = summary.median if summary else 0.0
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("scores_title", language),
        description=label(
            "scores_desc",
            language,
            count=integer(len(scores), language),
            median=decimal(median, language),
        ),
        body=body,
    )


def funnel(
    stages: ProgrammeFunnel, *, chart_id: str, language: Language, width: float = 560
) -> str:
    """Centred horizontal bars narrowing from enrolment to completion."""
    steps = stages.stages()
    row, top, label_width, value_width = 56, 8, 150, 112
    height = top * 2 + row * len(steps)
    track = width - label_width - value_width
    base = steps[0][1] or 1
    body: list[str] = []
    for index, (key, value) in enumerate(steps):
        y = top + index * row
        bar_width = max(track * value / base, 2.0 if value else 0.0)
        x = label_width + (track - bar_width) / 2
        stage = label(f"stage_{key}", language)
        share = percent(value / base, language)
        body.append(
            text(stage, x=label_width - 12, y=y + row / 2 + 5, text_anchor="end", class_="label")
        )
        body.append(
            element(
                "rect",
                {
                    "x": x,
                    "y": y + 6,
                    "width": bar_width,
                    "height": row - 12,
                    "rx": 5,
                    "class_": f"c-funnel-{index}",
                    "data_count": value,
                },
                tooltip(labelled(stage, f"{value} ({share})", language)),
            )
        )
        body.append(
            text(
                f"{integer(value, language)}  ·  {share}",
                x=label_width + track + 12,
                y=y + row / 2 + 5,
                class_="value",
            )
        )
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("funnel_title", language),
        description=label("funnel_desc", language),
        body=body,
    )


def sessions_per_month(
    months: Sequence[SessionsMonth], *, chart_id: str, language: Language, width: float = 1000
) -> str:
    """Stacked columns per month: held, missed, cancelled, then planned on top."""
    height, top, bottom, left, right = 330, 48, 290, 56, width - 16
    maximum, step = nice_ceiling(max((entry.total for entry in months), default=0))
    body = legend(SESSION_PARTS, language=language, x=left, y=18)
    body += y_axis(
        top=top, bottom=bottom, left=left, right=right, maximum=maximum, step=step, lang=language
    )
    bar, lefts = column_slots(len(months), left=left, right=right)
    for entry, x in zip(months, lefts, strict=True):
        parts = [
            (part, value, label(part, language))
            for part in SESSION_PARTS
            if (value := int(getattr(entry, part)))
        ]
        y = stack_column(
            body,
            parts,
            x=x,
            bar=bar,
            span=(top, bottom),
            maximum=maximum,
            name=short_month(entry.month, language),
            language=language,
        )
        body.append(
            text(
                integer(entry.total, language),
                x=x + bar / 2,
                y=y - 6,
                text_anchor="middle",
                class_="value",
            )
        )
        body.append(
            text(
                short_month(entry.month, language),
                x=x + bar / 2,
                y=bottom + 20,
                text_anchor="middle",
                class_="tick",
            )
        )
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("sessions_title", language),
        description=label("sessions_desc", language),
        body=body,
    )


def column_slots(count: int, *, left: float, right: float) -> tuple[float, list[float]]:
    """``count`` columns spread evenly between ``left`` and ``right``: the width of each bar
    and the left edge of each, in order."""
    slot = (right - left) / max(count, 1)
    bar = min(slot * 0.6, 72)
    return bar, [left + index * slot + (slot - bar) / 2 for index in range(count)]


def stack_column(
    body: list[str],
    parts: Sequence[tuple[str, int, str]],
    *,
    x: float,
    bar: float,
    span: tuple[float, float],
    maximum: int,
    name: str,
    language: Language,
) -> float:
    """Draw one stacked column of ``(part, value, caption)`` from the axis up into ``body``
    (each part a rect with its count and a tooltip); the y of its top."""
    top, bottom = span
    y = float(bottom)
    for part, value, caption in parts:
        part_height = (bottom - top) * value / maximum
        y -= part_height
        body.append(
            element(
                "rect",
                {
                    "x": x,
                    "y": y,
                    "width": bar,
                    "height": part_height,
                    "data_count": value,
                    "class_": f"c-{part}",
                },
                tooltip(labelled(f"{name} — {caption}", value, language)),
            )
        )
    return y


def legend(parts: Sequence[str], *, language: Language, x: float, y: float) -> list[str]:
    body: list[str] = []
    cursor = x
    for part in parts:
        name = label(part, language)
        body.append(
            element(
                "rect",
                {
                    "x": cursor,
                    "y": y - 11,
                    "width": 14,
                    "height": 14,
                    "rx": 3,
                    "class_": f"c-{part}",
                },
            )
        )
        body.append(text(name, x=cursor + 20, y=y + 1, class_="legend"))
        cursor += 20 + 9 * len(name) + 28
    return body


def business_units(
    units: Sequence[BusinessUnitProgress],
    *,
    chart_id: str,
    language: Language,
    width: float = 1000,
) -> str:
    """Per unit, sessions held (filled) over sessions planned (track); small units hatched."""
    row, top, label_width, value_width = 40, 44, 230, 170
    height = top + row * len(units) + 8
    track = width - label_width - value_width
    most = max((unit.sessions_planned or 0 for unit in units), default=0) or 1
    body = [
        element(
            "defs",
            None,
            element(
                "pattern",
                {
                    "id": f"{chart_id}-hatch",
                    "width": 8,
                    "height": 8,
                    "patternUnits": "userSpaceOnUse",
                    "patternTransform": "rotate(45)",
                },
                element("rect", {"width": 8, "height": 8, "class_": "hatch-bg"}),
                element("line", {"x1": 0, "y1": 0, "x2": 0, "y2": 8, "class_": "hatch-line"}),
            ),
        ),
        *legend(("planned_track", "held"), language=language, x=label_width, y=18),
    ]
    for index, unit in enumerate(units):
        y = top + index * row
        middle = y + row / 2
        body.append(
            text(
                unit.business_unit,
                x=label_width - 12,
                y=middle + 5,
                text_anchor="end",
                class_="label",
            )
        )
        if unit.suppressed:
            note = label("suppressed", language, minimum=MINIMUM_GROUP_SIZE)
            body.append(
                element(
                    "rect",
                    {
                        "x": label_width,
                        "y": y + 8,
                        "width": track,
                        "height": row - 16,
                        "rx": 4,
                        "fill": f"url(#{chart_id}-hatch)",
                        "class_": "suppressed",
                    },
                    tooltip(note),
                )
            )
            body.append(text(note, x=label_width + 10, y=middle + 5, class_="suppressed-label"))
            continue
        planned = unit.sessions_planned or 0
        held = unit.sessions_held or 0
        planned_width = track * planned / most
        held_width = track * held / most
        summary = (
            f"{integer(held, language)} / {integer(planned, language)} · "
            f"{percent(unit.held_ratio, language)}"
        )
        body.append(
            element(
                "rect",
                {
                    "x": label_width,
                    "y": y + 8,
                    "width": planned_width,
                    "height": row - 16,
                    "rx": 4,
                    "class_": "c-planned_track",
                    "data_count": planned,
                },
                tooltip(
                    labelled(
                        f"{unit.business_unit} — {label('in_plan', language)}", planned, language
                    )
                ),
            )
        )
        body.append(
            element(
                "rect",
                {
                    "x": label_width,
                    "y": y + 8,
                    "width": held_width,
                    "height": row - 16,
                    "rx": 4,
                    "class_": "c-held",
                    "data_count": held,
                },
                tooltip(
                    labelled(f"{unit.business_unit} — {label('held', language)}", held, language)
                ),
            )
        )
        body.append(text(summary, x=label_width + track + 12, y=middle + 5, class_="value"))
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("units_title", language),
        description=label("units_desc", language, minimum=MINIMUM_GROUP_SIZE),
        body=body,
    )
