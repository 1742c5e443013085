"""A throw-away certificate authority for the TLS settings' tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> Path:
    """The authority's certificate as a PEM file, as a mounted CA bundle would be."""
    path = tmp_path / "ca.crt"
    authority.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def client_certificate(authority: trustme.CA, tmp_path: Path) -> tuple[Path, Path]:
    """A client certificate the authority signed, and its key, as PEM files."""
    issued = authority.issue_cert("binome-pairing")
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return cert, key
