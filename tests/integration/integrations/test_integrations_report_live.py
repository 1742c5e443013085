"""The served report's live read model on the real local Kafka: ``binome-report serve`` as a
real process reads the topics once, becomes ready, then folds what is published while it
runs. Two tenants with the same programme id each see only their figures; a garbage record
is skipped and counted; SIGTERM stops it cleanly; without a broker it stays alive and not
ready."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from binome_integrations.report.model import ProgrammeReport
from binome_shared.contracts.hr_commands import EnrolParticipant
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.topics import SESSIONS_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord
from tests.integration.integrations.test_integrations_report_server import report_server
from tests.support.platform import Kafka, ServiceProcess, free_port
from tests.support.programmes import TENANT
from tests.support.published import pair_event, published
from tests.support.report_programme import generated_programme, people
from tests.support.tokens import TokenIssuer, bearer

pytestmark = pytest.mark.integration

PROGRAMME = "prog-live"
OTHER_TENANT = "autre-groupe"


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def process(
    kafka_bootstrap: str, topic_prefix: str, issuer: TokenIssuer, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """The report server, started by the test once the topics hold what it wants."""
    made = report_server(kafka_bootstrap, topic_prefix, issuer, tmp_path / "report.log")
    yield made
    made.kill()


async def send_garbage(kafka: Kafka) -> None:
    """Not a CloudEvent: no headers, bytes that are not JSON."""
    topic = SESSIONS_EVENTS.full_name(kafka.prefix)
    await kafka.send(KafkaRecord(topic=topic, key=b"garbage", value=b"\xff{not json", headers=[]))


async def report_of(
    client: httpx.AsyncClient, server: ServiceProcess, token: str
) -> ProgrammeReport:
    answer = await client.get(
        f"{server.url}/programmes/{PROGRAMME}/report.json", headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    return ProgrammeReport.model_validate_json(answer.content)


async def test_the_read_model_keeps_tenants_apart_and_follows_new_facts(
    kafka: Kafka, process: ServiceProcess, issuer: TokenIssuer
) -> None:
    ours = generated_programme(PROGRAMME, managers=5, seed=1)
    theirs = generated_programme(PROGRAMME, managers=3, seed=2, tenant_id=OTHER_TENANT)
    for envelope in ours[:40]:
        await kafka.publish(envelope)
    await send_garbage(kafka)
    for envelope in [*ours[40:], *theirs]:
        await kafka.publish(envelope)

    process.start()
    await process.wait_ready()
    token_a, token_b = issuer.token(TENANT), issuer.token(OTHER_TENANT)
    async with httpx.AsyncClient(timeout=30) as client:
        ready = (await client.get(f"{process.url}/ready")).json()
        mine = await report_of(client, process, token_a)
        other = await report_of(client, process, token_b)

        # Published while it runs: a sixth manager enrolled and paired, another garbage record.
        sixth = people(6)[-2:]
        for profile in sixth:
            await kafka.publish(
                published(EnrolParticipant(participant=profile), programme_id=PROGRAMME)
            )
        await kafka.publish(
            published(pair_event(PairFormed, f"{PROGRAMME}-p5", "Y5", "M5"), programme_id=PROGRAMME)
        )
        await send_garbage(kafka)
        after = await report_of(client, process, token_a)
        other_after = await report_of(client, process, token_b)
        health = (await client.get(f"{process.url}/health")).json()

    assert ready["folded"] == len(ours) + len(theirs)
    assert ready["skipped"] == {"missing_attribute": 1}, ready
    assert (mine.mentees, mine.mentors, mine.pairs_formed) == (5, 5, 5)
    assert (other.mentees, other.mentors, other.pairs_formed) == (3, 3, 3)
    assert mine.generated_at == ours[-1].time
    assert (after.mentees, after.pairs_formed) == (6, 6), "new facts folded without restart"
    assert other_after == other
    assert health["skipped"] == {"missing_attribute": 2}
    assert health["folded"] == len(ours) + len(theirs) + 3

    assert process.terminate(timeout=20) == 0, process.log_tail()
    log = process.log_tail(10_000)
    assert "record skipped (missing_attribute)" in log
    assert "Traceback" not in log


async def test_without_a_broker_it_is_alive_not_ready_and_answers_503(
    kafka_bootstrap: str, topic_prefix: str, issuer: TokenIssuer, tmp_path: Path
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    process = report_server(
        nowhere,
        topic_prefix,
        issuer,
        tmp_path / "report.log",
        BINOME_REPORT_FRESH_WAIT_SECONDS="0.5",
    )
    process.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            health = await _first_answer(client, f"{process.url}/health")
            await asyncio.sleep(2)  # several failed connections: the reader keeps trying
            health_later = await client.get(f"{process.url}/health")
            ready = await client.get(f"{process.url}/ready")
            report = await client.get(
                f"{process.url}/programmes/{PROGRAMME}/report.json",
                headers=bearer(issuer.token(TENANT)),
            )
    finally:
        process.kill()

    assert health.status_code == health_later.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "catching_up"
    assert report.status_code == 503
    assert report.json()["code"] == "catching_up"


async def _first_answer(client: httpx.AsyncClient, url: str) -> httpx.Response:
    for _ in range(150):
        try:
            return await client.get(url)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")
