"""Throughput and latency of the reliable path, beside a raw aiokafka loop, on the local broker.

Reliable path, with real service processes built on the shared runtime:
    a transaction → pairing's outbox → pairing's relay (the pairing service) → Kafka → a
    consumer service (benchmarks/bench_consumer.py: the production runtime with a one-row
    handler) → its row and processed-message record, committed together.
Latency is measured inside Postgres (outbox.created_at → processed_messages.processed_at,
both clock_timestamp() on the same server). Raw loop: an aiokafka producer (acks=all,
idempotent) and a consumer on the same broker, timed in this process.

Usage: python benchmarks/messaging_throughput.py [--events 20000] [--paced-rate 500]
       [--paced-seconds 10]  (starts the local stack if it is not running)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from binome_devstack.stack import ensure_stack
from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.topics import ensure_topics
from tests.integration.messaging.factories import pair_formed
from tests.support.platform import (
    ServiceProcess,
    build_template,
    create_test_database,
    drop_template,
    drop_test_database,
    free_port,
    service_env,
)

PAIRS_PROCESSED = (
    "SELECT count(*) FROM processed_messages WHERE message_type = 'binome.pairing.pair-formed'"
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def raw_loop(bootstrap: str, events: int) -> float:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{topic}",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await producer.start()
    await consumer.start()
    payload = pair_formed(0).data.model_dump_json().encode()
    started = time.perf_counter()
    received = 0

    async def consume() -> None:
        nonlocal received
        while received < events:
            batch = await consumer.getmany(timeout_ms=200, max_records=1000)
            received += sum(len(records) for records in batch.values())
            await consumer.commit()

    reader = asyncio.create_task(consume())
    futures = [
        await producer.send(topic, value=payload, key=str(i % 64).encode()) for i in range(events)
    ]
    await asyncio.gather(*futures)
    await reader
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return events / elapsed


async def insert_events(
    dsn: str, prefix: str, count: int, *, rate: float | None, start_index: int
) -> None:
    """Write events into pairing's outbox, in transactions of up to 50 (as a busy handler would)."""
    outbox = Outbox(topic_prefix=prefix)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "pairing"})
    try:
        batch = 50 if rate is None else max(1, int(rate / 100))
        interval = None if rate is None else batch / rate
        next_at = time.perf_counter()
        for first in range(start_index, start_index + count, batch):
            envelopes = [
                pair_formed(i) for i in range(first, min(first + batch, start_index + count))
            ]
            async with conn.transaction():
                await outbox.add_many(conn, envelopes)
            if interval is not None:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        await conn.close()


async def wait_processed(dsn: str, expected: int, timeout: float) -> None:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "sessions"})
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await conn.fetchval(PAIRS_PROCESSED) >= expected:
                return
            await asyncio.sleep(0.1)
        raise SystemExit(
            f"only {await conn.fetchval('SELECT count(*) FROM processed_messages')} of {expected} processed"
        )
    finally:
        await conn.close()


async def latencies(database: object, first: int, last: int) -> tuple[list[float], float]:
    """Per-event latency (s) and throughput for events pair-<first> … pair-<last - 1>."""
    pairing = await database.connect("pairing")  # type: ignore[attr-defined]
    sessions = await database.connect("sessions")  # type: ignore[attr-defined]
    try:
        rows = await pairing.fetch("SELECT event_id, created_at, sent_at FROM outbox")
        created = {row["event_id"]: row["created_at"] for row in rows}
        relayed = {row["event_id"]: row["sent_at"] for row in rows}
        processed = {
            row["event_id"]: row["processed_at"]
            for row in await sessions.fetch(
                "SELECT p.event_id, m.processed_at FROM bench_effects p "
                "JOIN processed_messages m ON m.event_id = p.event_id "
                "WHERE split_part(p.pair_id, '-', 2)::int >= $1 AND split_part(p.pair_id, '-', 2)::int < $2",
                first,
                last,
            )
        }
    finally:
        await pairing.close()
        await sessions.close()
    values = [(processed[key] - created[key]).total_seconds() for key in processed]
    relay = sorted((relayed[key] - created[key]).total_seconds() for key in processed)
    print(
        f"  outbox → marked sent: p50 {relay[len(relay) // 2] * 1000:.1f} ms, "
        f"p99 {relay[int(len(relay) * 0.99)] * 1000:.1f} ms",
        flush=True,
    )
    span = (max(processed.values()) - min(created[key] for key in processed)).total_seconds()
    return values, len(values) / span


async def main() -> None:  # noqa: PLR0915 - one linear scenario, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--paced-rate", type=float, default=500.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    arguments = parser.parse_args()

    stack = ensure_stack()
    try:
        template = await build_template(stack.admin_dsn)
        database = await create_test_database(template)
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        await ensure_topics(stack.kafka_bootstrap, ALL_TOPICS, prefix=prefix)
        consumer_conn = await database.connect("sessions")
        await consumer_conn.execute(
            "CREATE TABLE bench_effects (event_id uuid PRIMARY KEY, pair_id text NOT NULL)"
        )
        await consumer_conn.close()
        services = []
        for name in ("pairing", "sessions"):
            port = free_port()
            env = service_env(
                name=name,
                database=database,
                bootstrap=stack.kafka_bootstrap,
                prefix=prefix,
                port=port,
            )
            env["BINOME_LOG_LEVEL"] = "WARNING"
            process = ServiceProcess(
                name=name,
                env=env,
                port=port,
                log_path=Path(f"/tmp/bench-{name}.log"),
                argv=(
                    [sys.executable, str(Path(__file__).with_name("bench_consumer.py"))]
                    if name == "sessions"
                    else None
                ),
            )
            process.start()
            services.append(process)
        try:
            for process in services:
                await process.wait_ready()
            print(f"raw aiokafka loop: {arguments.events} events …", flush=True)
            raw_rate = await raw_loop(stack.kafka_bootstrap, arguments.events)

            print(f"reliable path, as fast as possible: {arguments.events} events …", flush=True)
            await insert_events(
                database.dsn("pairing"), prefix, arguments.events, rate=None, start_index=0
            )
            await wait_processed(database.dsn("sessions"), arguments.events, timeout=300)
            burst, burst_rate = await latencies(database, 0, arguments.events)

            paced_events = int(arguments.paced_rate * arguments.paced_seconds)
            print(
                f"reliable path, paced at {arguments.paced_rate:.0f}/s for {arguments.paced_seconds:.0f} s …",
                flush=True,
            )
            first = arguments.events
            await insert_events(
                database.dsn("pairing"),
                prefix,
                paced_events,
                rate=arguments.paced_rate,
                start_index=first,
            )
            await wait_processed(
                database.dsn("sessions"), arguments.events + paced_events, timeout=120
            )
            paced, _ = await latencies(database, first, first + paced_events)
        finally:
            for process in services:
                process.terminate()
            await drop_test_database(database)
            await drop_template(template)
    finally:
        stack.stop_started()

    print()
    print("| path | events | throughput (events/s) | p50 latency | p99 latency |")
    print("|---|---|---|---|---|")
    print(f"| raw aiokafka produce→consume | {arguments.events} | {raw_rate:,.0f} | | |")
    print(
        f"| reliable, burst | {len(burst)} | {burst_rate:,.0f} | "
        f"{statistics.median(burst) * 1000:.1f} ms | {percentile(burst, 0.99) * 1000:.1f} ms |"
    )
    print(
        f"| reliable, paced {arguments.paced_rate:.0f}/s | {len(paced)} | {arguments.paced_rate:.0f} (offered) | "
        f"{statistics.median(paced) * 1000:.1f} ms | {percentile(paced, 0.99) * 1000:.1f} ms |"
    )
    print(f"\nreliable / raw throughput ratio: {burst_rate / raw_rate:.2f}  (target ≥ 0.33)")
    print(f"reliable throughput: {burst_rate:,.0f} events/s (target ≥ 2,000)")
    print(
        f"p99 at {arguments.paced_rate:.0f}/s: {percentile(paced, 0.99) * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
