"""The services on a secured broker (SASL_SSL, SCRAM users, the catalogue's ACLs), for real.

One private secured stack serves the module (its topics and ACLs made by the stack's admin);
Postgres is the shared one. Each service connects as its own principal, configured as
``binome-stack env --principal`` prints it. What is proved: a refusal by the broker (a topic
the principal may not write, a wrong password, an untrusted CA) loses nothing, is told
apart in the service's log, and leaves the service up and not ready, never crash-looping.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from binome_devstack import StackSettings, ensure_stack
from binome_devstack.kafka_provision import provision
from binome_devstack.kafka_tls import KafkaSecrets, secure_env_exports
from binome_shared.contracts.acls import principal_name
from binome_shared.contracts.topics import PAIRING_EVENTS, SESSIONS_EVENTS
from tests.integration.messaging.relay_support import queue, row
from tests.support.platform import ProvisionedDatabase, ServiceProcess
from tests.support.private_stack import private_settings, stopped_and_removed
from tests.support.waiting import eventually, metric

pytestmark = pytest.mark.e2e

PROVISIONED_AS_CODE = {
    "BINOME_CREATE_TOPICS": "false",
    "BINOME_TOPIC_REPLICATION_FACTOR": "1",
    "BINOME_TOPIC_MIN_INSYNC_REPLICAS": "1",
}
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
