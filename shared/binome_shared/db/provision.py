"""Database ownership: one schema per service, one login role per service.

Each role owns its schema and is granted nothing else, so the sessions role cannot read the
pairing schema (privacy by design). Run once per database by an administrator (the local
stack, a compose one-shot, a Kubernetes Job); idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from ssl import SSLContext
from urllib.parse import urlsplit, urlunsplit

import asyncpg

logger = logging.getLogger(__name__)

SERVICES = ("pairing", "sessions", "notifications")


@dataclass(frozen=True, slots=True)
class ServiceDatabase:
    """The schema a service owns and the role it logs in with."""

    service: str

    @property
    def schema(self) -> str:
        return self.service

    @property
    def role(self) -> str:
        return f"binome_{self.service}"

    def dsn(self, *, admin_dsn: str, password: str, database: str | None = None) -> str:
        """The service's own DSN on the same server (and database) as ``admin_dsn``."""
        parts = urlsplit(admin_dsn)
        host = parts.hostname or "127.0.0.1"
        port = f":{parts.port}" if parts.port else ""
        path = f"/{database}" if database else parts.path
        netloc = f"{self.role}:{password}@{host}{port}"
        return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def ensure_database(admin_dsn: str, database: str, *, template: str | None = None) -> bool:
    """Create ``database`` if missing (optionally as a copy of ``template``)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        statement = f"CREATE DATABASE {_quote_ident(database)}"
        if template:
            statement += f" TEMPLATE {_quote_ident(template)}"
        await conn.execute(statement)
        return True
    finally:
        await conn.close()


async def provision(
    admin_dsn: str,
    *,
    passwords: Mapping[str, str],
    database: str | None = None,
    ssl: SSLContext | str = "prefer",
) -> None:
    """Create (or bring up to date) each service's role and schema in ``database``.

    ``ssl`` is asyncpg's (``asyncpg_ssl(settings)`` verifies the server as the services do).
    """
    target = admin_dsn if database is None else _with_database(admin_dsn, database)
    conn = await asyncpg.connect(target, ssl=ssl)
    try:
        database_name = await conn.fetchval("SELECT current_database()")
        async with conn.transaction():
            # Roles are cluster-wide: serialise concurrent provisioners.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('binome.provision'))")
            await conn.execute(f"REVOKE ALL ON DATABASE {_quote_ident(database_name)} FROM PUBLIC")
            await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for service in SERVICES:
                owner = ServiceDatabase(service)
                password = passwords[service]
                role_exists = await conn.fetchval(
                    "SELECT 1 FROM pg_roles WHERE rolname = $1", owner.role
                )
                verb = "ALTER" if role_exists else "CREATE"
                await conn.execute(
                    f"{verb} ROLE {_quote_ident(owner.role)} LOGIN NOSUPERUSER NOCREATEDB "
                    f"NOCREATEROLE PASSWORD {_quote_literal(password)}"
                )
                await conn.execute(
                    f"ALTER ROLE {_quote_ident(owner.role)} SET search_path = "
                    f"{_quote_ident(owner.schema)}"
                )
                await conn.execute(
                    f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote_ident(database_name)} "
                    f"TO {_quote_ident(owner.role)}"
                )
                await conn.execute(
                    f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(owner.schema)} "
                    f"AUTHORIZATION {_quote_ident(owner.role)}"
                )
                await conn.execute(
                    f"ALTER SCHEMA {_quote_ident(owner.schema)} OWNER TO {_quote_ident(owner.role)}"
                )
                await conn.execute(f"REVOKE ALL ON SCHEMA {_quote_ident(owner.schema)} FROM PUBLIC")
        logger.info("provisioned schemas and roles in database %s", database_name)
    finally:
        await conn.close()


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))
