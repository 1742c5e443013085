"""``binome-report``: serve programme reports, render a saved one, or write a sample one.

``binome-report serve`` serves every programme's report over HTTP to bearer-token callers
(:mod:`.server`, settings from ``BINOME_*``); ``binome-report render report.json --html
report.html`` prints the terminal summary and writes the HTML page; ``binome-report sample
--json report.json`` writes an example report.
Exit codes: 0 done, 2 the report file is missing or invalid, 3 the server's settings are.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import uvicorn
from pydantic import ValidationError
from pydantic_settings import SettingsError

from binome_integrations.language import default_language, localised
from binome_integrations.report.html import render_html
from binome_integrations.report.model import ProgrammeReport
from binome_integrations.report.sample import sample_report
from binome_integrations.report.server import (
    ReportApp,
    ReportServerSettings,
    live_reports,
    refuse_unsafe_production,
)
from binome_integrations.report.terminal import render_terminal
from binome_shared.contracts.values import Language, LocalisedText
from binome_shared.runtime.http_auth import verifier_from
from binome_shared.runtime.process import REQUEST_HEAD_LIMIT_BYTES
from binome_shared.runtime.production_guard import UnsafeProductionError

EXIT_OK: Final = 0
EXIT_BAD_REPORT: Final = 2
EXIT_BAD_SETTINGS: Final = 3

_TEXTS: Final[dict[str, LocalisedText]] = {
    "unreadable": LocalisedText(
        fr="Rapport illisible ({path}) : {reason}", en="Unreadable report ({path}): {reason}"
    ),
    "written": LocalisedText(fr="Rapport HTML écrit : {path}", en="HTML report written: {path}"),
}


def build_parser() -> argparse.ArgumentParser:
    """``render`` and ``sample`` sub-commands."""
    parser = argparse.ArgumentParser(
        prog="binome-report", description="Programme report: terminal summary and HTML page."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="Render a report saved as JSON.")
    render.add_argument("report", type=Path, help="ProgrammeReport as JSON.")
    render.add_argument("--html", type=Path, help="Write the self-contained HTML page here.")
    render.add_argument(
        "--language",
        choices=("fr", "en"),
        default=None,
        help="Language of the summary and first language of the page (default: from locale).",
    )
    render.add_argument("--quiet", action="store_true", help="Do not print the terminal summary.")
    sample = commands.add_parser("sample", help="Write an example report as JSON.")
    sample.add_argument("--json", type=Path, required=True, help="Where to write it.")
    commands.add_parser(
        "serve", help="Serve GET /programmes/{id}/report and report.json (BINOME_* settings)."
    )
    return parser


def load_report(path: Path) -> ProgrammeReport:
    """A report saved with ``report.model_dump_json()``."""
    return ProgrammeReport.model_validate_json(path.read_bytes())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``binome-report``; returns the exit code."""
    arguments = build_parser().parse_args(argv)
    if arguments.command == "serve":
        return serve()
    if arguments.command == "sample":
        arguments.json.write_text(sample_report().model_dump_json(indent=2), encoding="utf-8")
        return EXIT_OK
    language = Language(arguments.language or default_language())
    try:
        report = load_report(arguments.report)
    except (OSError, ValidationError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        print(
            localised(_TEXTS["unreadable"], language, path=arguments.report, reason=reason),
            file=sys.stderr,
        )
        return EXIT_BAD_REPORT
    if not arguments.quiet:
        sys.stdout.write(render_terminal(report, language))
    if arguments.html:
        arguments.html.write_text(render_html(report, language), encoding="utf-8")
        print(localised(_TEXTS["written"], language, path=arguments.html), file=sys.stderr)
    return EXIT_OK


def serve() -> int:
    """Run the report server until SIGTERM or SIGINT (uvicorn's lifespan then stops the
    reader); refused (exit 3) with bad settings or, in production, unsafe ones."""
    try:
        settings = ReportServerSettings()
        refuse_unsafe_production(settings)
    except (ValidationError, SettingsError) as error:
        print(f"BINOME_*: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    except UnsafeProductionError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_SETTINGS
    app = ReportApp(source=live_reports(settings), verifier=verifier_from(settings))
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        lifespan="on",
        h11_max_incomplete_event_size=REQUEST_HEAD_LIMIT_BYTES,
    )
    _StopsCleanly(config).run()
    return EXIT_OK


class _StopsCleanly(uvicorn.Server):
    """uvicorn's server, whose stop on SIGTERM (the reader closed by the lifespan) exits 0:
    uvicorn would raise the signal again once shut down, so a clean stop read as a kill."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


if __name__ == "__main__":
    sys.exit(main())
