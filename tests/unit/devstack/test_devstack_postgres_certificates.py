"""The local PostgreSQL's certificates: made once, for the loopback names, key kept private."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509

from binome_devstack.postgres_certificates import ensure_certificates, render_tls_conf

pytestmark = pytest.mark.unit


def test_the_server_certificate_names_the_loopback_and_is_signed_by_the_ca(tmp_path: Path) -> None:
    certificates = ensure_certificates(tmp_path / "tls")

    authority = x509.load_pem_x509_certificate(certificates.ca_file.read_bytes())
    server = x509.load_pem_x509_certificate(certificates.cert_file.read_bytes())
    server.verify_directly_issued_by(authority)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert stat.S_IMODE(certificates.key_file.stat().st_mode) == 0o600


def test_certificates_are_kept_from_one_start_to_the_next(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path)
    authority = first.ca_file.read_bytes()

    assert ensure_certificates(tmp_path).ca_file.read_bytes() == authority
    first.cert_file.unlink()
    assert ensure_certificates(tmp_path).ca_file.read_bytes() != authority, "a broken set is remade"


def test_the_configuration_turns_tls_on_with_those_files(tmp_path: Path) -> None:
    conf = render_tls_conf(ensure_certificates(tmp_path / "it's"))

    assert "ssl = on\n" in conf
    assert f"ssl_key_file = '{tmp_path}/it''s/server.key'" in conf
    assert "ssl_min_protocol_version = 'TLSv1.2'" in conf
