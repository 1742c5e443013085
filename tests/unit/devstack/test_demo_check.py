"""The demo check's comparison, apart from the sources it reads: each figure of the summary
against the re-count that should confirm it, the consent's declines and re-pairings
included, and notifications knowing the pairs called off before they were formed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from binome_devstack.demo_check import Mismatch, Sources, mismatches
from binome_devstack.demo_report import DemoFigures, DemoSummary
from binome_integrations.report.build import programme_report
from binome_integrations.report.history import programme_history
from binome_integrations.report.model import ConsentFigures
from binome_shared.contracts.programme import ProgrammeRules
from tests.support.programmes import programme_definition
from tests.support.published import published, read_back

pytestmark = pytest.mark.unit

PROGRAMME = "prog-check"
FORMED = 15
DECLINED, LAPSED, LEFT = 1, 2, 1


def summary() -> DemoSummary:
    defined = programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4)))
    history = programme_history([read_back(published(defined, programme_id=PROGRAMME))])
    report = programme_report(
        history, programme_id=PROGRAMME, generated_at=datetime(2027, 7, 1, tzinfo=UTC)
    ).model_copy(
        update={
            "pairs_formed": FORMED,
            "consent": ConsentFigures(
                pairs_asked=8, accepted=4, declined=DECLINED, lapsed=LAPSED, left=LEFT, pending=0
            ),
        }
    )
    zero = {name: 0 for name, field in DemoFigures.model_fields.items() if field.is_required()}
    figures = DemoFigures.model_validate(
        {**zero, "consent_declined": DECLINED, "consent_re_paired": DECLINED}
    )
    return DemoSummary(report=report, figures=figures)


def sources(**counts: int) -> Sources:
    """Sources whose every count is 0 but ``counts`` (named as demo_check names them)."""
    counted: defaultdict[str, int] = defaultdict(int, counts)
    return Sources(counts=counted, sent_by_kind={}, formed_scores=[], dead_letters=0, eml_files=0)


def found(checked: list[Mismatch]) -> dict[str, tuple[object, object]]:
    return {mismatch.figure: (mismatch.summary, mismatch.source) for mismatch in checked}


def test_notifications_knows_the_formed_pairs_and_those_called_off_before_forming() -> None:
    checked = found(mismatches(summary(), sources()))

    assert checked["pairs known to notifications"] == (FORMED + DECLINED + LAPSED + LEFT, 0)
    agreeing = sources(**{"pairs known (notifications)": FORMED + DECLINED + LAPSED + LEFT})
    assert "pairs known to notifications" not in found(mismatches(summary(), agreeing))


def test_declines_and_re_pairings_are_each_checked_against_their_own_count() -> None:
    checked = found(mismatches(summary(), sources()))

    assert checked["consent declines"] == (DECLINED, 0)
    assert checked["re-paired after a decline"] == (DECLINED, 0)
    agreeing = sources(
        **{"consent declines": DECLINED, "pairs formed for a member of a declined pair": DECLINED}
    )
    left = found(mismatches(summary(), agreeing))
    assert "consent declines" not in left
    assert "re-paired after a decline" not in left


def test_a_summary_the_sources_confirm_has_no_mismatch_on_those_figures() -> None:
    agreeing = sources(
        **{
            "pairs formed (pairing)": FORMED,
            "pairs followed (sessions)": FORMED,
            "pairs known (notifications)": FORMED + DECLINED + LAPSED + LEFT,
            "consent declines": DECLINED,
            "pairs formed for a member of a declined pair": DECLINED,
        }
    )
    checked = found(mismatches(summary(), agreeing))

    assert not {
        "pairs formed",
        "pairs followed by sessions",
        "pairs known to notifications",
        "consent declines",
        "re-paired after a decline",
    } & set(checked)
