"""The report as a compact, aligned plain-text summary for a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from binome_integrations.report.figures import histogram, summarise
from binome_integrations.report.model import MINIMUM_GROUP_SIZE, ProgrammeReport
from binome_integrations.report.texts import (
    decimal,
    integer,
    kind_label,
    label,
    labelled,
    month,
    percent,
    timestamp,
)
from binome_shared.contracts.values import Language

BAR_WIDTH = 24
SPARK = " ▁▂▃▄▅▆▇█"
INDENT = "  "


def render_terminal(report: ProgrammeReport, language: Language = Language.FR) -> str:
    """A summary of ``report`` in ``language`` (``fr`` or ``en``), about 40–60 lines."""
    sections = [
        _heading(report, language),
        _overview(report, language),
        _unmatched(report, language),
        _funnel(report, language),
        _sessions(report, language),
        _units(report, language),
        _notifications(report, language),
        _delivery(report, language),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _table(rows: Sequence[Sequence[str]], *, right: frozenset[int] = frozenset()) -> list[str]:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return [
        INDENT
        + "  ".join(
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _title(text: str) -> str:
    return f"{text}\n{'─' * len(text)}"


def _heading(report: ProgrammeReport, language: Language) -> str:
    name = report.programme_name
    if report.organisation:
        name += f" — {report.organisation}"
    title = f"{label('report_title', language)} · {name}"
    moment = f"{label('generated_at', language)} {timestamp(report.generated_at, language)}"
    return f"{title}\n{'═' * len(title)}\n{moment} · {report.programme_id}"


def _overview(report: ProgrammeReport, language: Language) -> str:
    summary = summarise(report.pair_scores)
    if summary is None:
        score_text = label("no_scores", language)
        spark = ""
    else:
        score_text = label(
            "score_stats",
            language,
            minimum=decimal(summary.minimum, language),
            median=decimal(summary.median, language),
            mean=decimal(summary.mean, language),
            maximum=decimal(summary.maximum, language),
        )
        bins = histogram(report.pair_scores)
        peak = max(item.count for item in bins) or 1
        bars = "".join(SPARK[round(item.count / peak * (len(SPARK) - 1))] for item in bins)
        spark = f"0 ▕{bars}▏ 1"
    rows = [
        [label("mentors", language), integer(report.mentors, language)],
        [label("mentees", language), integer(report.mentees, language)],
        [label("pairs_formed", language), integer(report.pairs_formed, language)],
        [label("unmatched", language), integer(report.unmatched_total, language)],
        [label("active_pairs", language), integer(report.active_pairs, language)],
        [label("stalled_pairs", language), integer(report.stalled_pairs, language)],
        [label("completed_pairs", language), integer(report.completed_pairs, language)],
    ]
    lines = [_title(label("overview_title", language)), *_table(rows, right=frozenset({1}))]
    lines.append(INDENT + labelled(label("score", language), score_text, language))
    if spark:
        lines.append(f"{INDENT}{spark}")
    return "\n".join(lines)


def _unmatched(report: ProgrammeReport, language: Language) -> str:
    title = _title(label("unmatched_title", language))
    if not report.unmatched:
        return f"{title}\n{INDENT}{label('none_unmatched', language)}"
    groups = sorted(report.unmatched, key=lambda group: -group.count)
    rows = [
        [
            integer(group.count, language),
            _role(group.role, language),
            group.reason.in_language(language),
        ]
        for group in groups
    ]
    lines = [title]
    count_width = max(len(row[0]) for row in rows) + len(INDENT) + 2
    for line, group in zip(_table(rows, right=frozenset({0})), groups, strict=True):
        lines.append(line)
        if group.examples:
            examples = ", ".join(group.examples[:3])
            lines.append(
                " " * count_width + labelled(label("examples", language), examples, language)
            )
    return "\n".join(lines)


def _role(role: str, language: Language) -> str:
    return label(f"role_{role}", language) if role in {"mentor", "mentee"} else role


def _funnel(report: ProgrammeReport, language: Language) -> str:
    stages = report.funnel.stages()
    base = stages[0][1] or 1
    rows = [
        [
            label(f"stage_{key}", language),
            integer(value, language),
            percent(value / base, language),
            "█" * round(value / base * BAR_WIDTH),
        ]
        for key, value in stages
    ]
    return "\n".join(
        [_title(label("funnel_title", language)), *_table(rows, right=frozenset({1, 2}))]
    )


def _sessions(report: ProgrammeReport, language: Language) -> str:
    title = _title(label("sessions_title", language))
    if not report.sessions_by_month:
        return f"{title}\n{INDENT}{label('no_sessions', language)}"
    header = [
        label(key, language) for key in ("month", "held", "missed", "cancelled", "planned", "total")
    ]
    rows = [header] + [
        [
            month(entry.month, language),
            *(
                integer(value, language)
                for value in (entry.held, entry.missed, entry.cancelled, entry.planned, entry.total)
            ),
        ]
        for entry in report.sessions_by_month
    ]
    return "\n".join([title, *_table(rows, right=frozenset({1, 2, 3, 4, 5}))])


def _units(report: ProgrammeReport, language: Language) -> str:
    if not report.progress_by_business_unit:
        return ""
    keys = ("business_unit", "people", "held", "in_plan", "held_share", "completion", "rating")
    rows = [[label(key, language) for key in keys]]
    for unit in report.progress_by_business_unit:
        if unit.suppressed:
            rows.append([unit.business_unit, f"< {MINIMUM_GROUP_SIZE}", "", "", "", "", ""])
            continue
        rating = unit.average_rating
        rows.append(
            [
                unit.business_unit,
                integer(unit.people or 0, language),
                integer(unit.sessions_held or 0, language),
                integer(unit.sessions_planned or 0, language),
                percent(unit.held_ratio, language),
                percent(unit.completion_rate or 0.0, language),
                decimal(rating, language, 1)
                if rating is not None
                else label("no_rating", language),
            ]
        )
    lines = _table(rows, right=frozenset(range(1, len(keys))))
    suppressed = label("suppressed", language, minimum=MINIMUM_GROUP_SIZE)
    for index, unit in enumerate(report.progress_by_business_unit, start=1):
        if unit.suppressed:
            # The figures' columns stay empty; the reason takes their place.
            lines[index] = f"{lines[index]}  {suppressed}"
    return "\n".join([_title(label("units_title", language)), *lines])


def _notifications(report: ProgrammeReport, language: Language) -> str:
    title = _title(label("notifications_title", language))
    if not report.notifications_by_kind:
        return f"{title}\n{INDENT}{label('no_notifications', language)}"
    rows = [
        [kind_label(entry.kind, language), integer(entry.count, language)]
        for entry in report.notifications_by_kind
    ]
    rows.append([label("total", language), integer(report.notifications_total, language)])
    return "\n".join([title, *_table(rows, right=frozenset({1}))])


def _delivery(report: ProgrammeReport, language: Language) -> str:
    dead = report.dead_lettered_total
    lines: list[str] = [
        _title(label("dead_letters_title", language)),
        INDENT
        + (
            "✓ " + label("dead_letters_none", language)
            if dead == 0
            else "✗ " + label("dead_letters_some", language, count=integer(dead, language))
        ),
    ]
    if dead:
        rows = [
            [entry.topic, integer(entry.count, language)]
            for entry in report.dead_letters
            if entry.count
        ]
        lines.extend(_table(rows, right=frozenset({1})))
    lines.append("")
    lines.append(_title(label("emails_title", language)))
    lines.append(
        INDENT
        + (
            label(
                "emails_written",
                language,
                count=integer(report.emails_written, language),
                path=report.emails_directory,
            )
            if report.emails_directory
            else label("emails_none", language)
        )
    )
    return "\n".join(lines)
