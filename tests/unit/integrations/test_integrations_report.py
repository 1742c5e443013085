"""The programme report: its model's guarantees, the terminal summary and the HTML page
(numbers shown, small groups suppressed, both languages, self-contained, escaped)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from binome_integrations.report.charts import nice_ceiling
from binome_integrations.report.cli import main
from binome_integrations.report.figures import histogram, summarise
from binome_integrations.report.html import render_html
from binome_integrations.report.model import (
    BusinessUnitProgress,
    DeadLetterCount,
    ProgrammeFunnel,
    ProgrammeReport,
)
from binome_integrations.report.sample import sample_report
from binome_integrations.report.terminal import render_terminal
from binome_integrations.report.texts import decimal, integer, month, percent
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

REPORT = sample_report()


def small_report(**changes: object) -> ProgrammeReport:
    return REPORT.model_copy(update=changes)


def test_small_business_units_are_suppressed_when_measured() -> None:
    small = BusinessUnitProgress.measured(
        business_unit="Juridique",
        people=4,
        pairs=2,
        sessions_planned=12,
        sessions_held=11,
        completion_rate=0.5,
        average_rating=4.8,
    )
    assert small.suppressed
    assert small.people is None
    assert small.sessions_held is None
    assert small.average_rating is None


def test_figures_on_a_small_or_suppressed_unit_are_refused() -> None:
    with pytest.raises(ValidationError, match="must be suppressed"):
        BusinessUnitProgress(
            business_unit="Juridique",
            people=3,
            pairs=1,
            sessions_planned=6,
            sessions_held=5,
            completion_rate=1.0,
        )
    with pytest.raises(ValidationError, match="carries no figure"):
        BusinessUnitProgress(business_unit="Juridique", suppressed=True, sessions_held=5)


def test_scores_outside_zero_one_and_naive_times_are_refused() -> None:
    data = REPORT.model_dump()
    with pytest.raises(ValidationError, match="between 0 and 1"):
        ProgrammeReport.model_validate({**data, "pair_scores": [0.5, 1.2]})
    with pytest.raises(ValidationError, match="timezone-aware"):
        ProgrammeReport.model_validate({**data, "generated_at": datetime(2027, 6, 1)})


def test_report_survives_json() -> None:
    assert ProgrammeReport.model_validate_json(REPORT.model_dump_json()) == REPORT


def test_histogram_puts_every_score_in_one_of_ten_bins() -> None:
    bins = histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0])
    assert [item.count for item in bins] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert (bins[0].low, bins[-1].high) == (0.0, 1.0)
    summary = summarise([0.2, 0.4, 0.9])
    assert summary is not None
    assert (summary.minimum, summary.median, summary.maximum) == (0.2, 0.4, 0.9)
    assert summarise([]) is None


@pytest.mark.parametrize(
    ("value", "expected"), [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (34, (40, 10)), (113, (150, 50))]
)
def test_axis_maximum_is_round(value: int, expected: tuple[int, int]) -> None:
    assert nice_ceiling(value) == expected


def test_numbers_follow_each_language() -> None:
    assert integer(4066, Language.FR) == "4\u202f066"
    assert integer(4066, Language.EN) == "4,066"
    assert decimal(0.7451, Language.FR) == "0,75"
    assert decimal(0.7451, Language.EN, 1) == "0.7"
    assert percent(0.72, Language.FR) == "72\u202f%"
    assert percent(0.72, Language.EN) == "72%"
    assert month("2027-02", Language.FR) == "févr. 2027"
    assert month("2027-02", Language.EN) == "Feb 2027"


def test_terminal_summary_in_french_shows_the_figures() -> None:
    text = render_terminal(REPORT, Language.FR)
    assert text.startswith("Bilan du programme · Mentorat inversé 2027 — Groupe Exemple\n")
    assert re.search(r"Binômes formés\s+112\n", text)
    assert re.search(r"Sans binôme\s+22\n", text)
    assert re.search(r"Programme terminé\s+86\s+72\u202f%", text)
    assert re.search(r"févr\. 2027\s+104\s+5\s+3\s+0\s+112", text)
    assert re.search(r"Juridique & Conformité\s+< 5\s+masqué \(moins de 5 personnes\)", text)
    assert re.search(r"Invitation à une séance\s+1\u202f350", text)
    assert "✓ Aucun message en lettre morte." in text
    assert "4\u202f065 e-mail(s) écrit(s) (.eml) dans .stack/demo/mail" in text
    assert "Exemples : Y000003, Y000051, Y000117" in text


def test_terminal_summary_in_english_is_aligned() -> None:
    text = render_terminal(REPORT, Language.EN)
    assert re.search(r"Pairs formed\s+112\n", text)
    assert re.search(r"Completed\s+86\s+72%", text)
    assert re.search(r"Juridique & Conformité\s+< 5\s+suppressed \(under 5 people\)", text)
    assert re.search(r"Session invitation\s+1,350", text)
    units = text.split("Progress by business unit\n")[1].split("\n\n")[0].splitlines()[1:]
    rating_column_ends = {len(line) for line in units if "suppressed" not in line}
    assert len(rating_column_ends) == 1, "right-aligned columns end at the same place"


def test_terminal_says_when_messages_were_dead_lettered() -> None:
    report = small_report(dead_letters=[DeadLetterCount(topic="binome.hr.commands.dlq", count=3)])
    text = render_terminal(report, Language.EN)
    assert "✗ 3 dead-lettered message(s): to investigate." in text
    assert re.search(r"binome\.hr\.commands\.dlq\s+3", text)


def test_empty_programme_renders_without_figures() -> None:
    report = ProgrammeReport(
        programme_id="p",
        programme_name="Vide",
        generated_at=REPORT.generated_at,
        mentors=0,
        mentees=0,
        pairs_formed=0,
        funnel=ProgrammeFunnel(
            enrolled_mentees=0, matched=0, formed=0, first_session_held=0, completed=0
        ),
    )
    text = render_terminal(report, Language.EN)
    assert "No pair formed." in text
    assert "Everyone has a pair." in text
    assert "No session." in text
    html = render_html(report, Language.EN)
    assert html.count('role="img"') == 14  # seven charts per language, even when empty


def views(html: str) -> dict[str, str]:
    parts = re.split(r'(?=<div class="view" data-lang-view=")', html)
    return {
        re.search(r'data-lang-view="(\w+)"', part).group(1): part  # type: ignore[union-attr]
        for part in parts[1:]
    }


def test_html_holds_both_languages_the_chosen_one_shown_first() -> None:
    html = render_html(REPORT, Language.EN)
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    by_language = views(html)
    assert list(by_language) == ["en", "fr"]
    assert "hidden" not in by_language["en"].split(">")[0]
    assert " hidden>" in by_language["fr"].split("\n")[0]
    assert "Programme report" in by_language["en"]
    assert "Bilan du programme" in by_language["fr"]
    assert 'data-switch-to="fr"' in by_language["en"]


def test_html_has_four_labelled_charts_with_their_data_per_language() -> None:
    html = render_html(REPORT, Language.FR)
    for language, part in views(html).items():
        for chart in ("scores", "funnel", "sessions", "units"):
            chart_id = f"{language}-{chart}"
            assert f'<svg id="{chart_id}" class="chart"' in part
            assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in part
            assert f'<title id="{chart_id}-title">' in part
        assert part.count("<table>") >= 5
    french = views(html)["fr"]
    histogram_svg = french.split('<svg id="fr-scores"')[1].split("</svg>")[0]
    counts = [int(value) for value in re.findall(r'data-count="(\d+)"', histogram_svg)]
    assert counts == [item.count for item in histogram(REPORT.pair_scores)]
    assert sum(counts) == 112
    sessions_svg = french.split('<svg id="fr-sessions"')[1].split("</svg>")[0]
    assert "<title>févr. 27 — Tenues : 104</title>" in sessions_svg
    funnel_svg = french.split('<svg id="fr-funnel"')[1].split("</svg>")[0]
    assert "Programme terminé : 86 (72\u202f%)" in funnel_svg


def test_html_shows_suppressed_units_as_such_and_no_figure_for_them() -> None:
    english = views(render_html(REPORT, Language.EN))["en"]
    units = english.split('<svg id="en-units"')[1].split("</svg>")[0]
    assert "suppressed (under 5 people)" in units
    row = re.search(r'<tr class="muted">(.*?)</tr>', english)
    assert row is not None
    assert "Juridique &amp; Conformité" in row.group(1)
    assert "suppressed (under 5 people)" in row.group(1)
    shown = re.sub(r"<[^>]+>", " ", row.group(1))
    assert re.findall(r"\d", shown) == ["5", "5"]  # "< 5" and "under 5", no figure


def test_html_is_self_contained() -> None:
    html = render_html(REPORT, Language.FR)
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html
    assert "src=" not in html
    assert "@import" not in html
    assert "url(#" in html
    assert "url(http" not in html


def test_html_escapes_what_comes_from_data() -> None:
    report = small_report(programme_name='<script>alert("x")</script>', organisation="A & B")
    html = render_html(report, Language.FR)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "A &amp; B" in html


def test_html_numbers_match_the_report_in_both_languages() -> None:
    by_language = views(render_html(REPORT, Language.FR))
    assert "4\u202f066" in by_language["fr"]
    assert "4,066" in by_language["en"]
    assert "Aucun message en lettre morte." in by_language["fr"]
    assert "No dead-lettered message." in by_language["en"]
    assert "<code>.stack/demo/mail</code>" in by_language["en"]


def test_cli_renders_a_saved_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "report.json"
    page = tmp_path / "report.html"
    assert main(["sample", "--json", str(saved)]) == 0
    assert ProgrammeReport.model_validate_json(saved.read_text()) == REPORT

    assert main(["render", str(saved), "--html", str(page), "--language", "en"]) == 0

    captured = capsys.readouterr()
    assert captured.out == render_terminal(REPORT, Language.EN)
    assert page.read_text(encoding="utf-8") == render_html(REPORT, Language.EN)


def test_cli_refuses_an_invalid_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "report.json"
    saved.write_text('{"programme_id": "p"}', encoding="utf-8")
    assert main(["render", str(saved), "--language", "fr"]) == 2
    assert "Rapport illisible" in capsys.readouterr().err


def test_the_completed_card_says_how_many_finished_the_whole_plan() -> None:
    from binome_integrations.report.html import render_html
    from binome_integrations.report.sample import sample_report

    report = sample_report()
    page = render_html(report, Language.EN)
    finished = report.funnel.completed
    assert f"{finished} finished the whole plan" in page
    assert f"dont {finished} au bout du déroulé" in render_html(report, Language.FR)
