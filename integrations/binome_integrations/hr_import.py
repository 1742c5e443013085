"""``binome-hr-import``: enrol the participants of an HR CSV export into a programme.

Exit codes: 0 every row went in, 1 some rows were refused (the others were sent),
2 the file itself is unusable (or the command line is wrong), 3 Kafka could not take the
commands. ``--dry-run`` validates only and exits with the same codes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pydantic_settings import SettingsError

from binome_integrations.hr_publishing import DEFAULT_SOURCE, PublishResult, publish_participants
from binome_integrations.language import default_language, localised
from binome_integrations.participants_csv import (
    ImportReport,
    UnusableFileError,
    parse_participants_csv,
)
from binome_shared.contracts.values import Language, LocalisedText
from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security
from binome_shared.runtime.observability import tracer_provider
from binome_shared.runtime.settings import LOCAL_KAFKA

EXIT_ALL_IMPORTED: Final = 0
EXIT_ROWS_REFUSED: Final = 1
EXIT_UNUSABLE_FILE: Final = 2
EXIT_KAFKA_FAILED: Final = 3

_TEXTS: Final[dict[str, LocalisedText]] = {
    "file": LocalisedText(
        fr="Fichier {path} : {rows} ligne(s) de données, séparateur « {delimiter} »",
        en="File {path}: {rows} data row(s), separator '{delimiter}'",
    ),
    "ignored": LocalisedText(
        fr="Colonnes ignorées (inconnues) : {columns}",
        en="Ignored (unknown) columns: {columns}",
    ),
    "refused": LocalisedText(
        fr="{count} ligne(s) refusée(s) :",
        en="{count} row(s) refused:",
    ),
    "line": LocalisedText(fr="ligne", en="line"),
    "accepted": LocalisedText(
        fr="{count} participant(s) valide(s).",
        en="{count} valid participant(s).",
    ),
    "dry_run": LocalisedText(
        fr="Essai à blanc (--dry-run) : rien n'a été envoyé.",
        en="Dry run (--dry-run): nothing was sent.",
    ),
    "published": LocalisedText(
        fr="{count} commande(s) {command} envoyée(s) sur {topic} (corrélation {correlation}).",
        en="{count} {command} command(s) sent to {topic} (correlation {correlation}).",
    ),
    "unusable": LocalisedText(
        fr="Fichier inutilisable : {reason}",
        en="Unusable file: {reason}",
    ),
    "kafka_failed": LocalisedText(
        fr="Kafka ({servers}) n'a pas pris les commandes : {error}",
        en="Kafka ({servers}) did not take the commands: {error}",
    ),
    "needs_ids": LocalisedText(
        fr="--programme-id et --tenant-id sont obligatoires sans --dry-run",
        en="--programme-id and --tenant-id are required without --dry-run",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The command line, with defaults from the environment."""
    parser = argparse.ArgumentParser(
        prog="binome-hr-import",
        description=(
            "Enrol the participants of an HR CSV export (see docs/hr-import.md). "
            "Inscrit les participants d'un export CSV RH."
        ),
    )
    parser.add_argument("csv_file", type=Path, help="CSV export, UTF-8, ';' or ','.")
    parser.add_argument("--programme-id", help="Programme the participants join.")
    parser.add_argument("--tenant-id", help="Organisation (group) the programme belongs to.")
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("BINOME_KAFKA_BOOTSTRAP_SERVERS", LOCAL_KAFKA),
        help="Kafka bootstrap servers (env BINOME_KAFKA_BOOTSTRAP_SERVERS).",
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("BINOME_TOPIC_PREFIX", ""),
        help="Prefix of every topic name (env BINOME_TOPIC_PREFIX).",
    )
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="CloudEvents source.")
    parser.add_argument(
        "--update",
        action="store_true",
        help="Send UpdateParticipant (replace enrolled profiles) instead of EnrolParticipant.",
    )
    parser.add_argument("--dry-run", action="store_true", help="Validate only; send nothing.")
    parser.add_argument(
        "--language", choices=("fr", "en"), default=None, help="Language of the output."
    )
    parser.add_argument(
        "--json", action="store_true", help="Print the outcome as JSON instead of text."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the import; returns the exit code (see the module docstring)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    language = Language(arguments.language or default_language())
    if not arguments.dry_run and not (arguments.programme_id and arguments.tenant_id):
        parser.error(localised(_TEXTS["needs_ids"], language))
    try:
        security = KafkaSecuritySettings()
    except (ValidationError, SettingsError) as error:
        parser.error(f"BINOME_KAFKA_*: {error}")
    try:
        report = parse_participants_csv(Path(arguments.csv_file))
    except UnusableFileError as error:
        if arguments.json:
            print(json.dumps({"unusable": {"fr": error.message_fr, "en": error.message_en}}))
        else:
            print(_say(language, "unusable", reason=error.message(language)), file=sys.stderr)
        return EXIT_UNUSABLE_FILE
    result: PublishResult | None = None
    failure: str | None = None
    if not arguments.dry_run and report.accepted:
        # The import's send span starts the trace every service continues (exported when
        # OTEL_EXPORTER_OTLP_ENDPOINT is set; the provider flushes at exit).
        tracer_provider("hr-import")
        try:
            result = asyncio.run(
                publish_participants(
                    report.accepted,
                    programme_id=arguments.programme_id,
                    tenant_id=arguments.tenant_id,
                    bootstrap_servers=arguments.bootstrap_servers,
                    topic_prefix=arguments.topic_prefix,
                    source=arguments.source,
                    command="update" if arguments.update else "enrol",
                    client_options=aiokafka_security(security),
                )
            )
        except KafkaError as error:
            failure = str(error) or type(error).__name__
    if arguments.json:
        print(_as_json(report, result, failure))
    else:
        print(_as_text(arguments, language, report, result))
        if failure:
            print(
                _say(
                    language,
                    "kafka_failed",
                    servers=arguments.bootstrap_servers,
                    error=failure,
                ),
                file=sys.stderr,
            )
    if failure:
        return EXIT_KAFKA_FAILED
    return EXIT_ROWS_REFUSED if report.problems else EXIT_ALL_IMPORTED


def _say(language: Language, key: str, **values: object) -> str:
    return localised(_TEXTS[key], language, **values)


def _as_text(
    arguments: argparse.Namespace,
    language: Language,
    report: ImportReport,
    result: PublishResult | None,
) -> str:
    delimiter = "tab" if report.delimiter == "\t" else report.delimiter
    lines = [_say(language, "file", path=arguments.csv_file, rows=report.rows, delimiter=delimiter)]
    if report.ignored_columns:
        lines.append(_say(language, "ignored", columns=", ".join(report.ignored_columns)))
    if report.problems:
        lines.append(_say(language, "refused", count=len(report.refused_lines)))
        id_width = max(len(problem.participant_id or "—") for problem in report.problems)
        line_word = _say(language, "line")
        line_width = len(str(report.refused_lines[-1]))
        lines.extend(
            f"  {line_word} {problem.line:>{line_width}}  "
            f"{(problem.participant_id or '—'):<{id_width}}  {problem.message(language)}"
            for problem in report.problems
        )
    lines.append(_say(language, "accepted", count=len(report.accepted)))
    if arguments.dry_run:
        lines.append(_say(language, "dry_run"))
    elif result is not None:
        lines.append(
            _say(
                language,
                "published",
                count=result.published,
                command="UpdateParticipant" if arguments.update else "EnrolParticipant",
                topic=result.topic,
                correlation=result.correlation_id,
            )
        )
    return "\n".join(lines)


def _as_json(report: ImportReport, result: PublishResult | None, failure: str | None) -> str:
    document = {
        "rows": report.rows,
        "accepted": len(report.accepted),
        "refused_lines": report.refused_lines,
        "problems": [problem.model_dump() for problem in report.problems],
        "ignored_columns": report.ignored_columns,
        "published": result.published if result else 0,
        "topic": result.topic if result else None,
        "correlation_id": str(result.correlation_id) if result else None,
        "kafka_error": failure,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    sys.exit(main())
