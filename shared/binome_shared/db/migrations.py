"""Versioned SQL migrations, applied in order, once, and recorded in the service's schema.

Each service has its own migrations folder; the messaging core's migrations come first.
SQL files use unqualified names: the connection's search_path is the service's schema, so
a migration can only ever touch the schema of the role that runs it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

logger = logging.getLogger(__name__)

CORE_PACKAGE = "binome_shared.db"


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file: ``<package>/migrations/<prefix>_<NNNN>_<name>.sql``."""

    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    """An applied migration was edited, or a migration failed."""


def load_migrations(package: str, folder_name: str = "migrations") -> list[Migration]:
    """The ``.sql`` files of a package's ``migrations`` folder, sorted by name."""
    folder: Traversable = resources.files(package).joinpath(folder_name)
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [
        Migration(version=entry.name.removesuffix(".sql"), sql=entry.read_text()) for entry in files
    ]


def service_migrations(service_package: str) -> list[Migration]:
    """The messaging core's migrations, then the service's own."""
    return load_migrations(CORE_PACKAGE, "core_migrations") + load_migrations(service_package)


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.schema_migrations'))"
_APPLIED = "SELECT version, checksum FROM schema_migrations"
_RECORD = "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)"


async def apply_migrations(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is missing, in one transaction; returns the versions applied now.

    Replicas starting together serialise on an advisory lock, so each file runs once.
    """
    async with conn.transaction():
        await conn.execute(_LOCK)
        await conn.execute(_CREATE_LEDGER)
        applied = {row["version"]: row["checksum"] for row in await conn.fetch(_APPLIED)}
        newly_applied: list[str] = []
        for migration in migrations:
            recorded = applied.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} was changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            try:
                await conn.execute(migration.sql)
            except asyncpg.PostgresError as error:
                raise MigrationError(f"migration {migration.version} failed: {error}") from error
            await conn.execute(_RECORD, migration.version, migration.checksum)
            newly_applied.append(migration.version)
    if newly_applied:
        logger.info("applied migrations %s", newly_applied)
    return newly_applied


async def pending_migrations(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Versions not applied yet (readiness reports not-ready while any remain)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = {row["version"] for row in await conn.fetch(_APPLIED)} if exists else set()
    return [migration.version for migration in migrations if migration.version not in applied]
