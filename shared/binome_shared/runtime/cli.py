"""The command line every service shares: ``serve`` and ``migrate``, plus its own extras."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from binome_shared.db.migrations import apply_migrations
from binome_shared.docs.asyncapi import asyncapi_document
from binome_shared.runtime.observability import configure_logging
from binome_shared.runtime.postgres_tls import asyncpg_connection
from binome_shared.runtime.process import run_service
from binome_shared.runtime.provisioning import NotProvisionedError, check_schema, not_provisioned
from binome_shared.runtime.service import ServiceDefinition, build_app
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.startup_checks import EXIT_BAD_SETTINGS, BadSettingsError, read_settings

logger = logging.getLogger(__name__)

EXIT_NOT_PROVISIONED = 1

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceCommand:
    """A service's console script, ``binome-<name>``: ``serve``, ``migrate`` and its extras.

    Each service's ``cli.main`` is one of these, called with the arguments (``None``: the
    process's own) and returning the exit status. ``serve`` and ``migrate`` read
    ``settings_class`` strictly first (unknown variables, invalid values, unsafe production
    settings): a refusal is printed and exits 2.
    """

    name: str
    description: str
    settings_class: type[ServiceSettings]
    definition_factory: Callable[[ServiceSettings], ServiceDefinition]
    extra_commands: Sequence[Register] = ()

    def __call__(self, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"binome-{self.name}", description=self.description)
        commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        commands.add_parser(
            "serve", help="run the service (Kafka consumer, outbox relay, HTTP probes)"
        )
        commands.add_parser("migrate", help="apply the service's pending SQL migrations and exit")
        for register in self.extra_commands:
            register(commands)
        arguments = parser.parse_args(argv)
        if arguments.command in {"serve", "migrate"}:
            return self._serve_or_migrate(arguments.command)
        handler: Callable[[argparse.Namespace], int] = arguments.handler
        return handler(arguments)

    def _serve_or_migrate(self, command: str) -> int:
        name = self.name
        try:
            settings = read_settings(self.settings_class)
        except BadSettingsError as error:
            print(f"binome-{name}: {error}", file=sys.stderr)
            return EXIT_BAD_SETTINGS
        configure_logging(
            service=name, level=settings.log_level, json_format=settings.log_format == "json"
        )
        definition = self.definition_factory(settings)
        if command == "migrate":
            try:
                applied = asyncio.run(_migrate(definition, settings))
            except NotProvisionedError as error:
                # An initContainer: failing makes Kubernetes retry it, with back-off.
                print(f"binome-{name} migrate: {error}", file=sys.stderr)
                return EXIT_NOT_PROVISIONED
            logger.info("%d migration(s) applied", len(applied))
            return 0
        app, runtime = build_app(
            definition,
            settings,
            asyncapi=lambda: asyncapi_document(definition),
        )
        return run_service(app, runtime, settings)


async def _migrate(definition: ServiceDefinition, settings: ServiceSettings) -> list[str]:
    try:
        conn = await asyncpg.connect(
            **asyncpg_connection(settings, settings.database_url),
            server_settings={"search_path": definition.name},
        )
    except asyncpg.PostgresError as error:
        missing = not_provisioned(error, service=definition.name)
        if missing is None:
            raise
        raise missing from error
    try:
        await check_schema(conn, service=definition.name, migrating=True)
        return await apply_migrations(conn, list(definition.migrations))
    finally:
        await conn.close()
