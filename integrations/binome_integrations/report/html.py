"""The report as ONE self-contained HTML file: inline CSS, inline SVG charts, no URL at all.

The file holds the report in French and in English; ``language`` picks the one shown
first, and a button switches (a few lines of inline script; ``#fr`` or ``#en`` at the end
of the address opens that language). Without script, the first language stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from binome_integrations.report import charts
from binome_integrations.report.cards import Chart, Table
from binome_integrations.report.figures import histogram, summarise
from binome_integrations.report.followup_charts import follow_up_charts
from binome_integrations.report.model import MINIMUM_GROUP_SIZE, ProgrammeReport
from binome_integrations.report.texts import (
    LANGUAGES,
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


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyFigure:
    """A headline number."""

    label: str
    value: str
    note: str = ""
    tone: str = "neutral"


@dataclass(frozen=True, kw_only=True, slots=True)
class NotificationLine:
    """A notification kind with its count and its share of the largest kind (bar width)."""

    label: str
    count: str
    share: float


@dataclass(kw_only=True, slots=True)
class LanguageView:
    """Everything the page shows in one language."""

    language: Language
    page_title: str
    heading: str
    programme: str
    as_of: str
    switch_to: Language
    switch_text: str
    switch_label: str
    key_figures: list[KeyFigure]
    charts: list[Chart]
    unmatched_heading: str
    unmatched: Table | None
    none_unmatched: str
    notifications_heading: str
    notifications: list[NotificationLine]
    notifications_total: str
    notifications_total_label: str
    no_notifications: str
    show_delivery: bool
    """The run's dead letters and e-mail files are known (an operator's or the demo's report;
    the served report of one tenant has none: dead-letter topics are shared by all tenants)."""
    dead_letters_heading: str
    dead_letters_ok: bool
    dead_letters_text: str
    dead_letters: Table | None
    emails_heading: str
    emails_text: str
    emails_path: str | None
    data_table_label: str
    footer: str


def render_html(report: ProgrammeReport, language: Language = Language.FR) -> str:
    """The whole report page; ``language`` is shown first, the other one a click away."""
    ordered = [language, *(other for other in LANGUAGES if other != language)]
    views = [_view(report, view_language) for view_language in ordered]
    return _template().render(views=views, first=views[0])


def _template() -> Template:
    # Read from the package, so an installed wheel renders as well as a checkout.
    source = files("binome_integrations.report").joinpath("templates/report.html.j2")
    environment = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    return environment.from_string(source.read_text(encoding="utf-8"))


def _view(report: ProgrammeReport, language: Language) -> LanguageView:
    other = Language.EN if language == Language.FR else Language.FR
    programme = report.programme_name + (f" — {report.organisation}" if report.organisation else "")
    dead = report.dead_lettered_total
    return LanguageView(
        language=language,
        page_title=f"{label('report_title', language)} · {report.programme_name}",
        heading=label("report_title", language),
        programme=programme,
        as_of=f"{label('generated_at', language)} {timestamp(report.generated_at, language)}"
        f" · {report.programme_id}",
        switch_to=other,
        switch_text=label("switch_language", language),
        switch_label=label("switch_language_label", language),
        key_figures=_key_figures(report, language),
        charts=[
            _score_chart(report, language),
            _funnel_chart(report, language),
            _sessions_chart(report, language),
            _units_chart(report, language),
            *follow_up_charts(report, language),
        ],
        unmatched_heading=label("unmatched_title", language),
        unmatched=_unmatched_table(report, language),
        none_unmatched=label("none_unmatched", language),
        notifications_heading=label("notifications_title", language),
        notifications=_notification_lines(report, language),
        notifications_total=integer(report.notifications_total, language),
        notifications_total_label=label("total", language),
        no_notifications=label("no_notifications", language),
        show_delivery=bool(report.dead_letters) or report.emails_directory is not None,
        dead_letters_heading=label("dead_letters_title", language),
        dead_letters_ok=dead == 0,
        dead_letters_text=label("dead_letters_none", language)
        if dead == 0
        else label("dead_letters_some", language, count=integer(dead, language)),
        dead_letters=None
        if dead == 0
        else Table(
            caption=label("dead_letters_title", language),
            headers=[label("topic", language), label("count", language)],
            rows=[[entry.topic, integer(entry.count, language)] for entry in report.dead_letters],
            numeric=frozenset({1}),
        ),
        emails_heading=label("emails_title", language),
        emails_text=label(
            "emails_written",
            language,
            count=integer(report.emails_written, language),
            path="",
        ).strip()
        if report.emails_directory
        else label("emails_none", language),
        emails_path=report.emails_directory,
        data_table_label=label("data_table", language),
        footer=label("footer", language),
    )


def _key_figures(report: ProgrammeReport, language: Language) -> list[KeyFigure]:
    summary = summarise(report.pair_scores)
    enrolled = report.funnel.enrolled_mentees or 1
    return [
        KeyFigure(label=label("mentors", language), value=integer(report.mentors, language)),
        KeyFigure(label=label("mentees", language), value=integer(report.mentees, language)),
        KeyFigure(
            label=label("pairs_formed", language),
            value=integer(report.pairs_formed, language),
            note=label("median_score", language, median=decimal(summary.median, language))
            if summary
            else "",
            tone="accent",
        ),
        KeyFigure(
            label=label("unmatched", language),
            value=integer(report.unmatched_total, language),
            tone="warn" if report.unmatched_total else "good",
        ),
        KeyFigure(
            label=label("completed_pairs", language),
            value=integer(report.completed_pairs, language),
            # Completed pairs include those the programme's end closed; the share is of the
            # mentees who went through the whole plan, so the note says which.
            note=label(
                "plan_finished",
                language,
                count=integer(report.funnel.completed, language),
                share=percent(report.funnel.completed / enrolled, language),
            ),
            tone="good",
        ),
        KeyFigure(
            label=label("stalled_pairs", language),
            value=integer(report.stalled_pairs, language),
            note=labelled(
                label("active_pairs", language), integer(report.active_pairs, language), language
            ),
            tone="warn" if report.stalled_pairs else "neutral",
        ),
        KeyFigure(
            label=label("imposed_pairs", language),
            value=integer(report.imposed_pairs, language),
            note=label("imposed_note", language, count=integer(report.imposed_overrides, language))
            if report.imposed_overrides
            else "",
        ),
    ]


def _score_chart(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-scores"
    summary = summarise(report.pair_scores)
    caption = (
        label(
            "score_stats",
            language,
            minimum=decimal(summary.minimum, language),
            median=decimal(summary.median, language),
            mean=decimal(summary.mean, language),
            maximum=decimal(summary.maximum, language),
        )
        if summary
        else label("no_scores", language)
    )
    return Chart(
        chart_id=chart_id,
        heading=label("scores_title", language),
        svg=Markup(  # noqa: S704 - built by charts.py, which escapes every value
            charts.score_histogram(report.pair_scores, chart_id=chart_id, language=language)
        ),
        caption=caption,
        table=Table(
            caption=label("scores_title", language),
            headers=[label("score", language), label("pairs", language)],
            rows=[
                [
                    f"{decimal(item.low, language, 1)}–{decimal(item.high, language, 1)}",
                    integer(item.count, language),
                ]
                for item in histogram(report.pair_scores)
            ],
            numeric=frozenset({1}),
        ),
    )


def _funnel_chart(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-funnel"
    stages = report.funnel.stages()
    base = stages[0][1] or 1
    return Chart(
        chart_id=chart_id,
        heading=label("funnel_title", language),
        svg=Markup(  # noqa: S704 - built by charts.py, which escapes every value
            charts.funnel(report.funnel, chart_id=chart_id, language=language)
        ),
        caption=label("funnel_desc", language),
        table=Table(
            caption=label("funnel_title", language),
            headers=[
                label("stage", language),
                label("mentees", language),
                label("share", language),
            ],
            rows=[
                [
                    label(f"stage_{key}", language),
                    integer(value, language),
                    percent(value / base, language),
                ]
                for key, value in stages
            ],
            numeric=frozenset({1, 2}),
        ),
    )


def _sessions_chart(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-sessions"
    return Chart(
        chart_id=chart_id,
        heading=label("sessions_title", language),
        svg=Markup(  # noqa: S704 - built by charts.py, which escapes every value
            charts.sessions_per_month(
                report.sessions_by_month, chart_id=chart_id, language=language
            )
        ),
        caption=label("sessions_desc", language),
        table=Table(
            caption=label("sessions_title", language),
            headers=[
                label(key, language)
                for key in ("month", "held", "missed", "cancelled", "planned", "total")
            ],
            rows=[
                [
                    month(entry.month, language),
                    *(
                        integer(value, language)
                        for value in (
                            entry.held,
                            entry.missed,
                            entry.cancelled,
                            entry.planned,
                            entry.total,
                        )
                    ),
                ]
                for entry in report.sessions_by_month
            ],
            numeric=frozenset({1, 2, 3, 4, 5}),
        ),
        wide=True,
    )


def _units_chart(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-units"
    suppressed = label("suppressed", language, minimum=MINIMUM_GROUP_SIZE)
    rows: list[list[str]] = []
    muted: set[int] = set()
    for index, unit in enumerate(report.progress_by_business_unit):
        if unit.suppressed:
            rows.append([unit.business_unit, f"< {MINIMUM_GROUP_SIZE}", suppressed])
            muted.add(index)
            continue
        rating = unit.average_rating
        rows.append(
            [
                unit.business_unit,
                integer(unit.people or 0, language),
                integer(unit.pairs or 0, language),
                f"{integer(unit.sessions_held or 0, language)} / "
                f"{integer(unit.sessions_planned or 0, language)} "
                f"({percent(unit.held_ratio, language)})",
                percent(unit.completion_rate or 0.0, language),
                f"{decimal(rating, language, 1)} / 5"
                if rating is not None
                else label("no_rating", language),
            ]
        )
    return Chart(
        chart_id=chart_id,
        heading=label("units_title", language),
        svg=Markup(  # noqa: S704 - built by charts.py, which escapes every value
            charts.business_units(
                report.progress_by_business_unit, chart_id=chart_id, language=language
            )
        ),
        caption=label("units_desc", language, minimum=MINIMUM_GROUP_SIZE),
        table=Table(
            caption=label("units_title", language),
            headers=[
                label(key, language)
                for key in (
                    "business_unit",
                    "people",
                    "pairs",
                    "sessions_held_planned",
                    "completion_rate",
                    "average_rating",
                )
            ],
            rows=rows,
            numeric=frozenset({1, 2, 3, 4, 5}),
            muted_rows=frozenset(muted),
        ),
        table_open=True,
        wide=True,
    )


def _unmatched_table(report: ProgrammeReport, language: Language) -> Table | None:
    if not report.unmatched:
        return None
    return Table(
        caption=label("unmatched_title", language),
        headers=[label(key, language) for key in ("reason", "role", "count", "examples")],
        rows=[
            [
                group.reason.in_language(language),
                label(f"role_{group.role}", language)
                if group.role in {"mentor", "mentee"}
                else group.role,
                integer(group.count, language),
                ", ".join(group.examples),
            ]
            for group in sorted(report.unmatched, key=lambda group: -group.count)
        ],
        numeric=frozenset({2}),
    )


def _notification_lines(report: ProgrammeReport, language: Language) -> list[NotificationLine]:
    most = max((entry.count for entry in report.notifications_by_kind), default=0) or 1
    return [
        NotificationLine(
            label=kind_label(entry.kind, language),
            count=integer(entry.count, language),
            share=round(entry.count / most, 4),
        )
        for entry in sorted(report.notifications_by_kind, key=lambda entry: -entry.count)
    ]
