"""Throughput and latency of the reliable path, beside a raw aiokafka loop, on the local broker.

Reliable path, with real service processes built on the shared runtime:
    a transaction → pairing's outbox → pairing's relay (the pairing service) → Kafka → a
    consumer service (benchmarks/bench_consumer.py: the production runtime with a one-row
    effect) → its row and processed-message record, committed together.
It runs with a one-message handler (a Postgres round trip per message) and with a batched
handler (``Batched``: one ``executemany`` per run of messages), each as bursts (the median
is reported) then a paced load. The consumer runs as two replicas, as a service is deployed,
and the burst starts once their group is settled. Envelopes are built before the clock
starts; encoding them into the outbox is measured.
Latency is measured inside Postgres (outbox.created_at → processed_messages.processed_at,
both clock_timestamp() on the same server).
The machine is shared: beside the rates, each burst's CPU time per event of the consumer
replicas (together) and of the relay's process, read from /proc, varies far less with what
else runs than the rates do.

Raw loop: an aiokafka producer (acks=all, idempotent, linger 2 ms) and a consumer, timed in
this process, sending the very records the relay sends (CloudEvents headers, same keys) to a
topic with as many partitions as pairing's events. After a warm-up pass it runs several
times before and after the reliable runs; the median is the reference (the broker's speed
drifts as its JIT warms up). A bare variant (body only, one partition) is printed too.

Usage: python benchmarks/messaging_throughput.py [--events 20000] [--repeat 3]
       [--paced-rate 500] [--paced-seconds 10] [--handlers single,batched]
       [--consumer-replicas 2]
       (starts the local stack if it is not running)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from binome_devstack.stack import Stack, ensure_stack
from binome_shared.contracts.base import Envelope
from binome_shared.contracts.topics import ALL_TOPICS, PAIRING_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from binome_shared.messaging.outbox import Outbox
from binome_shared.runtime.topic_policy import single_broker_policy
from binome_shared.runtime.topics import ensure_topics
from tests.integration.messaging.factories import pair_formed
from tests.support.platform import (
    DatabaseTemplate,
    ProvisionedDatabase,
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


async def drain(consumer: AIOKafkaConsumer, count: int) -> None:
    """Read and commit until ``count`` records arrived: the raw loop's consuming side."""
    received = 0
    while received < count:
        batch = await consumer.getmany(timeout_ms=200, max_records=1000)
        received += sum(len(batch_records) for batch_records in batch.values())
        await consumer.commit()


async def raw_loop(
    bootstrap: str, records: list[KafkaRecord], *, partitions: int, headers: bool = True
) -> float:
    """Produce ``records`` and consume them back; events per second, end to end."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
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
    started = time.perf_counter()
    reader = asyncio.create_task(drain(consumer, len(records)))
    futures = [
        await producer.send(
            topic,
            value=record.value,
            key=record.key,
            headers=record.headers if headers else None,
        )
        for record in records
    ]
    await asyncio.gather(*futures)
    await reader
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return len(records) / elapsed


async def wait_for_group(bootstrap: str, group: str, members: int) -> None:
    """Wait until every consumer replica has its partitions: a rebalance in the middle of
    the burst would be measured as the messaging core's latency."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            [response] = await admin.describe_consumer_groups([group])
            [(_error, _group, state, _type, _protocol, group_members, *_)] = response.groups
            if state == "Stable" and len(group_members) == members:
                return
            await asyncio.sleep(0.2)
        raise SystemExit(f"consumer group {group} did not settle with {members} members")
    finally:
        await admin.close()


async def insert_events(
    dsn: str, prefix: str, envelopes: list[Envelope[Any]], *, rate: float | None
) -> None:
    """Write events into pairing's outbox, in transactions of up to 50 (as a busy handler would)."""
    outbox = Outbox(topic_prefix=prefix)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "pairing"})
    try:
        batch = 50 if rate is None else max(1, int(rate / 100))
        interval = None if rate is None else batch / rate
        next_at = time.perf_counter()
        for first in range(0, len(envelopes), batch):
            async with conn.transaction():
                await outbox.add_many(conn, envelopes[first : first + batch])
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


async def latencies(
    database: ProvisionedDatabase, first: int, last: int
) -> tuple[list[float], float]:
    """Per-event latency (s) and throughput for events pair-<first> … pair-<last - 1>."""
    pairing = await database.connect("pairing")
    sessions = await database.connect("sessions")
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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(services: list[ServiceProcess]) -> float:
    running = [service.process for service in services]
    return sum(cpu_seconds(process.pid) for process in running if process is not None)


@dataclass(frozen=True)
class ReliableRun:
    handler: str
    bursts: list[tuple[list[float], float]]
    """Each burst's per-event latencies (s) and its throughput (events/s)."""
    paced: list[float]
    consumer_cpu: list[float]
    """Each burst's CPU time of the consumer replicas together, in µs per event."""
    relay_cpu: list[float]
    """Each burst's CPU time of the relay's process (pairing), in µs per event."""

    @property
    def burst_rate(self) -> float:
        return statistics.median(rate for _, rate in self.bursts)

    @property
    def burst_latencies(self) -> list[float]:
        return [latency for latencies_, _ in self.bursts for latency in latencies_]


async def reliable_run(
    stack: Stack, template: DatabaseTemplate, handler: str, arguments: argparse.Namespace
) -> ReliableRun:
    """A fresh database and topics, pairing's relay and bench consumers; bursts, then a pace."""
    database = await create_test_database(template)
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    await ensure_topics(
        stack.kafka_bootstrap, ALL_TOPICS, policy=single_broker_policy(), prefix=prefix
    )
    consumer_conn = await database.connect("sessions")
    await consumer_conn.execute(
        "CREATE TABLE bench_effects (event_id uuid PRIMARY KEY, pair_id text NOT NULL)"
    )
    await consumer_conn.close()
    burst_events = arguments.events * arguments.repeat
    paced_events = int(arguments.paced_rate * arguments.paced_seconds)
    envelopes = [pair_formed(i) for i in range(burst_events + paced_events)]
    # The harness's own fixtures are long-lived: keep the garbage collector from walking
    # them again and again while this process writes the outbox (a service holds no such
    # pile of envelopes).
    gc.freeze()
    services = []
    roles = [("pairing", "pairing")] + [
        ("sessions", f"consumer-{replica}") for replica in range(arguments.consumer_replicas)
    ]
    for name, role in roles:
        port = free_port()
        env = service_env(
            name=name, database=database, bootstrap=stack.kafka_bootstrap, prefix=prefix, port=port
        )
        env["BINOME_LOG_LEVEL"] = "WARNING"
        env["BINOME_INSTANCE_ID"] = role
        env["BENCH_HANDLER"] = handler
        process = ServiceProcess(
            name=name,
            env=env,
            port=port,
            log_path=Path(f"/tmp/bench-{role}.log"),
            argv=(
                [sys.executable, str(Path(__file__).with_name("bench_consumer.py"))]
                if name == "sessions"
                else None
            ),
        )
        process.start()
        services.append(process)
    bursts = []
    consumer_cpu: list[float] = []
    relay_cpu: list[float] = []
    relay, consumers = services[:1], services[1:]
    try:
        for process in services:
            await process.wait_ready()
        await wait_for_group(
            stack.kafka_bootstrap, f"{prefix}binome-sessions", arguments.consumer_replicas
        )
        for burst in range(arguments.repeat):
            first, last = burst * arguments.events, (burst + 1) * arguments.events
            print(f"reliable path, {handler} handler, burst {burst + 1} …", flush=True)
            cpu_before = cpu_of(consumers), cpu_of(relay)
            await insert_events(database.dsn("pairing"), prefix, envelopes[first:last], rate=None)
            await wait_processed(database.dsn("sessions"), last, timeout=300)
            consumer_cpu.append((cpu_of(consumers) - cpu_before[0]) / (last - first) * 1e6)
            relay_cpu.append((cpu_of(relay) - cpu_before[1]) / (last - first) * 1e6)
            bursts.append(await latencies(database, first, last))
        print(
            f"reliable path, {handler} handler, paced at {arguments.paced_rate:.0f}/s "
            f"for {arguments.paced_seconds:.0f} s …",
            flush=True,
        )
        await insert_events(
            database.dsn("pairing"), prefix, envelopes[burst_events:], rate=arguments.paced_rate
        )
        await wait_processed(database.dsn("sessions"), burst_events + paced_events, timeout=120)
        paced, _ = await latencies(database, burst_events, burst_events + paced_events)
    finally:
        for process in services:
            process.terminate()
        await drop_test_database(database)
        gc.unfreeze()
    return ReliableRun(
        handler=handler,
        bursts=bursts,
        paced=paced,
        consumer_cpu=consumer_cpu,
        relay_cpu=relay_cpu,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per burst")
    parser.add_argument(
        "--repeat", type=int, default=3, help="raw passes before and after, and bursts (median)"
    )
    parser.add_argument("--paced-rate", type=float, default=500.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--handlers", default="single,batched")
    parser.add_argument(
        "--consumer-replicas",
        type=int,
        default=2,
        help="consumer processes in one group, as a service runs in production (default 2)",
    )
    arguments = parser.parse_args()

    stack = ensure_stack()
    bootstrap = stack.kafka_bootstrap
    records = [encode(pair_formed(i), topic="raw") for i in range(arguments.events)]
    runs: list[ReliableRun] = []
    raw_rates: list[float] = []

    async def raw_passes() -> None:
        for _ in range(arguments.repeat):
            raw_rates.append(
                await raw_loop(bootstrap, records, partitions=PAIRING_EVENTS.partitions)
            )

    try:
        template = await build_template(stack.admin_dsn)
        try:
            print("raw aiokafka loop: warm-up, then measured …", flush=True)
            await raw_loop(bootstrap, records, partitions=PAIRING_EVENTS.partitions)
            await raw_passes()
            bare_rate = await raw_loop(bootstrap, records, partitions=1, headers=False)
            for handler in arguments.handlers.split(","):
                runs.append(await reliable_run(stack, template, handler, arguments))
            print("raw aiokafka loop, again …", flush=True)
            await raw_passes()
        finally:
            await drop_template(template)
    finally:
        stack.stop_started()

    raw_rate = statistics.median(raw_rates)
    print()
    print(
        f"Medians of {arguments.repeat} bursts of {arguments.events} events per handler, and of "
        f"{len(raw_rates)} raw passes ({arguments.repeat} before, {arguments.repeat} after); "
        f"{arguments.consumer_replicas} consumer replica(s)."
    )
    print()
    print("| path | throughput (events/s) | samples | p50 latency | p99 latency |")
    print("|---|---|---|---|---|")
    print(
        f"| raw aiokafka, same records, {PAIRING_EVENTS.partitions} partitions | "
        f"{raw_rate:,.0f} | {' · '.join(f'{rate:,.0f}' for rate in raw_rates)} | | |"
    )
    print(f"| raw aiokafka, bare body, 1 partition | {bare_rate:,.0f} | 1 | | |")
    for run in runs:
        burst = run.burst_latencies
        print(
            f"| reliable, {run.handler} handler, burst | {run.burst_rate:,.0f} | "
            f"{' · '.join(f'{rate:,.0f}' for _, rate in run.bursts)} | "
            f"{statistics.median(burst) * 1000:.1f} ms | {percentile(burst, 0.99) * 1000:.1f} ms |"
        )
        print(
            f"| reliable, {run.handler} handler, paced {arguments.paced_rate:.0f}/s | "
            f"{arguments.paced_rate:.0f} (offered) | {len(run.paced)} events | "
            f"{statistics.median(run.paced) * 1000:.1f} ms | "
            f"{percentile(run.paced, 0.99) * 1000:.1f} ms |"
        )
    print()
    print("| handler | consumers' CPU µs/event (median) | relay's CPU µs/event (median) | bursts |")
    print("|---|---|---|---|")
    for run in runs:
        bursts = " · ".join(
            f"{consumer:.0f} / {relay:.0f}"
            for consumer, relay in zip(run.consumer_cpu, run.relay_cpu, strict=True)
        )
        print(
            f"| {run.handler} | {statistics.median(run.consumer_cpu):.0f} | "
            f"{statistics.median(run.relay_cpu):.0f} | {bursts} |"
        )
    print(f"load average at the end: {' · '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print()
    for run in runs:
        print(
            f"{run.handler} handler: reliable / raw {run.burst_rate / raw_rate:.2f} "
            f"(target ≥ 0.33; against the bare loop {run.burst_rate / bare_rate:.2f}), "
            f"{run.burst_rate:,.0f} events/s (target ≥ 2,000), "
            f"p99 at {arguments.paced_rate:.0f}/s {percentile(run.paced, 0.99) * 1000:.1f} ms "
            "(target < 50 ms)"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    uvloop.run(main())  # the event loop the services run on (uvicorn picks uvloop)
