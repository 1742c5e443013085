"""Postgres TLS: the ``ssl=`` asyncpg receives for each sslmode."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from binome_shared.runtime.postgres_tls import (
    DatabaseTlsSettings,
    asyncpg_connection,
    asyncpg_ssl,
)

pytestmark = pytest.mark.unit


def settings(**values: Any) -> DatabaseTlsSettings:
    return DatabaseTlsSettings.model_validate(values)


def test_verify_full_checks_the_certificate_and_the_host_name(ca_file: Path) -> None:
    context = asyncpg_ssl(
        settings(database_sslmode="verify-full", database_ssl_root_cert_file=ca_file)
    )
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert len(context.get_ca_certs()) == 1


def test_verify_ca_checks_the_certificate_only(ca_file: Path) -> None:
    context = asyncpg_ssl(
        settings(database_sslmode="verify-ca", database_ssl_root_cert_file=ca_file)
    )
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require"])
def test_weaker_modes_are_passed_to_asyncpg_by_name(mode: str) -> None:
    assert asyncpg_ssl(settings(database_sslmode=mode)) == mode


def test_the_laptop_default_prefers_tls_without_requiring_it() -> None:
    assert asyncpg_ssl(settings()) == "prefer"


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_a_verifying_mode_without_a_ca_is_refused(mode: str) -> None:
    with pytest.raises(ValidationError, match="BINOME_DATABASE_SSL_ROOT_CERT_FILE"):
        settings(database_sslmode=mode)


def test_connection_arguments_carry_the_dsn_tls_and_a_separate_password(ca_file: Path) -> None:
    configured = settings(
        database_sslmode="verify-full",
        database_ssl_root_cert_file=ca_file,
        database_password="from-the-role-secret",
    )
    dsn = "postgresql://binome_pairing@binome-postgres-rw:5432/binome"
    arguments = asyncpg_connection(configured, dsn)
    assert arguments["dsn"] == dsn
    assert arguments["password"] == "from-the-role-secret"
    assert isinstance(arguments["ssl"], ssl.SSLContext)


def test_without_a_separate_password_the_dsn_keeps_its_own() -> None:
    assert asyncpg_connection(settings(), "postgresql://u:p@h/db") == {
        "dsn": "postgresql://u:p@h/db",
        "ssl": "prefer",
    }
