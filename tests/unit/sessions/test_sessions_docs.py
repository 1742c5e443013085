"""docs/sessions.md lists every rejection and the default déroulé exactly as the code has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from binome_sessions.domain import REJECTION_REASONS
from binome_shared.contracts.session_plan import default_planned_sessions

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "sessions.md"


def test_every_rejection_is_documented_with_its_exact_reasons() -> None:
    text = DOC.read_text(encoding="utf-8")

    for code, reason in REJECTION_REASONS.items():
        assert f"| `{code.value}` | {reason.fr} | {reason.en} |" in text, code


def test_the_default_deroule_is_documented_in_both_languages() -> None:
    text = DOC.read_text(encoding="utf-8")

    for position, session in enumerate(default_planned_sessions(), start=1):
        skippable = "yes" if session.skippable else "no"
        titles = f"{session.title.fr} | {session.title.en}"
        assert f"| {position} | `{session.key}` | {titles} | {skippable} |" in text, session.key
        assert session.description.fr in text
        assert session.description.en in text
