"""``binome-db``: database administration, run as the DB admin.

``provision`` creates each service's schema and role; ``outbox-set-aside`` lists the outbox
rows the relay set aside (records Kafka refused for good) and ``outbox-requeue`` gives them
back to the relay once their cause is fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from ssl import SSLContext

import asyncpg
from pydantic import Field

from binome_shared.db.provision import SERVICES, provision
from binome_shared.messaging.set_aside import list_set_aside, requeue_set_aside
from binome_shared.runtime.observability import configure_logging
from binome_shared.runtime.postgres_tls import PostgresTlsSettings, asyncpg_ssl
from binome_shared.runtime.settings import LOCAL_POSTGRES


class ProvisionSettings(PostgresTlsSettings):
    """Administrator DSN, the password each service role gets, and TLS towards Postgres
    (``BINOME_DATABASE_SSLMODE``, ``BINOME_DATABASE_SSL_ROOT_CERT_FILE``: as the services)."""

    pg_admin_dsn: str = Field(
        default=f"postgresql://binome_admin:binome_admin@{LOCAL_POSTGRES}/binome",
        description="DSN of a role allowed to create roles and schemas.",
    )
    pairing_db_password: str = Field(default="binome_pairing")
    sessions_db_password: str = Field(default="binome_sessions")
    notifications_db_password: str = Field(default="binome_notifications")
    log_level: str = Field(default="INFO")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="binome-db", description="Binôme database administration")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "provision", help="create or update the three service schemas and roles (idempotent)"
    )
    listing = commands.add_parser(
        "outbox-set-aside", help="list the outbox rows a service's relay set aside, and why"
    )
    listing.add_argument("service", choices=SERVICES)
    requeue = commands.add_parser(
        "outbox-requeue", help="give set-aside outbox rows back to the relay (cause fixed)"
    )
    requeue.add_argument("service", choices=SERVICES)
    requeue.add_argument("ids", nargs="+", type=int, metavar="ID", help="outbox row ids")
    args = parser.parse_args(argv)
    settings = ProvisionSettings()
    configure_logging(service="db", level=settings.log_level, json_format=False)
    tls = asyncpg_ssl(settings)
    if args.command == "outbox-set-aside":
        asyncio.run(_print_set_aside(settings.pg_admin_dsn, tls, args.service))
        return 0
    if args.command == "outbox-requeue":
        return asyncio.run(_requeue(settings.pg_admin_dsn, tls, args.service, args.ids))
    asyncio.run(
        provision(
            settings.pg_admin_dsn,
            passwords={
                "pairing": settings.pairing_db_password,
                "sessions": settings.sessions_db_password,
                "notifications": settings.notifications_db_password,
            },
            ssl=tls,
        )
    )
    logging.getLogger(__name__).info("schemas and roles are in place")
    return 0


async def _in_schema(admin_dsn: str, tls: SSLContext | str, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(admin_dsn, ssl=tls, server_settings={"search_path": service})


async def _print_set_aside(admin_dsn: str, tls: SSLContext | str, service: str) -> None:
    conn = await _in_schema(admin_dsn, tls, service)
    try:
        rows = await list_set_aside(conn)
    finally:
        await conn.close()
    for row in rows:
        print(
            f"{row['id']}\t{row['set_aside_at'].isoformat()}\t{row['topic']}\t"
            f"{row['value_bytes']} bytes\tevent {row['event_id']}\t{row['set_aside_reason']}"
        )
    print(f"{len(rows)} set aside in {service}'s outbox")


async def _requeue(admin_dsn: str, tls: SSLContext | str, service: str, ids: Sequence[int]) -> int:
    conn = await _in_schema(admin_dsn, tls, service)
    try:
        requeued = await requeue_set_aside(conn, ids)
    finally:
        await conn.close()
    print(f"re-queued {len(requeued)} of {len(ids)}: {' '.join(map(str, requeued))}")
    return 0 if len(requeued) == len(set(ids)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
