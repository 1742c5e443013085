"""``BINOME_ENVIRONMENT=production`` lists every unsafe setting and refuses to start.

Among them, e-mails whose action links would not reach the service that acts: every
service serves its pages at the same path, ``/actions``, so notifications needs an https
base URL of its own for each service its e-mails link to (docs/actions.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from binome_devstack.local_action_keys import new_action_key, private_pem
from binome_notifications.bootstrap import NotificationsSettings
from binome_shared.contracts import action_names
from binome_shared.runtime.production_guard import (
    UnsafeProductionError,
    action_link_base_problems,
    is_weak_password,
    production_problems,
    refuse_unsafe_production,
)
from binome_shared.runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


def safe(ca_file: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "environment": "production",
        "database_url": "postgresql://binome_pairing@binome-postgres-rw:5432/binome",
        "database_password": "Zq8-generated-by-the-secret-manager",
        "database_sslmode": "verify-full",
        "database_ssl_root_cert_file": ca_file,
        "http_port": 8001,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "binome-pairing-kafka",
        "kafka_sasl_password": "Vt3-generated-by-strimzi",
        "kafka_ssl_ca_file": ca_file,
        "create_topics": False,
        "http_auth_issuer": "https://idp.example.test/realms/hr",
        "http_auth_jwks_url": "https://idp.example.test/realms/hr/certs",
        **overrides,
    }


def settings(values: dict[str, Any]) -> ServiceSettings:
    return ServiceSettings.model_validate(values)


def test_a_production_deployment_as_documented_has_no_problem(ca_file: Path) -> None:
    assert production_problems(settings(safe(ca_file))) == []
    refuse_unsafe_production(settings(safe(ca_file)))


def test_the_laptop_defaults_list_every_problem_at_once() -> None:
    laptop = settings(
        {
            "environment": "production",
            "database_url": "postgresql://binome_pairing:binome_pairing@127.0.0.1:15432/binome",
            "http_port": 8001,
            "clock": "simulated",
            "topic_replication_factor": 1,
            "topic_min_insync_replicas": 1,
            "commands_cleanup_policy": "compact",
        }
    )
    with pytest.raises(UnsafeProductionError) as raised:
        refuse_unsafe_production(laptop)
    problems = raised.value.problems
    expected_fragments = [
        "BINOME_DATABASE_URL holds a default or placeholder password",
        "Kafka in PLAINTEXT: traffic in clear",
        "Kafka without authentication",
        "BINOME_DATABASE_SSLMODE=prefer: use verify-full",
        "POST /admin/clock",
        "BINOME_CREATE_TOPICS=true",
        "no BINOME_HTTP_AUTH_JWKS_URL nor BINOME_HTTP_AUTH_PUBLIC_KEYS",
        "BINOME_HTTP_AUTH_ISSUER is the local default",
        "BINOME_TOPIC_REPLICATION_FACTOR=1",
        "BINOME_TOPIC_MIN_INSYNC_REPLICAS=1",
        "commands topics with cleanup.policy=compact keep personal data forever",
    ]
    assert len(problems) == len(expected_fragments)
    for fragment, problem in zip(expected_fragments, problems, strict=True):
        assert fragment in problem
    assert all(problem in str(raised.value) for problem in problems)


def test_outside_production_nothing_is_refused() -> None:
    refuse_unsafe_production(settings({"database_url": "postgresql://a:a@h/db", "http_port": 1}))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"kafka_sasl_password": "REPLACE-ME-kafka"}, "BINOME_KAFKA_SASL_PASSWORD holds"),
        ({"database_password": "postgres"}, "BINOME_DATABASE_PASSWORD holds"),
        (
            {"database_url": "postgresql://binome_pairing:changeme@db:5432/binome"},
            "BINOME_DATABASE_URL holds",
        ),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_ssl_ca_file": None,
            },
            "Kafka in SASL_PLAINTEXT",
        ),
        ({"database_sslmode": "verify-ca"}, "BINOME_DATABASE_SSLMODE=verify-ca"),
        ({"database_sslmode": "require"}, "BINOME_DATABASE_SSLMODE=require"),
        ({"create_topics": True}, "BINOME_CREATE_TOPICS=true"),
        ({"clock": "simulated"}, "BINOME_CLOCK=simulated"),
        (
            {"http_auth_jwks_url": "http://idp.example.test/certs"},
            "BINOME_HTTP_AUTH_JWKS_URL must use https",
        ),
        (
            {"http_auth_jwks_url": None},
            "no BINOME_HTTP_AUTH_JWKS_URL nor BINOME_HTTP_AUTH_PUBLIC_KEYS",
        ),
        ({"http_auth_issuer": "binome-local"}, "BINOME_HTTP_AUTH_ISSUER is the local default"),
        (
            {"dead_letters_cleanup_policy": "compact"},
            "dead-letters topics with cleanup.policy=compact",
        ),
    ],
)
def test_each_unsafe_setting_alone_is_one_problem(
    ca_file: Path, overrides: dict[str, Any], fragment: str
) -> None:
    (problem,) = production_problems(settings(safe(ca_file, **overrides)))
    assert fragment in problem


def test_mutual_tls_without_sasl_is_authenticated(
    ca_file: Path, client_certificate: tuple[Path, Path]
) -> None:
    cert, key = client_certificate
    mutual = safe(
        ca_file,
        kafka_security_protocol="SSL",
        kafka_sasl_username=None,
        kafka_sasl_password=None,
        kafka_ssl_cert_file=cert,
        kafka_ssl_key_file=key,
    )
    assert production_problems(settings(mutual)) == []
    without_certificate = safe(
        ca_file, kafka_security_protocol="SSL", kafka_sasl_username=None, kafka_sasl_password=None
    )
    (problem,) = production_problems(settings(without_certificate))
    assert "Kafka without authentication" in problem


@pytest.mark.parametrize(
    ("password", "user", "weak"),
    [
        ("REPLACE-ME-pairing", None, True),
        ("", None, True),
        ("Password", None, True),
        ("binome_pairing", "binome_pairing", True),
        ("xK9-long-and-random", "binome_pairing", False),
        ("binome_pairing", "binome_sessions", False),
    ],
)
def test_weak_passwords(password: str, user: str | None, weak: bool) -> None:
    assert is_weak_password(password, user=user) is weak


class _SendsEmails(ServiceSettings):
    signs_action_links = True
    serves_action_links = True


def test_a_service_with_action_links_needs_its_keys_in_production(ca_file: Path) -> None:
    problems = production_problems(_SendsEmails.model_validate(safe(ca_file)))
    assert any("BINOME_ACTION_LINKS_SIGNING_KEY" in problem for problem in problems)
    assert any("BINOME_ACTION_LINKS_PUBLIC_KEYS" in problem for problem in problems)


def test_action_link_keys_fetched_in_clear_are_refused(ca_file: Path) -> None:
    values = safe(ca_file, action_links_jwks_url="http://keys.example.test/jwks.json")
    problems = production_problems(settings(values))
    assert any("BINOME_ACTION_LINKS_JWKS_URL must use https" in p for p in problems)


BASES = {
    action_names.PAIRING: "https://actions-pairing.example.test",
    action_names.SESSIONS: "https://actions-sessions.example.test/",
    action_names.NOTIFICATIONS: "https://actions-notifications.example.test",
}


def notifications(ca_file: Path, **overrides: Any) -> NotificationsSettings:
    values = safe(
        ca_file,
        **{
            "http_port": 8003,
            "action_links_signing_key": private_pem(new_action_key()),
            "action_links_jwks_url": "https://keys.example.test/jwks.json",
            "public_base_url": "https://rh.example.test",
            "action_link_base_urls": BASES,
            **overrides,
        },
    )
    return NotificationsSettings.model_validate(values)


def test_notifications_links_to_the_three_services_actions() -> None:
    assert NotificationsSettings.action_link_owners == {
        action_names.PAIRING,
        action_names.SESSIONS,
        action_names.NOTIFICATIONS,
    }


def test_an_https_base_url_for_each_service_passes(ca_file: Path) -> None:
    assert production_problems(notifications(ca_file)) == []


@pytest.mark.parametrize("missing", sorted(BASES))
def test_a_service_without_a_base_url_is_named(ca_file: Path, missing: str) -> None:
    bases = {owner: url for owner, url in BASES.items() if owner != missing}
    (problem,) = production_problems(notifications(ca_file, action_link_base_urls=bases))
    assert problem.startswith(f"BINOME_ACTION_LINK_BASE_URLS has no base URL for {missing}: ")
    assert f"aucune URL de base pour {missing}" in problem


def test_nothing_listed_names_every_service(ca_file: Path) -> None:
    problems = production_problems(notifications(ca_file, action_link_base_urls={}))
    assert [problem.split(":")[0] for problem in problems] == [
        f"BINOME_ACTION_LINK_BASE_URLS has no base URL for {owner}" for owner in sorted(BASES)
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://actions-sessions.example.test",
        "https://",
        "actions-sessions.example.test",
        "ftp://actions-sessions.example.test",
        "",
    ],
)
def test_a_base_url_that_is_not_https_is_refused(url: str) -> None:
    (problem,) = action_link_base_problems(BASES, {**BASES, action_names.SESSIONS: url})
    assert problem.startswith(
        f"BINOME_ACTION_LINK_BASE_URLS gives sessions {url!r}: use an https URL"
    )


def test_two_services_on_one_base_url_are_refused() -> None:
    shared = BASES[action_names.PAIRING]
    (problem,) = action_link_base_problems(BASES, {**BASES, action_names.SESSIONS: shared + "/"})
    assert problem.startswith(f"pairing, sessions share the action-link base URL {shared}: ")


def test_a_misspelt_service_is_refused() -> None:
    bases = {**BASES, "session": "https://actions-session.example.test"}
    (problem,) = action_link_base_problems(BASES, bases)
    assert problem.startswith("BINOME_ACTION_LINK_BASE_URLS names 'session', which performs")


def test_outside_production_the_laptop_defaults_start(ca_file: Path) -> None:
    laptop = notifications(ca_file, environment="development", action_link_base_urls={})
    refuse_unsafe_production(laptop)
