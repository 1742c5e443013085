"""The services on a secured broker (SASL_SSL, SCRAM users, the catalogue's ACLs), for real.

One private secured stack serves the module (its topics and ACLs made by the stack's admin);
Postgres is the shared one. Each service connects as its own principal, configured as
``binome-stack env --principal`` prints it. What is proved: a refusal by the broker (a topic
the principal may not write, a wrong password, an untrusted CA) loses nothing, is told
apart in the service's log, and leaves the service up and not ready, never crash-looping.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from binome_devstack import StackSettings, ensure_stack
from binome_devstack.kafka_acls import client_security
from binome_devstack.kafka_provision import provision
from binome_devstack.kafka_tls import KafkaSecrets, secure_env_exports
from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.acls import principal_name
from binome_shared.contracts.hr_commands import ApprovePair, RequestMatching
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from tests.integration.messaging.relay_support import queue, row
from tests.integration.pairing.test_pairing_service import enrol_cohort
from tests.support.platform import Kafka, ProvisionedDatabase, ServiceProcess
from tests.support.private_stack import private_settings, stopped_and_removed
from tests.support.programmes import hr_command
from tests.support.waiting import eventually, metric

pytestmark = pytest.mark.e2e

PROVISIONED_AS_CODE = {
    "BINOME_CREATE_TOPICS": "false",
    "BINOME_TOPIC_REPLICATION_FACTOR": "1",
    "BINOME_TOPIC_MIN_INSYNC_REPLICAS": "1",
}
HR_PRINCIPAL = "binome-hr-kafka"
PROGRAMME = "prog-secured"
_UNSENT = "SELECT sent_at IS NULL AND set_aside_at IS NULL FROM outbox WHERE id = $1"


@pytest.fixture(scope="module")
def secured_stack() -> Iterator[StackSettings]:
    with stopped_and_removed(private_settings(secure=True)) as settings:
        ensure_stack(kafka=True, postgres=False, settings=settings)
        yield settings


@pytest.fixture(scope="module")
def kafka_bootstrap(secured_stack: StackSettings) -> str:
    return secured_stack.kafka_bootstrap


@pytest.fixture(scope="module")
async def topic_prefix(secured_stack: StackSettings) -> str:
    """This module's topics and ACLs, made by the stack's admin as a deployment makes them."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    await provision(secured_stack, prefix)
    return prefix


class HrPlatform(Kafka):
    """HR's platform sending its commands as its own principal (``binome-hr-kafka``)."""

    def __init__(self, settings: StackSettings, prefix: str) -> None:
        self._security = client_security(settings, HR_PRINCIPAL)
        super().__init__(settings.kafka_bootstrap, prefix)

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, **self._security
        )


@pytest.fixture
async def hr(secured_stack: StackSettings, topic_prefix: str) -> AsyncIterator[HrPlatform]:
    platform = HrPlatform(secured_stack, topic_prefix)
    await platform.start()
    yield platform
    await platform.stop()


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


def secured_env(settings: StackSettings, service: str, **overrides: str) -> dict[str, str]:
    """A service's Kafka settings as ``binome-stack env --principal`` prints them."""
    env = dict(PROVISIONED_AS_CODE)
    for line in secure_env_exports(settings, principal=principal_name(service)):
        variable, _, value = line.removeprefix("export ").partition("=")
        env[variable] = value
    return env | overrides


async def ready_status(service: ServiceProcess) -> int | None:
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{service.url}/ready", timeout=3)).status_code
    return None


async def count(database: ProvisionedDatabase, service: str, query: str) -> int:
    return int(await database.fetchval(service, query))


async def test_a_small_programme_plays_end_to_end_over_sasl_ssl_with_acls(
    secured_stack: StackSettings,
    database: ProvisionedDatabase,
    hr: HrPlatform,
    sink: SmtpSink,
    service_factory: Any,
) -> None:
    services: list[ServiceProcess] = [
        service_factory("pairing", **secured_env(secured_stack, "pairing")),
        service_factory("sessions", **secured_env(secured_stack, "sessions")),
        service_factory(
            "notifications",
            **secured_env(secured_stack, "notifications"),
            BINOME_SMTP_HOST="127.0.0.1",
            BINOME_SMTP_PORT=str(sink.port),
            BINOME_SMTP_FROM="binome@binome.example.com",
            BINOME_PUBLIC_BASE_URL="https://rh.example.com",
        ),
    ]
    await asyncio.gather(*(service.wait_ready(timeout=90) for service in services))

    await enrol_cohort(hr, PROGRAMME, approval=ApprovalMode.HR_APPROVES, mentees=4, mentors=8)
    await hr.publish(hr_command(RequestMatching(round_id="r1"), programme_id=PROGRAMME))
    await eventually(
        lambda: count(database, "pairing", "SELECT rounds_run FROM programmes"), 1, timeout=60
    )
    conn = await database.connect("pairing")
    try:
        proposed = [r["pair_id"] for r in await conn.fetch("SELECT pair_id FROM pairs")]
    finally:
        await conn.close()
    assert len(proposed) >= 2
    for pair_id in proposed:
        await hr.publish(hr_command(ApprovePair(pair_id=pair_id), programme_id=PROGRAMME))

    pairs = len(proposed)
    formed = "SELECT count(*) FROM pairs WHERE status = 'formed'"
    await eventually(lambda: count(database, "pairing", formed), pairs)
    tracked = "SELECT count(*) FROM pairs WHERE state IS NOT NULL"
    await eventually(lambda: count(database, "sessions", tracked), pairs)
    introduced = "SELECT count(*) FROM deliveries WHERE kind = 'introduction' AND status = 'sent'"
    await eventually(lambda: count(database, "notifications", introduced), 2 * pairs)
    sent = "SELECT count(*) FROM deliveries WHERE status = 'sent'"
    await eventually(lambda: count(database, "notifications", sent), len(sink.stored))
    assert len(sink.stored) > 2 * pairs  # the introductions, and HR's word about the round
    for service in services:
        assert await ready_status(service) == 200
        assert service.terminate() == 0


async def test_writing_another_services_topic_keeps_the_row_and_turns_the_service_not_ready(
    secured_stack: StackSettings,
    topic_prefix: str,
    database: ProvisionedDatabase,
    service_factory: Any,
) -> None:
    pairing = service_factory("pairing", **secured_env(secured_stack, "pairing"))
    await pairing.wait_ready(timeout=90)
    forged_topic = SESSIONS_EVENTS.full_name(topic_prefix)
    [forged] = await queue(database, [row(forged_topic, "pair-1", 0)], schema="pairing")

    await eventually(lambda: ready_status(pairing), 503)
    log = pairing.log_tail(400)
    assert "Kafka refuses this service's principal" in log, log
    assert f"TopicAuthorizationFailedError: {forged_topic}" in log
    assert await database.fetchval("pairing", _UNSENT, forged) is True  # nothing is lost
    errors = await metric(pairing.url, "binome_relay_errors_total")
    assert errors >= 1.0
    assert await metric(pairing.url, "binome_relay_set_aside_total") == 0.0

    # The operator removes what pairing had no right to write; its next event of its own
    # goes out, and pairing is ready again.
    await database.fetchval("pairing", "DELETE FROM outbox WHERE id = $1 RETURNING id", forged)
    await queue(
        database, [row(PAIRING_EVENTS.full_name(topic_prefix), "pair-2", 0)], schema="pairing"
    )
    await pairing.wait_ready(timeout=60)
    assert pairing.terminate() == 0


@pytest.mark.usefixtures("topic_prefix")  # the topics exist: only the connection is wrong
@pytest.mark.parametrize("refusal", ["authentication failed", "certificate not trusted"])
async def test_a_refused_connection_leaves_the_service_up_not_ready_and_saying_why(
    refusal: str,
    secured_stack: StackSettings,
    service_factory: Any,
    tmp_path: Path,
) -> None:
    if refusal == "authentication failed":
        wrong = tmp_path / "wrong.password"
        wrong.write_text("not-the-password\n", encoding="utf-8")
        override = {"BINOME_KAFKA_SASL_PASSWORD_FILE": str(wrong)}
    else:
        other_ca = KafkaSecrets(directory=tmp_path / "other-ca")
        other_ca.ensure([])
        override = {"BINOME_KAFKA_SSL_CA_FILE": str(other_ca.ca_file)}
    pairing = service_factory("pairing", **secured_env(secured_stack, "pairing", **override))

    async def said_why() -> bool:
        return f"Kafka refuses this service: {refusal}" in pairing.log_tail(200)

    await eventually(said_why, True, timeout=60)
    assert await ready_status(pairing) == 503
    assert pairing.process is not None
    assert pairing.process.poll() is None  # up, not crash-looping
    assert pairing.terminate() == 0
