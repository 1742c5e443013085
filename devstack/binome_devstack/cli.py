"""``binome-stack``: start, stop and inspect the local Kafka + PostgreSQL stack."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.kafka import KafkaServer
from binome_devstack.kafka_acls import platform_principals
from binome_devstack.kafka_layout import with_recorded_layout
from binome_devstack.kafka_provision import provision
from binome_devstack.kafka_tls import SUPER_USER, secure_env_exports, secure_stack_lines
from binome_devstack.messages import text
from binome_devstack.postgres import PostgresServer
from binome_devstack.processes import tail_lines
from binome_devstack.settings import KAFKA_CLUSTER_SIZES, StackSettings
from binome_devstack.stack import (
    ALL_COMPONENTS,
    Component,
    append_owner_file,
    ensure_stack,
    read_owner_file,
    reset_stack,
    stack_status,
    stop_stack,
)

EXIT_OK: Final = 0
EXIT_NOT_ALL_UP: Final = 1
EXIT_INTERRUPTED: Final = 130
DEFAULT_LOG_LINES: Final = 50
FOLLOW_POLL_SECONDS: Final = 0.5


def report_to_stderr(message: str) -> None:
    """The CLI's progress reporter."""
    print(message, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The ``binome-stack`` command line."""
    parser = argparse.ArgumentParser(
        prog="binome-stack",
        description="Local Kafka 4.1 (KRaft) + PostgreSQL 15 for Binôme's demo, tests and CI.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start what is not running (reuse what is)")
    up.add_argument("--kafka", action=argparse.BooleanOptionalAction, default=True)
    up.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True)
    up.add_argument(
        "--secure",
        action="store_true",
        help="Kafka on SASL_SSL: a local CA, SCRAM-SHA-512 users, ACLs from the catalogue",
    )
    up.add_argument(
        "--brokers",
        type=int,
        choices=KAFKA_CLUSTER_SIZES,
        default=1,
        help="Kafka nodes: 3 makes a replicated cluster (RF 3, min ISR 2)",
    )
    up.add_argument(
        "--owner-file",
        type=Path,
        help="append the components THIS call started to this file, for `down --owner-file`",
    )

    down = commands.add_parser("down", help="stop the stack")
    down.add_argument(
        "--owner-file",
        type=Path,
        help="stop only the components listed in this file, then delete it",
    )

    commands.add_parser(
        "reset",
        help="stop the stack and delete the data of Kafka and PostgreSQL together",
    )
    commands.add_parser("status", help="show what runs; exit 0 only if everything is up")
    env = commands.add_parser("env", help="print export lines pointing at this stack")
    env.add_argument(
        "--principal",
        default=SUPER_USER,
        help="on a secured stack, the Kafka user to export (e.g. binome-pairing-kafka)",
    )
    provision = commands.add_parser(
        "provision",
        help="create the platform's topics as the admin and (secured stack) apply the ACLs",
    )
    provision.add_argument(
        "--prefix", default="", help="topic and group prefix (BINOME_TOPIC_PREFIX)"
    )

    logs = commands.add_parser("logs", help="show the end of a server log")
    logs.add_argument("component", choices=[component.value for component in Component])
    logs.add_argument("--node", type=int, default=1, help="which Kafka node (1 to 3)")
    logs.add_argument("-n", "--lines", type=int, default=DEFAULT_LOG_LINES)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    return parser


def _up(arguments: argparse.Namespace, settings: StackSettings) -> int:
    started = time.monotonic()
    settings = dataclasses.replace(
        settings, kafka_brokers=arguments.brokers, kafka_secure=arguments.secure
    )
    stack = ensure_stack(
        kafka=arguments.kafka,
        postgres=arguments.postgres,
        settings=settings,
        report=report_to_stderr,
    )
    if arguments.owner_file is not None:
        append_owner_file(arguments.owner_file, stack.started)
    report_to_stderr(text("stack_up", seconds=time.monotonic() - started, path=settings.stack_dir))
    return EXIT_OK


def _down(arguments: argparse.Namespace, settings: StackSettings) -> int:
    components: set[Component] | None = set(ALL_COMPONENTS)
    owner_file: Path | None = arguments.owner_file
    if owner_file is not None:
        components = read_owner_file(owner_file)
        if components is None:
            report_to_stderr(text("owner_file_missing", path=owner_file))
            return EXIT_OK
    stop_stack(components=components or (), settings=settings, report=report_to_stderr)
    if owner_file is not None:
        owner_file.unlink(missing_ok=True)
    return EXIT_OK


def _reset(arguments: argparse.Namespace, settings: StackSettings) -> int:
    del arguments
    reset_stack(settings=settings, report=report_to_stderr)
    return EXIT_OK


def _status(arguments: argparse.Namespace, settings: StackSettings) -> int:
    del arguments
    statuses = stack_status(settings)
    for status in statuses:
        print(status.describe())
    for line in secure_stack_lines(settings):
        print(line)
    return EXIT_OK if all(status.healthy for status in statuses) else EXIT_NOT_ALL_UP


def _env(arguments: argparse.Namespace, settings: StackSettings) -> int:
    for line in settings.env_exports():
        print(line)
    for line in secure_env_exports(settings, principal=arguments.principal):
        print(line)
    return EXIT_OK


def _provision(arguments: argparse.Namespace, settings: StackSettings) -> int:
    created, bindings = asyncio.run(provision(settings, arguments.prefix))
    report_to_stderr(text("topics_created", count=len(created), prefix=arguments.prefix))
    if settings.kafka_secure:
        principals = len(platform_principals(arguments.prefix))
        report_to_stderr(
            text("acls_applied", count=bindings, principals=principals, prefix=arguments.prefix)
        )
    return EXIT_OK


def log_file_of(component: Component, settings: StackSettings, node: int = 1) -> Path:
    """The log ``binome-stack logs <component>`` shows."""
    if component is Component.KAFKA:
        return KafkaServer(settings=settings, node=node).server_log
    return PostgresServer(settings=settings).log_file


def _logs(arguments: argparse.Namespace, settings: StackSettings) -> int:
    component = Component(arguments.component)
    path = log_file_of(component, settings, arguments.node)
    if not path.exists():
        report_to_stderr(text("no_log", component=component.value, path=path))
        return EXIT_NOT_ALL_UP
    for line in tail_lines(path, max(0, arguments.lines)):
        print(line)
    if arguments.follow:
        _follow(path)
    return EXIT_OK


def _follow(path: Path) -> None:
    with path.open(encoding="utf-8", errors="replace") as log:
        log.seek(0, 2)
        while True:
            line = log.readline()
            if line:
                print(line, end="", flush=True)
            else:
                time.sleep(FOLLOW_POLL_SECONDS)


COMMANDS: Final[Mapping[str, Callable[[argparse.Namespace, StackSettings], int]]] = {
    "up": _up,
    "down": _down,
    "reset": _reset,
    "status": _status,
    "env": _env,
    "provision": _provision,
    "logs": _logs,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``binome-stack``; returns the process exit code."""
    arguments = build_parser().parse_args(argv)
    try:
        settings = with_recorded_layout(StackSettings.from_env())
        return COMMANDS[arguments.command](arguments, settings)
    except StackError as error:
        report_to_stderr(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
