"""The demo's local signing key: made once, private, and its tokens accepted by a service
configured as the demo configures it (the public key as a ``…_FILE`` setting)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from binome_devstack.demo_cohort import TENANT_ID
from binome_devstack.local_tokens import LocalTokens, main
from binome_shared.runtime.http_auth import Caller, HttpAuthSettings, verifier_from

pytestmark = pytest.mark.unit


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = LocalTokens(tmp_path / "tokens")
    mode = stat.S_IMODE(first.private_key_file.stat().st_mode)
    assert mode == 0o600
    public = first.public_key_file.read_text(encoding="utf-8")
    assert LocalTokens(tmp_path / "tokens").public_key_file.read_text(encoding="utf-8") == public


def test_a_service_with_the_demo_settings_accepts_its_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = LocalTokens(tmp_path / "tokens")
    for name, value in tokens.service_env().items():
        monkeypatch.setenv(name, value)
    verifier = verifier_from(HttpAuthSettings())
    assert verifier is not None
    caller = verifier.verify(tokens.token("groupe-demo"))
    assert caller == Caller(tenant_id="groupe-demo", subject="hr-gateway")


def test_the_command_prints_a_token_for_the_demo_tenant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--state-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()
    settings = HttpAuthSettings(
        http_auth_public_keys=(tmp_path / "tokens" / "token-public-key.pem").read_text()
    )
    verifier = verifier_from(settings)
    assert verifier is not None
    assert verifier.verify(token).tenant_id == TENANT_ID
