"""TLS for the local PostgreSQL: a throw-away certificate authority and a server certificate.

The local cluster accepts TLS so that the services' ``BINOME_DATABASE_SSLMODE=verify-full``
(production's setting) can be tried on a laptop, with
``BINOME_DATABASE_SSL_ROOT_CERT_FILE=<stack dir>/postgres/tls/ca.crt``. Plaintext keeps
working for every other client. The authority is made once per cluster, its private key
dropped as soon as it has signed: it can vouch for this one server and nothing else.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALIDITY: Final = datetime.timedelta(days=3650)
SERVER_NAMES: Final = ("localhost",)
SERVER_ADDRESSES: Final = ("127.0.0.1", "::1")
PUBLIC_FILE_MODE: Final = 0o644
PRIVATE_FILE_MODE: Final = 0o600


@dataclass(frozen=True, slots=True)
class ServerCertificates:
    """Where the local cluster's CA, certificate and key live."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        """The authority's certificate: ``BINOME_DATABASE_SSL_ROOT_CERT_FILE``."""
        return self.directory / "ca.crt"

    @property
    def cert_file(self) -> Path:
        return self.directory / "server.crt"

    @property
    def key_file(self) -> Path:
        return self.directory / "server.key"

    def complete(self) -> bool:
        return all(path.is_file() for path in (self.ca_file, self.cert_file, self.key_file))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Binôme local stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _authority(now: datetime.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Binôme local PostgreSQL CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _server(
    authority_key: ec.EllipticCurvePrivateKey,
    authority: x509.Certificate,
    now: datetime.datetime,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    alternative_names += [
        x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_ADDRESSES
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    return key, certificate


def _write(path: Path, content: bytes, mode: int) -> None:
    path.write_bytes(content)
    path.chmod(mode)


def ensure_certificates(directory: Path) -> ServerCertificates:
    """The certificates under ``directory``, made (all three afresh) if any is missing."""
    certificates = ServerCertificates(directory)
    if certificates.complete():
        return certificates
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    authority_key, authority = _authority(now)
    server_key, server = _server(authority_key, authority, now)
    _write(
        certificates.key_file,
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        PRIVATE_FILE_MODE,
    )
    _write(certificates.cert_file, _pem(server), PUBLIC_FILE_MODE)
    # The CA file last: its presence marks a complete set.
    _write(certificates.ca_file, _pem(authority), PUBLIC_FILE_MODE)
    return certificates


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def render_tls_conf(certificates: ServerCertificates) -> str:
    """``postgresql.conf`` lines turning TLS on (plaintext connections still accepted)."""
    lines = [
        "ssl = on",
        f"ssl_cert_file = {_quoted(certificates.cert_file)}",
        f"ssl_key_file = {_quoted(certificates.key_file)}",
        "ssl_min_protocol_version = 'TLSv1.2'",
    ]
    return "\n".join(lines) + "\n"
