"""The relay → broker → consumer loop over SASL_SSL beside plaintext, in the same run.

Two private local brokers are started (Kafka only, own stack dirs and free ports): one plain,
one made by ``binome-stack up --secure`` (TLS with a local CA, SCRAM-SHA-512 users, the
catalogue's ACLs). On each, pairing's relay producer (``RelayProducer``: idempotent,
``acks=all``, linger 2 ms, batches per partition as the relay sends them) writes pairing's
events, and a consumer in sessions' group reads them back and commits; on the secured broker
each side connects as its own service principal, so every request is authenticated,
encrypted and authorised. Records are the relay's (CloudEvents headers, same keys) and are
built before the clock starts. The runs alternate plain/secured; medians are compared.

Target: secured ≥ 0.8 × plaintext. On a shared machine the rates swing from run to run; the
client's CPU time per event, printed beside them, shows the cost of TLS more steadily.

Usage: python benchmarks/transport_security.py [--events 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.messaging_throughput import drain
from binome_devstack.kafka_acls import apply_acls, client_security, platform_principals
from binome_devstack.settings import StackSettings
from binome_devstack.stack import ensure_stack
from binome_shared.contracts.acls import principal_name
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.messaging.cloudevents import KafkaRecord, encode
from binome_shared.messaging.relay_producer import RelayProducer
from tests.integration.messaging.factories import pair_formed
from tests.support.private_stack import private_settings, stopped_and_removed

TARGET_RATIO = 0.8


async def prepare(settings: StackSettings, prefix: str) -> None:
    """The events topic (and, when secured, the ACLs of this prefix)."""
    if settings.kafka_secure:
        await apply_acls(settings, platform_principals(prefix))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **client_security(settings)
    )
    await admin.start()
    try:
        topic = PAIRING_EVENTS.full_name(prefix)
        await admin.create_topics([NewTopic(topic, PAIRING_EVENTS.partitions, 1)])
    finally:
        await admin.close()


async def send_as_the_relay(
    producer: RelayProducer, topic: str, records: list[KafkaRecord]
) -> None:
    """Batches per partition, as the outbox relay fills them, all in flight together."""
    partitions = sorted(await producer.partitions_for(topic))
    by_partition: dict[int, list[KafkaRecord]] = defaultdict(list)
    for index, record in enumerate(records):
        by_partition[partitions[index % len(partitions)]].append(record)
    deliveries: list[asyncio.Future[Any]] = []
    for partition, queued in by_partition.items():
        batch = producer.create_batch()
        for record in queued:
            if (
                batch.append(
                    key=record.key, value=record.value, timestamp=None, headers=record.headers
                )
                is None
            ):
                deliveries.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(
                    key=record.key, value=record.value, timestamp=None, headers=record.headers
                )
        deliveries.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*deliveries)


@dataclass(frozen=True)
class LoopRun:
    """One pass: events per second end to end, and this process's CPU per event."""

    rate: float
    cpu_us_per_event: float


async def loop_rate(settings: StackSettings, records: list[KafkaRecord]) -> LoopRun:
    """Events per second from the relay's producer to a committed consumer, end to end.

    The client's CPU time per event is less sensitive than the rate to other processes on a
    shared machine, and it is where TLS costs (the broker's side is in its own JVM).
    """
    prefix = f"b{uuid.uuid4().hex[:8]}."
    await prepare(settings, prefix)
    topic = PAIRING_EVENTS.full_name(prefix)
    producer = RelayProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="bench-relay",
        **client_security(settings, principal_name("pairing")),
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{prefix}binome-sessions",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        **client_security(settings, principal_name("sessions")),
    )
    await producer.start()
    await consumer.start()
    try:
        started = time.perf_counter()
        cpu_started = time.process_time()
        reader = asyncio.create_task(drain(consumer, len(records)))
        await send_as_the_relay(producer, topic, records)
        await reader
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        await producer.stop()
        await consumer.stop()
    return LoopRun(rate=len(records) / elapsed, cpu_us_per_event=cpu / len(records) * 1e6)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    records = [encode(pair_formed(i), topic="bench") for i in range(arguments.events)]
    runs: dict[str, list[LoopRun]] = {"plaintext": [], "SASL_SSL": []}
    with (
        stopped_and_removed(private_settings()) as plain,
        stopped_and_removed(private_settings(secure=True)) as secured,
    ):
        print("starting a plain and a secured broker …", flush=True)
        for settings in (plain, secured):
            await asyncio.to_thread(ensure_stack, kafka=True, postgres=False, settings=settings)
        print("warm-up …", flush=True)
        for settings in (plain, secured):
            await loop_rate(settings, records)
        for _ in range(arguments.repeat):
            runs["plaintext"].append(await loop_rate(plain, records))
            runs["SASL_SSL"].append(await loop_rate(secured, records))
    rates = {name: [run.rate for run in samples] for name, samples in runs.items()}
    cpu = {
        name: statistics.median(run.cpu_us_per_event for run in samples)
        for name, samples in runs.items()
    }
    ratio = statistics.median(rates["SASL_SSL"]) / statistics.median(rates["plaintext"])
    print()
    print(
        f"Medians of {arguments.repeat} runs of {arguments.events} events (relay → broker → consumer)."
    )
    print()
    print("| transport | events/s (median) | client CPU µs/event (median) | runs (events/s) |")
    print("|---|---:|---:|---|")
    for name, samples in rates.items():
        listed = ", ".join(f"{sample:,.0f}" for sample in samples)
        print(f"| {name} | {statistics.median(samples):,.0f} | {cpu[name]:.0f} | {listed} |")
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print()
    print(f"SASL_SSL / plaintext = {ratio:.2f} ({verdict} the {TARGET_RATIO} target)")
    print(f"client CPU per event, SASL_SSL / plaintext = {cpu['SASL_SSL'] / cpu['plaintext']:.2f}")


if __name__ == "__main__":
    uvloop.run(main())
