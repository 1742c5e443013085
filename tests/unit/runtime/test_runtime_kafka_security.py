"""Kafka TLS and SASL settings, and the one translation each client library receives."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from faststream.kafka.security import parse_security
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from binome_shared.runtime.kafka_security import (
    KafkaSecuritySettings,
    aiokafka_security,
    faststream_security,
)

pytestmark = pytest.mark.unit


def settings(**values: Any) -> KafkaSecuritySettings:
    return KafkaSecuritySettings.model_validate(values)


def scram(ca_file: Path, mechanism: str = "SCRAM-SHA-512") -> KafkaSecuritySettings:
    return settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="binome-pairing-kafka",
        kafka_sasl_password="a-long-generated-password",
        kafka_ssl_ca_file=ca_file,
    )


def test_the_laptop_default_is_plaintext_without_credentials() -> None:
    defaults = settings()
    assert aiokafka_security(defaults) == {"security_protocol": "PLAINTEXT"}
    assert faststream_security(defaults) is None


def test_sasl_ssl_gives_aiokafka_a_verifying_context_and_the_credentials(ca_file: Path) -> None:
    arguments = aiokafka_security(scram(ca_file))
    context = arguments.pop("ssl_context")
    assert arguments == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "binome-pairing-kafka",
        "sasl_plain_password": "a-long-generated-password",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1


@pytest.mark.parametrize(
    ("mechanism", "security_class"),
    [
        ("SCRAM-SHA-512", SASLScram512),
        ("SCRAM-SHA-256", SASLScram256),
        ("PLAIN", SASLPlaintext),
    ],
)
def test_faststream_gets_the_same_connection_as_aiokafka(
    ca_file: Path, mechanism: str, security_class: type[object]
) -> None:
    configured = scram(ca_file, mechanism)
    security = faststream_security(configured)
    assert isinstance(security, security_class)
    # FastStream hands aiokafka what its parse_security returns: compare with ours.
    from_faststream = parse_security(security)
    ours = aiokafka_security(configured)
    assert isinstance(from_faststream.pop("ssl_context"), ssl.SSLContext)
    ours.pop("ssl_context")
    assert from_faststream == ours


def test_mutual_tls_loads_the_client_certificate(
    ca_file: Path, client_certificate: tuple[Path, Path]
) -> None:
    cert, key = client_certificate
    configured = settings(
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=ca_file,
        kafka_ssl_cert_file=cert,
        kafka_ssl_key_file=key,
    )
    arguments = aiokafka_security(configured)
    assert arguments["security_protocol"] == "SSL"
    assert isinstance(arguments["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in arguments
    security = faststream_security(configured)
    assert security is not None
    assert parse_security(security)["security_protocol"] == "SSL"


def test_a_wrong_client_key_fails_at_start_up(
    authority: trustme.CA, ca_file: Path, tmp_path: Path
) -> None:
    cert, other_key = tmp_path / "client.crt", tmp_path / "other.key"
    authority.issue_cert("binome-pairing").cert_chain_pems[0].write_to_path(str(cert))
    authority.issue_cert("someone-else").private_key_pem.write_to_path(str(other_key))
    configured = settings(
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=ca_file,
        kafka_ssl_cert_file=cert,
        kafka_ssl_key_file=other_key,
    )
    with pytest.raises(ssl.SSLError):
        aiokafka_security(configured)


def test_sasl_plaintext_carries_the_credentials_without_tls() -> None:
    configured = settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="user",
        kafka_sasl_password="a-password",
    )
    assert "ssl_context" not in aiokafka_security(configured)
    security = faststream_security(configured)
    assert security is not None
    assert parse_security(security)["security_protocol"] == "SASL_PLAINTEXT"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs BINOME_KAFKA_SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "user"},
            "needs BINOME_KAFKA_SASL_USERNAME",
        ),
        ({"kafka_sasl_username": "user", "kafka_sasl_password": "pw"}, "does not use them"),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                "kafka_sasl_username": "user",
                "kafka_sasl_password": "pw",
            },
            "password in clear",
        ),
        ({"kafka_ssl_ca_file": "/etc/ca.crt"}, "does not use TLS"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_cert_file": "/etc/client.crt"},
            "go together",
        ),
        ({"kafka_security_protocol": "SASL_SSL_PLAIN"}, "Input should be"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "Input should be"),
    ],
)
def test_incoherent_kafka_security_is_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_the_password_can_come_from_a_mounted_secret(
    ca_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("from-the-kafkauser-secret", encoding="utf-8")
    monkeypatch.setenv("BINOME_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("BINOME_KAFKA_SASL_USERNAME", "binome-sessions-kafka")
    monkeypatch.setenv("BINOME_KAFKA_SASL_PASSWORD_FILE", str(password_file))
    monkeypatch.setenv("BINOME_KAFKA_SSL_CA_FILE", str(ca_file))
    arguments = aiokafka_security(KafkaSecuritySettings())
    assert arguments["sasl_plain_password"] == "from-the-kafkauser-secret"
