"""How every Kafka client of Binôme authenticates and encrypts, configured in one place.

Managed and operator-run clusters (Strimzi, Confluent, MSK, Aiven) require TLS and SASL. The
settings below are read once; :func:`aiokafka_security` turns them into the keyword
arguments of aiokafka's producer, consumer and admin client, and :func:`faststream_security`
into the ``security=`` object of FastStream's ``KafkaBroker``, so that no client can be
configured differently from the others.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal, Self

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import Field, SecretStr, model_validator

from binome_shared.runtime.environment import BinomeSettings

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

TLS_PROTOCOLS: frozenset[str] = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS: frozenset[str] = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})

_FASTSTREAM_SASL: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


class KafkaSecuritySettings(BinomeSettings):
    """``BINOME_KAFKA_*``: TLS and SASL for every Kafka client (plaintext on the laptop)."""

    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="`SASL_SSL` in production (TLS + SCRAM); `PLAINTEXT` only on the laptop.",
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="SCRAM-SHA-512",
        description="SASL mechanism; `PLAIN` sends the password itself, so only over TLS.",
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="SASL user: the service's own Kafka principal."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (prefer `BINOME_KAFKA_SASL_PASSWORD_FILE`)."
    )
    kafka_ssl_ca_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CAs of the brokers' certificates (system CAs if unset).",
    )
    kafka_ssl_cert_file: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS, with its key."
    )
    kafka_ssl_key_file: Path | None = Field(
        default=None, description="Private key (PEM) of the client certificate."
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of the client key, if it is encrypted."
    )

    @model_validator(mode="after")
    def _coherent_kafka_security(self) -> Self:
        problems = kafka_security_contradictions(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in TLS_PROTOCOLS

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_security_protocol in SASL_PROTOCOLS


def kafka_security_contradictions(settings: KafkaSecuritySettings) -> list[str]:
    """Combinations that would be silently ignored or leak a secret; empty when coherent."""
    problems: list[str] = []
    protocol = settings.kafka_security_protocol
    if protocol in SASL_PROTOCOLS and not (
        settings.kafka_sasl_username and settings.kafka_sasl_password
    ):
        problems.append(
            f"{protocol} needs BINOME_KAFKA_SASL_USERNAME and BINOME_KAFKA_SASL_PASSWORD / "
            f"{protocol} exige un utilisateur et un mot de passe SASL"
        )
    if protocol not in SASL_PROTOCOLS and (
        settings.kafka_sasl_username or settings.kafka_sasl_password
    ):
        problems.append(
            f"SASL credentials are set but {protocol} does not use them / "
            f"identifiants SASL fournis mais {protocol} ne les utilise pas"
        )
    if protocol == "SASL_PLAINTEXT" and settings.kafka_sasl_mechanism == "PLAIN":
        problems.append(
            "SASL PLAIN would send the password in clear: use SASL_SSL / "
            "SASL PLAIN enverrait le mot de passe en clair : utilisez SASL_SSL"
        )
    tls_files = (
        settings.kafka_ssl_ca_file,
        settings.kafka_ssl_cert_file,
        settings.kafka_ssl_key_file,
    )
    if protocol not in TLS_PROTOCOLS and any(tls_files):
        problems.append(
            f"TLS files are set but {protocol} does not use TLS / "
            f"fichiers TLS fournis mais {protocol} n'utilise pas TLS"
        )
    if (settings.kafka_ssl_cert_file is None) != (settings.kafka_ssl_key_file is None):
        problems.append(
            "BINOME_KAFKA_SSL_CERT_FILE and BINOME_KAFKA_SSL_KEY_FILE go together / "
            "le certificat client et sa clé vont ensemble"
        )
    return problems


def kafka_ssl_context(settings: KafkaSecuritySettings) -> ssl.SSLContext | None:
    """A verifying TLS context (hostname checked, TLS 1.2+), or None without TLS."""
    if not settings.kafka_uses_tls:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH,
        cafile=str(settings.kafka_ssl_ca_file) if settings.kafka_ssl_ca_file else None,
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.kafka_ssl_cert_file and settings.kafka_ssl_key_file:
        key_password = settings.kafka_ssl_key_password
        context.load_cert_chain(
            certfile=settings.kafka_ssl_cert_file,
            keyfile=settings.kafka_ssl_key_file,
            password=key_password.get_secret_value() if key_password else None,
        )
    return context


def aiokafka_security(settings: KafkaSecuritySettings) -> dict[str, Any]:
    """Keyword arguments for ``AIOKafkaProducer``, ``AIOKafkaConsumer``, ``AIOKafkaAdminClient``.

    ``AIOKafkaProducer(bootstrap_servers=..., **aiokafka_security(settings), ...)``.
    """
    arguments: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    context = kafka_ssl_context(settings)
    if context is not None:
        arguments["ssl_context"] = context
    if settings.kafka_uses_sasl:
        password = settings.kafka_sasl_password
        arguments |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": password.get_secret_value() if password else None,
        }
    return arguments


def faststream_security(settings: KafkaSecuritySettings) -> BaseSecurity | None:
    """The ``security=`` argument of FastStream's ``KafkaBroker`` (None in plaintext)."""
    context = kafka_ssl_context(settings)
    if settings.kafka_uses_sasl:
        password = settings.kafka_sasl_password
        sasl = _FASTSTREAM_SASL[settings.kafka_sasl_mechanism]
        return sasl(
            username=settings.kafka_sasl_username or "",
            password=password.get_secret_value() if password else "",
            ssl_context=context,
            use_ssl=settings.kafka_uses_tls,
        )
    if context is not None:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return None
