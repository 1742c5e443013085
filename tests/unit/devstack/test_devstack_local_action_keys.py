"""The demo's action-link key pair: made once, private half to notifications only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from binome_devstack.local_action_keys import LocalActionKeys
from binome_shared.runtime.action_links import (
    ActionLinkSettings,
    action_signer_from,
    action_verifier_from,
)

pytestmark = pytest.mark.unit


def test_the_key_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = LocalActionKeys(tmp_path / "tokens")
    public = first.public_key_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(first.private_key_file.stat().st_mode) == 0o600
    assert LocalActionKeys(tmp_path / "tokens").public_key_file.read_text() == public


def test_only_notifications_gets_the_private_half(tmp_path: Path) -> None:
    keys = LocalActionKeys(tmp_path)
    assert "BINOME_ACTION_LINKS_SIGNING_KEY_FILE" in keys.service_env("notifications")
    for service in ("pairing", "sessions"):
        env = keys.service_env(service)
        assert set(env) == {"BINOME_ACTION_LINKS_PUBLIC_KEYS_FILE"}


def test_what_notifications_signs_sessions_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = LocalActionKeys(tmp_path)
    for name, value in keys.service_env("notifications").items():
        monkeypatch.setenv(name, value)
    settings = ActionLinkSettings()
    signer, verifier = action_signer_from(settings), action_verifier_from(settings, owner="x")
    assert signer is not None
    assert verifier is not None
    token = signer.sign(owner="x", tenant_id="t", subject="p", action="a", target={}, language="en")
    assert verifier.verify(token).subject == "p"
