"""The follow-up cards of the report: consent outcomes, pulse rounds, ratings by session.

Drawn like the other charts (:mod:`.charts`: inline SVG, a tooltip on every mark, a data
table beside each chart); a figure hidden by the small-group rule is drawn as a hatched,
labelled mark and its table cells say why.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from binome_integrations.report.cards import Chart, Table
from binome_integrations.report.charts import (
    column_slots,
    element,
    legend,
    nice_ceiling,
    stack_column,
    svg_chart,
    text,
    tooltip,
    y_axis,
)
from binome_integrations.report.model import (
    CONSENT_OUTCOMES,
    MINIMUM_GROUP_SIZE,
    ProgrammeReport,
    PulseRound,
    SessionRatings,
)
from binome_integrations.report.texts import decimal, integer, label, labelled
from binome_shared.contracts.values import Language

PULSE_PARTS: tuple[str, ...] = ("on_track", "need_help", "unanswered")
RATING_SCALE = 5


def follow_up_charts(report: ProgrammeReport, language: Language) -> list[Chart]:
    """The three follow-up cards, in the page's order."""
    return [
        _consent_card(report, language),
        _pulse_card(report, language),
        _ratings_card(report, language),
    ]


def _hidden(language: Language) -> str:
    return label("suppressed", language, minimum=MINIMUM_GROUP_SIZE)


def _figure(value: int | None, language: Language) -> str:
    return _hidden(language) if value is None else integer(value, language)


def consent_bars(report: ProgrammeReport, *, chart_id: str, language: Language) -> str:
    """One horizontal bar per outcome of the pairs asked to consent."""
    consent = report.consent
    row, top, label_width, width = 36, 12, 230, 1000
    track = width - label_width - 90
    height = top + row * len(CONSENT_OUTCOMES) + 8
    body: list[str] = []
    for index, outcome in enumerate(CONSENT_OUTCOMES):
        y = top + index * row
        value: int | None = getattr(consent, outcome)
        name = label(f"consent_{outcome}", language)
        body.append(text(name, x=label_width - 12, y=y + row / 2 + 5, text_anchor="end"))
        if value is None:
            body.append(text(_hidden(language), x=label_width, y=y + row / 2 + 5, class_="tick"))
            continue
        bar = track * value / max(consent.pairs_asked, 1)
        attributes = {"x": label_width, "y": y + 6, "width": bar, "height": row - 12}
        mark = element(
            "rect",
            {**attributes, "rx": 4, "class_": f"c-{outcome}", "data_count": value},
            tooltip(labelled(name, value, language)),
        )
        body += [mark, text(integer(value, language), x=label_width + bar + 8, y=y + row / 2 + 5)]
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("consent_title", language),
        description=label("consent_desc", language, asked=integer(consent.pairs_asked, language)),
        body=body,
    )


def pulse_columns(rounds: Sequence[PulseRound], *, chart_id: str, language: Language) -> str:
    """Stacked columns per round: members on track, needing help, not answering."""
    width, height, top, bottom, left = 1000, 320, 48, 282, 56
    right = width - 16
    maximum, step = nice_ceiling(max((entry.asked for entry in rounds), default=0))
    body = legend(PULSE_PARTS, language=language, x=left, y=18)
    body += y_axis(
        top=top, bottom=bottom, left=left, right=right, maximum=maximum, step=step, lang=language
    )
    bar, lefts = column_slots(len(rounds), left=left, right=right)
    for entry, x in zip(rounds, lefts, strict=True):
        name = label("pulse_round", language, number=entry.pulse_number)
        parts = _pulse_parts(entry)
        captioned = [
            (part, value, _hidden(language) if part == "suppressed" else label(part, language))
            for part, value in parts
        ]
        stack_column(
            body,
            captioned,
            x=x,
            bar=bar,
            span=(top, bottom),
            maximum=maximum,
            name=name,
            language=language,
        )
        body.append(text(name, x=x + bar / 2, y=bottom + 20, text_anchor="middle", class_="tick"))
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("pulse_title", language),
        description=label("pulse_desc", language, minimum=MINIMUM_GROUP_SIZE),
        body=body,
    )


def _pulse_parts(entry: PulseRound) -> list[tuple[str, int]]:
    if entry.suppressed or entry.answered is None:
        return [("suppressed", entry.asked)]
    return [
        ("on_track", entry.on_track or 0),
        ("need_help", entry.need_help or 0),
        ("unanswered", entry.asked - entry.answered),
    ]


def rating_columns(ratings: Sequence[SessionRatings], *, chart_id: str, language: Language) -> str:
    """One column per session number: the average rating (1–5) given after it."""
    width, height, top, bottom, left = 1000, 300, 24, 256, 56
    right = width - 16
    body = y_axis(
        top=top, bottom=bottom, left=left, right=right, maximum=RATING_SCALE, step=1, lang=language
    )
    bar, lefts = column_slots(len(ratings), left=left, right=right)
    for entry, x in zip(ratings, lefts, strict=True):
        name = label("session_number", language, number=entry.session_number)
        body.append(text(name, x=x + bar / 2, y=bottom + 20, text_anchor="middle", class_="tick"))
        if entry.average_rating is None:
            body.append(text("—", x=x + bar / 2, y=bottom - 8, text_anchor="middle"))
            continue
        bar_height = (bottom - top) * entry.average_rating / RATING_SCALE
        body.append(
            element(
                "rect",
                {
                    "x": x,
                    "y": bottom - bar_height,
                    "width": bar,
                    "height": bar_height,
                    "class_": "c-rating",
                },
                tooltip(f"{name} — {decimal(entry.average_rating, language)} / {RATING_SCALE}"),
            )
        )
        body.append(
            text(
                decimal(entry.average_rating, language),
                x=x + bar / 2,
                y=bottom - bar_height - 6,
                text_anchor="middle",
                class_="value",
            )
        )
    return svg_chart(
        chart_id=chart_id,
        width=width,
        height=height,
        title=label("ratings_title", language),
        description=label("ratings_desc", language, minimum=MINIMUM_GROUP_SIZE),
        body=body,
    )


def _consent_card(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-consent"
    consent = report.consent
    return Chart(
        chart_id=chart_id,
        heading=label("consent_title", language),
        svg=Markup(  # noqa: S704 - built by the chart functions, which escape every value
            consent_bars(report, chart_id=chart_id, language=language)
        ),
        caption=label("consent_desc", language, asked=integer(consent.pairs_asked, language)),
        table=Table(
            caption=label("consent_title", language),
            headers=[label("consent_outcome", language), label("pairs", language)],
            rows=[
                [label(f"consent_{key}", language), _figure(getattr(consent, key), language)]
                for key in CONSENT_OUTCOMES
            ],
            numeric=frozenset({1}),
        ),
        wide=True,
    )


def _pulse_card(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-pulse"
    return Chart(
        chart_id=chart_id,
        heading=label("pulse_title", language),
        svg=Markup(  # noqa: S704 - built by the chart functions, which escape every value
            pulse_columns(report.pulse_rounds, chart_id=chart_id, language=language)
        ),
        caption=label("pulse_desc", language, minimum=MINIMUM_GROUP_SIZE),
        table=Table(
            caption=label("pulse_title", language),
            headers=[
                label(key, language)
                for key in ("pulse", "asked", "answered", "on_track", "need_help")
            ],
            rows=[
                [
                    label("pulse_round", language, number=entry.pulse_number),
                    integer(entry.asked, language),
                    *(
                        _figure(value, language)
                        for value in (entry.answered, entry.on_track, entry.need_help)
                    ),
                ]
                for entry in report.pulse_rounds
            ],
            numeric=frozenset({1, 2, 3, 4}),
        ),
        wide=True,
    )


def _ratings_card(report: ProgrammeReport, language: Language) -> Chart:
    chart_id = f"{language}-ratings"
    return Chart(
        chart_id=chart_id,
        heading=label("ratings_title", language),
        svg=Markup(  # noqa: S704 - built by the chart functions, which escape every value
            rating_columns(report.ratings_by_session, chart_id=chart_id, language=language)
        ),
        caption=label("ratings_desc", language, minimum=MINIMUM_GROUP_SIZE),
        table=Table(
            caption=label("ratings_title", language),
            headers=[label(key, language) for key in ("session", "ratings", "average_rating")],
            rows=[
                [
                    label("session_number", language, number=entry.session_number),
                    integer(entry.ratings, language),
                    _hidden(language)
                    if entry.average_rating is None
                    else decimal(entry.average_rating, language),
                ]
                for entry in report.ratings_by_session
            ],
            numeric=frozenset({1, 2}),
        ),
        wide=True,
    )
