"""The settings a service is started with: refused with every reason, before anything runs."""

from __future__ import annotations

import os

import asyncpg
import pytest

from binome_sessions.bootstrap import SessionsSettings
from binome_shared.contracts.topics import HR_COMMANDS, PAIRING_EVENTS
from binome_shared.runtime.provisioning import not_provisioned
from binome_shared.runtime.startup_checks import BadSettingsError, read_settings
from binome_shared.runtime.topic_policy import TopicClass, single_broker_policy
from binome_shared.runtime.topics import planned_topics

pytestmark = pytest.mark.unit

LOCAL = {"BINOME_DATABASE_URL": "postgresql://binome_sessions:binome_sessions@h/db"}


def _environment(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name in [name for name in os.environ if name.startswith("BINOME_")]:
        monkeypatch.delenv(name)
    for name, value in {**LOCAL, **variables}.items():
        monkeypatch.setenv(name, value)


def test_local_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(monkeypatch)

    assert read_settings(SessionsSettings).database_url == LOCAL["BINOME_DATABASE_URL"]


def test_every_unknown_variable_is_named_with_its_closest_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _environment(monkeypatch, BINOME_HTTP_PROT="8000", BINOME_SMTP_PORT="25")

    with pytest.raises(BadSettingsError) as refused:
        read_settings(SessionsSettings)

    assert "BINOME_HTTP_PROT: unknown setting, did you mean BINOME_HTTP_PORT?" in str(refused.value)
    assert "BINOME_SMTP_PORT: unknown setting" in str(refused.value)


def test_an_invalid_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(monkeypatch, BINOME_HTTP_PORT="eighty")

    with pytest.raises(BadSettingsError, match=r"  - BINOME_HTTP_PORT: Input should be a valid"):
        read_settings(SessionsSettings)


def test_production_lists_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(monkeypatch, BINOME_ENVIRONMENT="production")

    with pytest.raises(BadSettingsError) as refused:
        read_settings(SessionsSettings)

    message = str(refused.value)
    assert "BINOME_DATABASE_SSLMODE=prefer" in message
    assert "BINOME_TOPIC_MIN_INSYNC_REPLICAS" not in message, "2 by default: safe"
    assert "BINOME_HTTP_AUTH_ISSUER is the local default" in message
    assert "no BINOME_ACTION_LINKS_PUBLIC_KEYS" in message, "sessions performs action links"
    assert message.count("\n  - ") == 8


def test_connection_errors_that_mean_not_provisioned_are_told_from_outages() -> None:
    role = not_provisioned(asyncpg.InvalidPasswordError("failed"), service="pairing")
    database = not_provisioned(asyncpg.InvalidCatalogNameError("nope"), service="pairing")

    assert role is not None
    assert "binome_pairing" in str(role)
    assert database is not None
    assert "the database does not exist" in str(database)
    assert not_provisioned(ConnectionRefusedError(), service="pairing") is None
    assert not_provisioned(asyncpg.TooManyConnectionsError("busy"), service="pairing") is None


def test_topics_are_planned_with_the_policy_of_their_class() -> None:
    planned = {
        config.name: config
        for config in planned_topics([HR_COMMANDS, PAIRING_EVENTS], single_broker_policy(), "t.")
    }

    assert planned["t.binome.hr.commands"].topic_class is TopicClass.COMMANDS
    assert planned["t.binome.pairing.events"].topic_class is TopicClass.EVENTS
    assert planned["t.binome.pairing.events.dlq"].topic_class is TopicClass.DEAD_LETTERS
    assert planned["t.binome.pairing.events.dlq"].partitions == 1
    assert {config.replication_factor for config in planned.values()} == {1}
    assert planned["t.binome.hr.commands"].config["retention.ms"] == str(168 * 3_600_000)
