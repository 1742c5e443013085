"""``BINOME_ENVIRONMENT=production`` refuses to start with anything unsafe configured.

Every problem is listed at once, so an operator fixes the deployment in one pass instead of
discovering one refusal per restart. The checks are a pure function of the settings.
Those about one concern take that concern's settings mixin (:class:`KafkaSecuritySettings`,
:class:`HttpAuthSettings`, any :class:`BinomeSettings` for the passwords), so a program that
is not a service (the report server) reuses them: :func:`client_problems`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import ClassVar, Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import SecretStr

from binome_shared.runtime.environment import BinomeSettings
from binome_shared.runtime.http_auth import HttpAuthSettings
from binome_shared.runtime.kafka_security import KafkaSecuritySettings
from binome_shared.runtime.settings import ServiceSettings
from binome_shared.runtime.topic_policy import TopicClass

PLACEHOLDER_MARKS = ("replace-me", "changeme", "change-me", "example", "placeholder", "xxx")
WEAK_PASSWORDS = frozenset({"", "password", "passwd", "postgres", "secret", "admin", "binome"})
PRODUCTION_REPLICATION_FACTOR = 3
PRODUCTION_MIN_INSYNC_REPLICAS = 2


class UnsafeProductionError(RuntimeError):
    """The settings of a production process, with every reason it must not start."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "refusing to start in production / refus de démarrer en production:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )


def is_weak_password(password: str, *, user: str | None = None) -> bool:
    """A placeholder, a well-known default, or the user's own name (the local stack's rule)."""
    lowered = password.lower()
    return (
        lowered in WEAK_PASSWORDS
        or any(mark in lowered for mark in PLACEHOLDER_MARKS)
        or (user is not None and lowered == user.lower())
    )


def _secrets(settings: BinomeSettings) -> Iterator[tuple[str, str, str | None]]:
    """(variable, password, user) for every secret and every password inside a URL."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        variable = f"BINOME_{name.upper()}"
        if isinstance(value, SecretStr):
            yield variable, value.get_secret_value(), None
        elif isinstance(value, str) and "://" in value:
            parts = urlsplit(value)
            if parts.password is not None:
                yield variable, parts.password, parts.username


def _password_problems(settings: BinomeSettings) -> Iterator[str]:
    for variable, password, user in _secrets(settings):
        if is_weak_password(password, user=user):
            yield (
                f"{variable} holds a default or placeholder password / "
                "contient un mot de passe par défaut ou d'exemple"
            )


def _kafka_problems(settings: KafkaSecuritySettings) -> Iterator[str]:
    protocol = settings.kafka_security_protocol
    if not settings.kafka_uses_tls:
        yield (
            f"Kafka in {protocol}: traffic in clear, use SASL_SSL / "
            f"Kafka en {protocol} : trafic en clair, utilisez SASL_SSL"
        )
    if not settings.kafka_uses_sasl and settings.kafka_ssl_cert_file is None:
        yield (
            "Kafka without authentication: use SASL_SSL (or a client certificate) / "
            "Kafka sans authentification : utilisez SASL_SSL (ou un certificat client)"
        )


def _postgres_problems(settings: ServiceSettings) -> Iterator[str]:
    if settings.database_sslmode != "verify-full":
        yield (
            f"BINOME_DATABASE_SSLMODE={settings.database_sslmode}: use verify-full / "
            f"utilisez verify-full (certificat et nom d'hôte vérifiés)"
        )


def _runtime_problems(settings: ServiceSettings) -> Iterator[str]:
    if settings.clock == "simulated":
        yield (
            "BINOME_CLOCK=simulated would let anyone move time through POST /admin/clock / "
            "permettrait à quiconque de déplacer le temps via POST /admin/clock"
        )
    if settings.create_topics:
        yield (
            "BINOME_CREATE_TOPICS=true: topics are provisioned as code (KafkaTopic) / "
            "les topics sont créés par le code de déploiement (KafkaTopic)"
        )


def _http_auth_problems(settings: HttpAuthSettings) -> Iterator[str]:
    if not settings.http_auth_has_keys:
        yield (
            "no BINOME_HTTP_AUTH_JWKS_URL nor BINOME_HTTP_AUTH_PUBLIC_KEYS: HR cannot read "
            "programme data / aucune clé de jeton : les RH ne peuvent lire aucune donnée"
        )
    elif settings.http_auth_jwks_url and not settings.http_auth_jwks_url.startswith("https://"):
        yield (
            "BINOME_HTTP_AUTH_JWKS_URL must use https (keys fetched in clear could be forged) / "
            "doit utiliser https (des clés reçues en clair pourraient être falsifiées)"
        )
    if settings.http_auth_issuer == "binome-local":
        yield (
            "BINOME_HTTP_AUTH_ISSUER is the local default: set your identity provider's issuer / "
            "valeur locale par défaut : indiquez l'émetteur de votre fournisseur d'identité"
        )


def _action_link_problems(settings: ServiceSettings) -> Iterator[str]:
    if settings.signs_action_links and not settings.action_links_can_sign:
        yield (
            "no BINOME_ACTION_LINKS_SIGNING_KEY: e-mails cannot carry signed action links / "
            "aucune clé de signature : les e-mails ne peuvent porter de liens d'action"
        )
    if settings.serves_action_links and not settings.action_links_can_verify:
        yield (
            "no BINOME_ACTION_LINKS_PUBLIC_KEYS nor BINOME_ACTION_LINKS_JWKS_URL: no action "
            "link can be verified / aucune clé publique : aucun lien d'action vérifiable"
        )
    url = settings.action_links_jwks_url
    if url and not url.startswith("https://"):
        yield (
            "BINOME_ACTION_LINKS_JWKS_URL must use https (keys fetched in clear could be "
            "forged) / doit utiliser https (des clés reçues en clair pourraient être falsifiées)"
        )


@runtime_checkable
class LinksToActionPages(Protocol):
    """Settings of a service whose messages carry action links (notifications): which
    services perform those actions, and where each one's pages are reached."""

    action_link_owners: ClassVar[frozenset[str]]
    action_link_base_urls: dict[str, str]


def action_link_base_problems(owners: Collection[str], base_urls: Mapping[str, str]) -> list[str]:
    """Why the links to each owner's ``/actions`` would not reach it: no base URL of its own
    (``BINOME_PUBLIC_BASE_URL``, the fallback, is the HR platform's address, where no service
    serves its pages), one that is not https, two owners on one base URL (every service
    serves the same path, so one would get the other's links), or a base URL for a service
    that performs no action (a misspelt name)."""
    return [
        *_unreachable_bases(owners, base_urls),
        *_shared_bases(owners, base_urls),
        *_unknown_owners(owners, base_urls),
    ]


def _unreachable_bases(owners: Collection[str], base_urls: Mapping[str, str]) -> Iterator[str]:
    for owner in sorted(owners):
        url = base_urls.get(owner)
        if url is None:
            yield (
                f"BINOME_ACTION_LINK_BASE_URLS has no base URL for {owner}: its action links "
                f"would go to BINOME_PUBLIC_BASE_URL, where {owner} does not serve /actions / "
                f"aucune URL de base pour {owner} : ses liens d'action iraient vers "
                f"BINOME_PUBLIC_BASE_URL, où {owner} ne sert pas /actions"
            )
            continue
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            yield (
                f"BINOME_ACTION_LINK_BASE_URLS gives {owner} {url!r}: use an https URL / "
                f"donne {url!r} à {owner} : utilisez une URL https"
            )


def _shared_bases(owners: Collection[str], base_urls: Mapping[str, str]) -> Iterator[str]:
    sharing: dict[str, list[str]] = {}
    for owner in sorted(set(owners) & set(base_urls)):
        sharing.setdefault(base_urls[owner].rstrip("/"), []).append(owner)
    for base, sharers in sharing.items():
        if len(sharers) > 1:
            names = ", ".join(sharers)
            yield (
                f"{names} share the action-link base URL {base}: each serves its own /actions, "
                f"give each its own in BINOME_ACTION_LINK_BASE_URLS / partagent cette URL de "
                f"base : chacun sert son propre /actions, donnez-en une à chacun"
            )


def _unknown_owners(owners: Collection[str], base_urls: Mapping[str, str]) -> Iterator[str]:
    known = ", ".join(sorted(owners))
    for unknown in sorted(set(base_urls) - set(owners)):
        yield (
            f"BINOME_ACTION_LINK_BASE_URLS names {unknown!r}, which performs no action (known: "
            f"{known}) / ne réalise aucune action (connus : {known})"
        )


def _action_link_base_url_problems(settings: ServiceSettings) -> Iterator[str]:
    if isinstance(settings, LinksToActionPages):
        yield from action_link_base_problems(
            settings.action_link_owners, settings.action_link_base_urls
        )


def _topic_problems(settings: ServiceSettings) -> Iterator[str]:
    if settings.topic_replication_factor < PRODUCTION_REPLICATION_FACTOR:
        yield (
            f"BINOME_TOPIC_REPLICATION_FACTOR={settings.topic_replication_factor}: "
            f"at least {PRODUCTION_REPLICATION_FACTOR} / au moins {PRODUCTION_REPLICATION_FACTOR}"
        )
    if settings.topic_min_insync_replicas < PRODUCTION_MIN_INSYNC_REPLICAS:
        yield (
            f"BINOME_TOPIC_MIN_INSYNC_REPLICAS={settings.topic_min_insync_replicas}: "
            f"at least {PRODUCTION_MIN_INSYNC_REPLICAS} / au moins "
            f"{PRODUCTION_MIN_INSYNC_REPLICAS}"
        )
    personal = {
        TopicClass.COMMANDS: settings.commands_cleanup_policy,
        TopicClass.DEAD_LETTERS: settings.dead_letters_cleanup_policy,
    }
    for topic_class, policy in personal.items():
        if "delete" not in policy:
            yield (
                f"{topic_class} topics with cleanup.policy={policy} keep personal data forever / "
                f"conserveraient des données personnelles sans limite"
            )


def production_problems(settings: ServiceSettings) -> list[str]:
    """Every reason these settings are unsafe in production (empty when they are safe)."""
    return [
        *_password_problems(settings),
        *_kafka_problems(settings),
        *_postgres_problems(settings),
        *_runtime_problems(settings),
        *_http_auth_problems(settings),
        *_action_link_problems(settings),
        *_action_link_base_url_problems(settings),
        *_topic_problems(settings),
    ]


class KafkaHttpClientSettings(KafkaSecuritySettings, HttpAuthSettings):
    """What a program reading Kafka and answering bearer-token callers configures (the
    report server's settings are one)."""


def client_problems(settings: KafkaHttpClientSettings) -> list[str]:
    """Why a Kafka reader with a bearer-token HTTP API is unsafe in production: a weak
    password, Kafka in clear or unauthenticated, no or unsafe token keys (the services'
    checks of the same settings)."""
    return [
        *_password_problems(settings),
        *_kafka_problems(settings),
        *_http_auth_problems(settings),
    ]


def refuse_unsafe_production(settings: ServiceSettings) -> None:
    """Raise :class:`UnsafeProductionError` when in production with any problem."""
    if settings.environment != "production":
        return
    problems = production_problems(settings)
    if problems:
        raise UnsafeProductionError(problems)
