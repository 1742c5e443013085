"""A database nobody provisioned is named as such, with the command that provisions it.

``binome-db provision`` (run as the database administrator) creates each service's role and
schema. Without it a service used to fail in its first migration with asyncpg's
``InvalidSchemaNameError: no schema has been selected to create in``, or to wait for ever on
a role or database that does not exist as if Postgres were merely down. These cases are now
told apart from an outage: the service logs what is missing and the fixing command, stays
not ready, and looks again every :data:`PROVISION_RECHECK_SECONDS` (the provisioning Job may
be running at the same moment).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable

import asyncpg

from binome_shared.messaging.backoff import Backoff, sleep_unless

logger = logging.getLogger(__name__)

PROVISION_RECHECK_SECONDS = 30.0
"""How often a service waiting for its database to be provisioned looks again."""

PROVISION_COMMAND = "binome-db provision"


class NotProvisionedError(Exception):
    """The service's database, role or schema does not exist (or is not the service's)."""

    def __init__(self, missing: str, *, service: str) -> None:
        self.missing = missing
        self.service = service
        super().__init__(
            f"{missing}; the database is not provisioned for {service}: run "
            f"`{PROVISION_COMMAND}` as the database administrator (BINOME_PG_ADMIN_DSN) / "
            f"la base n'est pas préparée pour {service} : lancez `{PROVISION_COMMAND}` "
            "en administrateur de la base"
        )


def not_provisioned(error: BaseException, *, service: str) -> NotProvisionedError | None:
    """What a connection error says is missing, or None for an outage (to be waited out)."""
    role = f"binome_{service}"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return NotProvisionedError(
            f"the database does not exist ({error}) / la base n'existe pas", service=service
        )
    if isinstance(error, asyncpg.InvalidPasswordError):
        # With password authentication Postgres answers the same to an unknown role as to
        # a wrong password, so as not to tell an attacker which roles exist.
        return NotProvisionedError(
            f"the role of the DSN does not exist or its password differs ({error}); the "
            f"service's role is {role} / le rôle du DSN n'existe pas ou son mot de passe "
            "diffère",
            service=service,
        )
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
        return NotProvisionedError(
            f"the role of the DSN may not connect ({error}); the service's role is {role} / "
            "le rôle du DSN ne peut pas se connecter",
            service=service,
        )
    return None


async def check_schema(conn: asyncpg.Connection, *, service: str, migrating: bool) -> None:
    """Raise :class:`NotProvisionedError` unless schema ``service`` exists and the role may
    use it (and create in it, when the service applies its own migrations)."""
    row = await conn.fetchrow(
        """
        SELECT current_user AS role, current_database() AS database,
               has_schema_privilege(n.oid, 'USAGE') AS usage,
               has_schema_privilege(n.oid, 'CREATE') AS create
        FROM (SELECT 1) AS one LEFT JOIN pg_namespace AS n ON n.nspname = $1
        """,
        service,
    )
    where = f"database {row['database']}, role {row['role']}"
    if row["usage"] is None:
        missing = f"schema {service} does not exist ({where}) / le schéma {service} n'existe pas"
    elif not row["usage"] or (migrating and not row["create"]):
        missing = (
            f"the role may not {'create in' if migrating else 'use'} schema {service} "
            f"({where}) / le rôle n'a pas les droits sur le schéma {service}"
        )
    else:
        return
    raise NotProvisionedError(missing, service=service)


async def wait_for_provisioned_pool(
    open_pool: Callable[[], Awaitable[asyncpg.Pool]],
    *,
    service: str,
    migrating: bool,
    stop: asyncio.Event,
) -> asyncpg.Pool | None:
    """Open the pool once Postgres answers and the service's database is provisioned;
    None if stopped meanwhile. An outage is retried quickly, a missing piece every
    :data:`PROVISION_RECHECK_SECONDS` with an error naming it and the fix."""
    backoff = Backoff(first=0.5, cap=5.0)
    while not stop.is_set():
        try:
            pool = await open_pool()
            try:
                async with pool.acquire() as conn:
                    await check_schema(conn, service=service, migrating=migrating)
            except BaseException:
                pool.terminate()
                raise
            return pool
        except (OSError, asyncpg.PostgresError, NotProvisionedError) as error:
            missing = error if isinstance(error, NotProvisionedError) else None
            missing = missing or not_provisioned(error, service=service)
            if isinstance(error, ssl.SSLCertVerificationError):
                delay = backoff.next()
                logger.error(
                    "the Postgres server's certificate could not be verified (%s): check "
                    "BINOME_DATABASE_SSL_ROOT_CERT_FILE and the host name of the DSN; retrying "
                    "in %.1f s / le certificat du serveur Postgres n'a pas pu être vérifié",
                    error.verify_message,
                    delay,
                )
            elif missing is None:
                delay = backoff.next()
                logger.warning(
                    "Postgres unavailable (%s); retrying in %.1f s", type(error).__name__, delay
                )
            else:
                delay = PROVISION_RECHECK_SECONDS
                logger.error("%s; checking again in %.0f s", missing, delay)
            await sleep_unless(stop, delay)
    return None
