"""How the services reach Postgres over TLS, and check whom they reach.

``sslmode=verify-full`` is the only mode that resists a man in the middle: the server's
certificate must be signed by the configured CA *and* name the host in the DSN. The weaker
modes stay available for the laptop, where Postgres listens on the loopback without TLS.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator

from binome_shared.runtime.environment import BinomeSettings

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
VERIFYING_MODES: frozenset[str] = frozenset({"verify-ca", "verify-full"})


class PostgresTlsSettings(BinomeSettings):
    """``BINOME_DATABASE_SSL*``: TLS towards Postgres (``verify-full`` in production), for
    the services and the administration tool (``binome-db``) alike."""

    database_sslmode: SslMode = Field(
        default="prefer",
        description="libpq sslmode; `verify-full` in production (CA and host name checked).",
    )
    database_ssl_root_cert_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CA that signs the Postgres server certificate.",
    )

    @model_validator(mode="after")
    def _verifying_modes_name_their_ca(self) -> Self:
        if self.database_sslmode in VERIFYING_MODES and self.database_ssl_root_cert_file is None:
            raise ValueError(
                f"sslmode {self.database_sslmode} needs BINOME_DATABASE_SSL_ROOT_CERT_FILE / "
                f"sslmode {self.database_sslmode} exige le fichier de l'autorité (CA)"
            )
        return self


class DatabaseTlsSettings(PostgresTlsSettings):
    """A service's TLS towards Postgres, and its role's password when kept out of the DSN."""

    database_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the service's role, when kept out of the DSN "
            "(prefer `BINOME_DATABASE_PASSWORD_FILE`)."
        ),
    )


def asyncpg_ssl(settings: PostgresTlsSettings) -> ssl.SSLContext | str:
    """The ``ssl=`` argument of ``asyncpg.connect`` / ``asyncpg.create_pool``.

    A verifying context for ``verify-ca`` / ``verify-full`` (the CA file is ours, not
    ``~/.postgresql/root.crt``); the libpq mode name otherwise, which asyncpg understands.
    """
    if settings.database_sslmode not in VERIFYING_MODES:
        return settings.database_sslmode
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(settings.database_ssl_root_cert_file)
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # verify-ca trusts any certificate of the CA, whatever host it names.
    context.check_hostname = settings.database_sslmode == "verify-full"
    return context


def asyncpg_connection(settings: DatabaseTlsSettings, dsn: str) -> dict[str, Any]:
    """Keyword arguments for ``asyncpg.connect`` / ``create_pool``: DSN, TLS, password.

    ``asyncpg.create_pool(**asyncpg_connection(settings, settings.database_url), ...)``.
    """
    arguments: dict[str, Any] = {"dsn": dsn, "ssl": asyncpg_ssl(settings)}
    if settings.database_password is not None:
        arguments["password"] = settings.database_password.get_secret_value()
    return arguments
