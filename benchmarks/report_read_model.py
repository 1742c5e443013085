"""The served report before (a replay of every topic per request) and after (one live read
model per server), on the local broker.

It publishes, under a fresh topic prefix, a generated programme of ``--managers`` managers
(each a mentee with a mentor, sessions, ratings, objectives, e-mails:
tests/support/report_programme.py) and another programme of ``--noise`` managers (another
tenant's, which every replay reads too), then prints:

- the read model's catch-up: seconds from start to ready, and records folded per second;
- the memory of the folded state (tracemalloc, records decoded and folded in memory, the
  records themselves excluded) and the pure fold's rate without Kafka;
- the latency of a report request (JSON, through the ASGI app with a bearer token), p50 and
  p95 over ``--requests`` requests: after (from the state; each request first asks Kafka
  for the end offsets, so it sees what was published before it) and before (the old
  path: read the four topics from offset 0, fold the programme's envelopes, build).

Usage: python benchmarks/report_read_model.py [--managers 1000] [--noise 1000]
       [--requests 50] [--replays 5]       (needs the local stack running)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from binome_integrations.report.build import programme_report
from binome_integrations.report.events import ProgrammeEvents
from binome_integrations.report.history import programme_history
from binome_integrations.report.live import LiveReports
from binome_integrations.report.model import ProgrammeReport
from binome_integrations.report.read_model import ReadModel
from binome_integrations.report.server import ReportApp, ReportServerSettings, ReportSource
from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging.cloudevents import ReceivedRecord, encode
from binome_shared.runtime.http_auth import verifier_from
from tests.integration.messaging.factories import received
from tests.support.platform import create_topics, delete_topics
from tests.support.programmes import TENANT
from tests.support.report_programme import generated_programme
from tests.support.tokens import TokenIssuer, bearer

PROGRAMME = "prog-bench"
NOISE_TENANT = "autre-groupe"


class Replayed:
    """The old path, as the server ran it when its cache had expired."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self._bootstrap, self._prefix = bootstrap, prefix

    async def report(self, tenant_id: str, programme_id: str) -> ProgrammeReport | None:
        envelopes = await ProgrammeEvents(
            bootstrap_servers=self._bootstrap,
            topic_prefix=self._prefix,
            tenant_id=tenant_id,
            programme_id=programme_id,
        ).collect()
        history = programme_history(envelopes)
        if history.definition is None:
            return None
        as_of = max(envelope.time for envelope in envelopes)
        return programme_report(history, programme_id=programme_id, generated_at=as_of)


async def publish(bootstrap: str, prefix: str, envelopes: Sequence[Envelope[Message]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        sent = []
        for envelope in envelopes:
            record = encode(envelope, topic=envelope.data.topic.full_name(prefix))
            sent.append(
                await producer.send(
                    record.topic, value=record.value, key=record.key, headers=record.headers
                )
            )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def as_records(envelopes: Sequence[Envelope[Message]]) -> list[ReceivedRecord]:
    return [
        received(envelope, topic=envelope.data.topic.name, offset=offset)
        for offset, envelope in enumerate(envelopes)
    ]


def fold_in_memory(records: Sequence[ReceivedRecord]) -> tuple[float, int]:
    """(records folded per second without Kafka, bytes the state holds afterwards)."""
    started = time.perf_counter()
    warm = ReadModel()
    for record in records:
        warm.take_record(record)
    rate = len(records) / (time.perf_counter() - started)
    del warm
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    model = ReadModel()
    for record in records:
        model.take_record(record)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    assert model.folded == len(records)
    return rate, held


async def latencies(
    source: ReportSource, issuer: TokenIssuer, requests: int, check: Callable[[bytes], None]
) -> list[float]:
    settings = ReportServerSettings.model_validate(
        {
            "http_auth_public_keys": issuer.public_pem,
            "http_auth_issuer": issuer.issuer,
            "http_auth_audience": issuer.audience,
        }
    )
    app = ReportApp(source=source, verifier=verifier_from(settings))
    headers = bearer(issuer.token(TENANT))
    taken: list[float] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://report", timeout=600
    ) as client:
        for _ in range(requests):
            started = time.perf_counter()
            answer = await client.get(f"/programmes/{PROGRAMME}/report.json", headers=headers)
            taken.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            check(answer.content)
    return taken


def percentiles(taken: list[float]) -> str:
    ordered = sorted(taken)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"


async def timed(label: str, work: Callable[[], Awaitable[None]]) -> None:
    started = time.perf_counter()
    await work()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--noise", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--replays", type=int, default=5)
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    arguments = parser.parse_args()

    ours = generated_programme(PROGRAMME, managers=arguments.managers, seed=1)
    noise = generated_programme(
        "prog-noise", managers=arguments.noise, seed=2, tenant_id=NOISE_TENANT
    )
    total = len(ours) + len(noise)
    print(f"programme: {arguments.managers} managers, {len(ours)} records; noise: {len(noise)}")
    expected = programme_report(
        programme_history(ours), programme_id=PROGRAMME, generated_at=ours[-1].time
    ).model_dump_json()

    def check(body: bytes) -> None:
        assert ProgrammeReport.model_validate_json(body).model_dump_json() == expected

    rate, held = fold_in_memory(as_records([*ours, *noise]))
    print(f"fold in memory (decode + fold): {rate:,.0f} records/s")
    print(f"state of both programmes (tracemalloc): {held / 1e6:.1f} MB")

    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await create_topics(arguments.bootstrap, prefix)
    issuer = TokenIssuer()
    try:
        await timed("published", lambda: publish(arguments.bootstrap, prefix, [*ours, *noise]))
        live = LiveReports(bootstrap_servers=arguments.bootstrap, topic_prefix=prefix)
        live.start()
        await live.wait_ready()
        caught = live.caught_up_seconds or 0.0
        print(
            f"after — catch-up: {caught:.2f} s for {live.model.folded} records "
            f"({live.model.folded / caught:,.0f} records/s folded from Kafka)"
        )
        assert live.model.folded == total
        after = await latencies(live, issuer, arguments.requests, check)
        print(f"after — report request ({arguments.requests}): {percentiles(after)}")
        await live.stop()
        replay = Replayed(arguments.bootstrap, prefix)
        before = await latencies(replay, issuer, arguments.replays, check)
        print(f"before — replayed request ({arguments.replays}): {percentiles(before)}")
    finally:
        await delete_topics(arguments.bootstrap, prefix)


if __name__ == "__main__":
    asyncio.run(main())
