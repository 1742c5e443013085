"""``binome-stack up --secure`` for real: TLS, SCRAM users and the catalogue's ACLs enforced.

Each client here is configured the way a service is, through ``BINOME_KAFKA_*`` variables
(the password from its file) read by ``KafkaSecuritySettings`` and turned into aiokafka
arguments by ``aiokafka_security``; the broker is a private secured stack.
"""

from __future__ import annotations

import dataclasses
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from binome_devstack import StackSettings, ensure_stack
from binome_devstack.errors import StackError
from binome_devstack.kafka_acls import client_security, platform_principals
from binome_devstack.kafka_provision import provision
from binome_devstack.kafka_tls import SUPER_USER, KafkaSecrets, secure_env_exports
from binome_devstack.service_definitions import REPORT
from binome_devstack.settings import LOOPBACK
from binome_integrations.report.events import REPORT_TOPICS, ProgrammeEvents, topic_partitions
from binome_shared.contracts.acls import principal_name
from binome_shared.contracts.base import Envelope, Message
from binome_shared.contracts.notifications_events import NotificationSent
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.programme import ProgrammeRules
from binome_shared.contracts.sessions_messages.pulse import PulseCheckRequested
from binome_shared.contracts.topics import SESSION_COMMANDS
from binome_shared.messaging.cloudevents import encode
from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security
from tests.support.private_stack import private_settings, stopped_and_removed
from tests.support.programmes import programme_definition
from tests.support.published import pair_event, published

pytestmark = pytest.mark.integration

PAIRING = principal_name("pairing")
REPORT_PRINCIPAL = principal_name(REPORT)
PROGRAMME = "prog-report-acl"
REQUEST_TIMEOUT_MS = 10_000


@dataclass(frozen=True, kw_only=True)
class SecuredStack:
    settings: StackSettings
    prefix: str

    @property
    def secrets(self) -> KafkaSecrets:
        return KafkaSecrets(directory=self.settings.kafka_secrets_dir)

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"


@pytest.fixture(scope="module")
def secured() -> Iterator[SecuredStack]:
    with stopped_and_removed(private_settings(secure=True)) as settings:
        ensure_stack(kafka=True, postgres=False, settings=settings)
        yield SecuredStack(settings=settings, prefix=f"t{uuid.uuid4().hex[:8]}.")


@pytest.fixture(scope="module")
async def topics(secured: SecuredStack) -> SecuredStack:
    """The platform's topics (made by the stack's admin) and the ACLs for this prefix."""
    created, bindings = await provision(secured.settings, secured.prefix)
    assert secured.topic("binome.pairing.events") in created
    assert bindings > 0
    return secured


def service_security(
    monkeypatch: pytest.MonkeyPatch, stack: SecuredStack, user: str, *, ca_file: Path | None = None
) -> dict[str, Any]:
    """aiokafka arguments of a service configured by ``binome-stack env --principal user``."""
    for line in secure_env_exports(stack.settings, principal=user):
        variable, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(variable, value)
    if ca_file is not None:
        monkeypatch.setenv("BINOME_KAFKA_SSL_CA_FILE", str(ca_file))
    return aiokafka_security(KafkaSecuritySettings())


def producer(stack: SecuredStack, security: dict[str, Any]) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        **security,
    )


async def test_a_service_produces_and_consumes_its_own_topics(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = topics.topic("binome.hr.commands")
    async with producer(topics, client_security(topics.settings)) as admin_producer:
        await admin_producer.send_and_wait(command, b"enrol")
    security = service_security(monkeypatch, topics, PAIRING)
    async with producer(topics, security) as pairing_producer:
        written = await pairing_producer.send_and_wait(
            topics.topic("binome.pairing.events"), b"paired"
        )
    consumer = AIOKafkaConsumer(
        command,
        bootstrap_servers=topics.settings.kafka_bootstrap,
        group_id=f"{topics.prefix}binome-pairing",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **security,
    )
    async with consumer:
        batch = await consumer.getmany(timeout_ms=15_000)
        await consumer.commit()
    assert written.offset == 0
    assert [record.value for records in batch.values() for record in records] == [b"enrol"]


async def test_writing_another_services_events_is_refused_by_the_broker(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    security = service_security(monkeypatch, topics, PAIRING)
    async with producer(topics, security) as pairing_producer:
        with pytest.raises(TopicAuthorizationFailedError):
            await pairing_producer.send_and_wait(topics.topic("binome.sessions.events"), b"forged")


def report_story() -> list[Envelope[Message]]:
    """One fact of the programme on each topic the report server replays."""
    facts: list[Message] = [
        programme_definition(ProgrammeRules(starts_on=date(2027, 1, 4))),
        pair_event(PairFormed, "p-1"),
        PulseCheckRequested(pulse_number=1, pair_id="p-1", mentor_id="Y1", mentee_id="M1"),
        NotificationSent(
            delivery_key="d-1", kind="introduction", channel="email", recipient_id="Y1", attempts=1
        ),
    ]
    assert {fact.topic for fact in facts} == set(REPORT_TOPICS)
    return [published(fact, programme_id=PROGRAMME) for fact in facts]


async def test_the_report_principal_replays_its_topics_and_may_write_nothing(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = report_story()
    async with producer(topics, client_security(topics.settings)) as admin_producer:
        for envelope in story:
            record = encode(envelope, topic=envelope.data.topic.full_name(topics.prefix))
            await admin_producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
    security = service_security(monkeypatch, topics, REPORT_PRINCIPAL)
    # The server's own path: list and describe the topics, fetch them without a group.
    replayed = await ProgrammeEvents(
        bootstrap_servers=topics.settings.kafka_bootstrap,
        topic_prefix=topics.prefix,
        tenant_id=story[0].tenant_id,
        programme_id=PROGRAMME,
        client_options=security,
    ).collect()
    assert sorted(envelope.id for envelope in replayed) == sorted(e.id for e in story)
    # A topic it does not replay is not even visible to it.
    hidden = SESSION_COMMANDS.full_name(topics.prefix)
    assert await topic_partitions(topics.settings.kafka_bootstrap, [hidden], security) == []
    # A producer as the services make it (idempotent) needs Write on some topic to start.
    idempotent = producer(topics, security)
    try:
        with pytest.raises(ClusterAuthorizationFailedError):
            await idempotent.start()
    finally:
        await idempotent.stop()
    # A plain producer gets through to the topics, and each one refuses it.
    plain = AIOKafkaProducer(
        bootstrap_servers=topics.settings.kafka_bootstrap,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        **security,
    )
    async with plain:
        for name in [
            *(spec.full_name(topics.prefix) for spec in REPORT_TOPICS),
            *(spec.dead_letter_name(topics.prefix) for spec in REPORT_TOPICS),
        ]:
            with pytest.raises(TopicAuthorizationFailedError):
                await plain.send_and_wait(name, b"forged")


async def test_a_wrong_password_fails_authentication(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password\n", encoding="utf-8")
    service_security(monkeypatch, topics, PAIRING)
    monkeypatch.setenv("BINOME_KAFKA_SASL_PASSWORD_FILE", str(wrong))
    with pytest.raises(SaslAuthenticationFailed):
        await create_conn(
            LOOPBACK, topics.settings.kafka_port, **aiokafka_security(KafkaSecuritySettings())
        )


async def test_a_broker_certificate_from_an_untrusted_ca_fails_the_handshake(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other_ca = KafkaSecrets(directory=tmp_path / "other")
    other_ca.ensure([])
    security = service_security(monkeypatch, topics, PAIRING, ca_file=other_ca.ca_file)
    with pytest.raises(ssl.SSLCertVerificationError):
        await create_conn(LOOPBACK, topics.settings.kafka_port, **security)


async def test_the_right_ca_and_password_do_connect(
    topics: SecuredStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two refusals above are caused by what they change, not by the set-up."""
    connection = await create_conn(
        LOOPBACK, topics.settings.kafka_port, **service_security(monkeypatch, topics, PAIRING)
    )
    assert connection.connected()
    connection.close()


def test_a_plain_up_on_a_secured_stack_dir_is_refused(secured: SecuredStack) -> None:
    plain = dataclasses.replace(secured.settings, kafka_secure=False)
    with pytest.raises(StackError, match="brokers=1 secure"):
        ensure_stack(kafka=True, postgres=False, settings=plain)


def test_every_user_has_a_private_password_file(secured: SecuredStack) -> None:
    users = secured.secrets.users()
    assert SUPER_USER in users
    assert {principal.principal for principal in platform_principals()} <= set(users)
    for user in users:
        assert secured.secrets.password_file(user).stat().st_mode & 0o077 == 0
