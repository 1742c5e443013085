"""``binome-mail preview``: an example notification of every format, from the devstack."""

import argparse
import email
import json
from email.policy import default as default_policy
from pathlib import Path

import pytest

from binome_devstack.notifications.preview_cli import register, render_preview
from binome_notifications.domain.model import NotificationKind
from binome_shared.contracts.values import Language

pytestmark = pytest.mark.unit

KIND = NotificationKind


def test_preview_command_prints_a_rendered_example(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))

    arguments = parser.parse_args(["preview", "introduction", "--lang", "fr"])
    assert arguments.handler(arguments) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Subject: Votre binôme dans le programme")
    assert "Inès maîtrise LinkedIn" in printed

    target = tmp_path / "preview" / "invite.eml"
    arguments = parser.parse_args(
        ["preview", "session_invitation", "--lang", "en", "--format", "eml", "--out", str(target)]
    )
    assert arguments.handler(arguments) == 0
    parsed = email.message_from_bytes(target.read_bytes(), policy=default_policy)
    assert str(parsed["Subject"]).startswith("Session confirmed with Laurent Girard")

    arguments = parser.parse_args(["preview", "feedback_request", "--format", "ics"])
    assert arguments.handler(arguments) == 2
    assert "no calendar invite" in capsys.readouterr().err


def test_preview_formats() -> None:
    ics = render_preview(KIND.SESSION_CANCELLATION, language=Language.FR, output_format="ics")
    assert b"METHOD:CANCEL" in ics
    body = render_preview(KIND.PROGRESS_REPORT, language=Language.EN, output_format="webhook")
    assert json.loads(body)["facts"]["sessions_completed"] == 48
    html = render_preview(KIND.PAIR_THANKS, language=Language.EN, output_format="html")
    assert html.startswith(b"<!DOCTYPE html>")
    fit_alert = render_preview(KIND.HR_FIT_ALERT, language=Language.FR, output_format="text")
    assert "la personne mentorée a indiqué" in fit_alert.decode()
