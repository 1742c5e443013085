"""``binome-db provision``: create each service's schema and role (run as the DB admin)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from binome_shared.db.provision import provision
from binome_shared.runtime.observability import configure_logging
from binome_shared.runtime.settings import LOCAL_POSTGRES


class ProvisionSettings(BaseSettings):
    """Administrator DSN and the password each service role gets."""

    model_config = SettingsConfigDict(env_prefix="BINOME_", extra="ignore")

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
    parser.parse_args(argv)
    settings = ProvisionSettings()
    configure_logging(service="db", level=settings.log_level, json_format=False)
    asyncio.run(
        provision(
            settings.pg_admin_dsn,
            passwords={
                "pairing": settings.pairing_db_password,
                "sessions": settings.sessions_db_password,
                "notifications": settings.notifications_db_password,
            },
        )
    )
    logging.getLogger(__name__).info("schemas and roles are in place")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
