"""Strict ``BINOME_*`` reading: ``…_FILE`` secrets, and unknown variables named with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import SettingsError

from binome_shared.runtime.environment import (
    BinomeSettings,
    UnknownSettingsError,
    known_variables,
    reject_unknown_variables,
    unknown_variables,
)
from binome_shared.runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


class _Example(BinomeSettings):
    token: SecretStr | None = None
    port: int = 1


def test_a_setting_can_be_read_from_the_file_its_file_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-from-a-volume\n", encoding="utf-8")
    monkeypatch.setenv("BINOME_TOKEN_FILE", str(secret))
    monkeypatch.setenv("BINOME_PORT_FILE", str(_written(tmp_path / "port", "8443")))
    settings = _Example()
    assert settings.token is not None
    assert settings.token.get_secret_value() == "s3cr3t-from-a-volume"
    assert settings.port == 8443


def _written(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_a_value_and_its_file_together_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINOME_TOKEN", "inline")
    monkeypatch.setenv("BINOME_TOKEN_FILE", str(_written(tmp_path / "token", "file")))
    with pytest.raises(SettingsError, match="BINOME_TOKEN and BINOME_TOKEN_FILE"):
        _Example()


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match="BINOME_TOKEN_FILE: cannot read"):
        _Example()


def test_the_environment_wins_over_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINOME_PORT", "7")
    assert _Example().port == 7


def test_a_typo_is_reported_with_the_closest_known_name() -> None:
    environ = {
        "BINOME_KAFKA_SECURITY_PROTOCL": "SASL_SSL",
        "BINOME_KAFKA_BOOTSTRAP_SERVERS": "kafka:9093",
        "PATH": "/usr/bin",
    }
    (unknown,) = unknown_variables(environ, ServiceSettings)
    assert unknown.name == "BINOME_KAFKA_SECURITY_PROTOCL"
    assert unknown.suggestion == "BINOME_KAFKA_SECURITY_PROTOCOL"
    assert "did you mean BINOME_KAFKA_SECURITY_PROTOCOL?" in unknown.explain()


def test_every_unknown_variable_is_listed_at_once() -> None:
    environ = {
        "BINOME_ZZZ_QQQ": "1",
        "BINOME_DATABSE_URL": "postgresql://x",
        "BINOME_CLOCK": "system",
    }
    with pytest.raises(UnknownSettingsError) as raised:
        reject_unknown_variables(ServiceSettings, environ=environ)
    assert [variable.name for variable in raised.value.unknown] == [
        "BINOME_DATABSE_URL",
        "BINOME_ZZZ_QQQ",
    ]
    assert raised.value.unknown[0].suggestion == "BINOME_DATABASE_URL"
    assert raised.value.unknown[1].suggestion is None
    assert "BINOME_ZZZ_QQQ: unknown setting / réglage inconnu" in str(raised.value)


def test_file_forms_process_wide_and_stack_variables_are_known() -> None:
    environ = {
        "BINOME_KAFKA_SASL_PASSWORD_FILE": "/run/secret",
        "BINOME_LANG": "fr",
        "BINOME_FAILPOINTS": "",
        "BINOME_STACK_DIR": "/srv/binome-stack",
    }
    assert unknown_variables(environ, ServiceSettings) == []
    reject_unknown_variables(ServiceSettings, environ=environ)


def test_known_variables_cover_every_field_of_every_class_given() -> None:
    known = known_variables(ServiceSettings, _Example)
    assert {"BINOME_DATABASE_URL", "BINOME_TOKEN", "BINOME_TOKEN_FILE"} <= known
    assert "BINOME_SMTP_HOST" not in known
