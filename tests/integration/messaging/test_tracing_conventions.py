"""A message's spans after OpenTelemetry's messaging conventions, on real Kafka and Postgres:
create (the outbox) → send (the relay) → process (the consumer) make one trace, with the
conventions' names and attributes, checked against the semantic-conventions package."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import messaging_attributes as semconv
from opentelemetry.trace import SpanKind

from binome_shared.contracts.base import Envelope
from binome_shared.contracts.catalogue import CATALOGUE
from binome_shared.contracts.pairing_events import PairFormed
from binome_shared.contracts.topics import PAIRING_EVENTS
from binome_shared.messaging.cloudevents import ReceivedRecord
from binome_shared.messaging.consumer import Batched, ReliableConsumer, UnitOfWork
from binome_shared.messaging.outbox import Outbox
from binome_shared.messaging.scheduler import Job, JobRunner, schedule
from binome_shared.runtime.clock import SimulatedClock
from tests.integration.messaging.factories import NOW, pair_formed
from tests.integration.messaging.factories import received as received_at
from tests.integration.messaging.support import relay_everything
from tests.support.platform import Kafka, ProvisionedDatabase, received
from tests.support.spans import captured_spans, named, span_id_of, trace_id_of

pytestmark = pytest.mark.integration

GROUP = "binome-test"
DEPRECATED = {
    semconv.MESSAGING_KAFKA_DESTINATION_PARTITION,
    semconv.MESSAGING_KAFKA_MESSAGE_OFFSET,
    semconv.MESSAGING_OPERATION,
    semconv.MESSAGING_KAFKA_CONSUMER_GROUP,
}


@pytest.fixture
async def pool(database: ProvisionedDatabase) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(
        database.dsn("sessions"),
        min_size=1,
        max_size=3,
        server_settings={"search_path": "sessions"},
    )
    yield created
    await created.close()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with captured_spans() as exporter:
        yield exporter


async def ignore(envelope: Envelope[Any], uow: UnitOfWork) -> None:
    del envelope, uow


async def ignore_all(envelopes: Sequence[Envelope[Any]], uow: UnitOfWork) -> None:
    del envelopes, uow


def consumer(pool: asyncpg.Pool) -> ReliableConsumer:
    return ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes={PairFormed: ignore},
        outbox=Outbox(),
        clock=SimulatedClock(start=NOW),
        source="/binome/test",
        consumer_group=GROUP,
    )


async def queue(pool: asyncpg.Pool, prefix: str, envelopes: list[Envelope[Any]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await Outbox(topic_prefix=prefix).add_many(conn, envelopes)


def messaging_attributes(span: ReadableSpan) -> dict[str, Any]:
    return {key: value for key, value in (span.attributes or {}).items() if "messaging" in key}


def only(spans: list[ReadableSpan]) -> ReadableSpan:
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


async def test_a_message_is_created_sent_and_processed_in_one_trace(
    pool: asyncpg.Pool, kafka: Kafka, kafka_bootstrap: str, spans: InMemorySpanExporter
) -> None:
    topic = PAIRING_EVENTS.full_name(kafka.prefix)
    envelope = pair_formed(1)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("an HR request") as request:
        await queue(pool, kafka.prefix, [envelope])
    assert await relay_everything(pool, schema="sessions", bootstrap=kafka_bootstrap) == 1
    (record,) = await kafka.read_all(topic, expect=1)
    await consumer(pool).process([received(record)], asyncio.Event())

    finished = list(spans.get_finished_spans())
    create = only(named(finished, f"create {topic}"))
    send = only(named(finished, f"send {topic}"))
    process = only(named(finished, f"process {topic}"))
    trace_id = request.get_span_context().trace_id
    assert {span.context.trace_id for span in (create, send, process)} == {trace_id}
    assert create.parent is not None
    assert create.parent.span_id == request.get_span_context().span_id
    assert span_id_of(record.headers) == create.context.span_id, "the creation context"
    assert send.parent is not None
    assert send.parent.span_id == create.context.span_id
    assert [link.context.span_id for link in send.links] == [create.context.span_id]
    assert process.parent is not None
    assert process.parent.span_id == create.context.span_id
    assert [link.context.span_id for link in process.links] == [create.context.span_id]
    assert (create.kind, send.kind, process.kind) == (
        SpanKind.PRODUCER,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
    )
    kafka_system = semconv.MessagingSystemValues.KAFKA.value
    assert messaging_attributes(create) == {
        semconv.MESSAGING_SYSTEM: kafka_system,
        semconv.MESSAGING_OPERATION_TYPE: semconv.MessagingOperationTypeValues.CREATE.value,
        semconv.MESSAGING_OPERATION_NAME: "create",
        semconv.MESSAGING_DESTINATION_NAME: topic,
        semconv.MESSAGING_MESSAGE_ID: str(envelope.id),
        semconv.MESSAGING_KAFKA_MESSAGE_KEY: envelope.partition_key(),
    }
    assert messaging_attributes(send) == {
        semconv.MESSAGING_SYSTEM: kafka_system,
        semconv.MESSAGING_OPERATION_TYPE: semconv.MessagingOperationTypeValues.SEND.value,
        semconv.MESSAGING_OPERATION_NAME: "send",
        semconv.MESSAGING_DESTINATION_NAME: topic,
        semconv.MESSAGING_BATCH_MESSAGE_COUNT: 1,
    }
    assert messaging_attributes(process) == {
        semconv.MESSAGING_SYSTEM: kafka_system,
        semconv.MESSAGING_OPERATION_TYPE: semconv.MessagingOperationTypeValues.PROCESS.value,
        semconv.MESSAGING_OPERATION_NAME: "process",
        semconv.MESSAGING_DESTINATION_NAME: topic,
        semconv.MESSAGING_CONSUMER_GROUP_NAME: GROUP,
        semconv.MESSAGING_MESSAGE_ID: str(envelope.id),
        semconv.MESSAGING_DESTINATION_PARTITION_ID: str(record.partition),
        semconv.MESSAGING_KAFKA_OFFSET: record.offset,
        semconv.MESSAGING_KAFKA_MESSAGE_KEY: envelope.partition_key(),
    }
    assert not DEPRECATED & {key for span in finished for key in (span.attributes or {})}


async def test_a_relay_round_of_several_traces_is_one_send_span_linked_to_each(
    pool: asyncpg.Pool, kafka_bootstrap: str, kafka: Kafka, spans: InMemorySpanExporter
) -> None:
    # Written outside any span: each message's create span starts a trace of its own.
    await queue(pool, kafka.prefix, [pair_formed(1)])
    await queue(pool, kafka.prefix, [pair_formed(2)])
    assert await relay_everything(pool, schema="sessions", bootstrap=kafka_bootstrap) == 2

    topic = PAIRING_EVENTS.full_name(kafka.prefix)
    records = await kafka.read_all(topic, expect=2)
    finished = list(spans.get_finished_spans())
    creates = named(finished, f"create {topic}")
    send = only(named(finished, f"send {topic}"))
    assert len({span.context.trace_id for span in creates}) == 2
    assert {span_id_of(record.headers) for record in records} == {
        span.context.span_id for span in creates
    }
    assert send.parent is None, "records of several traces: the send span starts its own"
    assert {link.context.span_id for link in send.links} == {
        span.context.span_id for span in creates
    }
    assert (send.attributes or {})[semconv.MESSAGING_BATCH_MESSAGE_COUNT] == 2


async def test_a_batched_run_of_several_traces_is_one_process_span_linked_to_each(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    topic = "t.binome.pairing.events"
    parents = [f"00-{trace_id:032x}-{7:016x}-01" for trace_id in (1, 2)]
    records = [
        ReceivedRecord(
            topic=topic,
            partition=0,
            offset=index,
            key=plain.key,
            value=plain.value,
            headers=[*plain.headers, ("traceparent", parent.encode())],
        )
        for index, parent in enumerate(parents)
        for plain in [received_at(pair_formed(index), topic=topic, offset=index)]
    ]
    batched = ReliableConsumer(
        pool=pool,
        registry=CATALOGUE,
        routes={PairFormed: Batched(ignore_all)},
        outbox=Outbox(),
        clock=SimulatedClock(start=NOW),
        source="/binome/test",
        consumer_group=GROUP,
    )
    await batched.process(records, asyncio.Event())

    process = only(named(list(spans.get_finished_spans()), f"process {topic}"))
    assert process.parent is None, "messages of several traces: the run starts its own"
    assert {link.context.trace_id for link in process.links} == {1, 2}
    assert messaging_attributes(process) == {
        semconv.MESSAGING_SYSTEM: semconv.MessagingSystemValues.KAFKA.value,
        semconv.MESSAGING_OPERATION_TYPE: semconv.MessagingOperationTypeValues.PROCESS.value,
        semconv.MESSAGING_OPERATION_NAME: "process",
        semconv.MESSAGING_DESTINATION_NAME: topic,
        semconv.MESSAGING_CONSUMER_GROUP_NAME: GROUP,
        semconv.MESSAGING_DESTINATION_PARTITION_ID: "0",
        semconv.MESSAGING_BATCH_MESSAGE_COUNT: 2,
    }


async def test_a_scheduled_job_opens_a_span_and_what_it_publishes_carries_it(
    pool: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    start = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    published = pair_formed(3)

    async def publish(job: Job, uow: UnitOfWork) -> None:
        del job
        await uow.outbox.add(uow.conn, published)

    async with pool.acquire() as conn:
        await schedule(conn, job_id="stall-check:1", job_type="stall-check", due_at=start)
    runner = JobRunner(
        pool=pool,
        handlers={"stall-check": publish},
        outbox=Outbox(topic_prefix="t."),
        clock=SimulatedClock(start=start),
        source="/binome/test",
    )
    assert await runner.run_due() == 1

    row = await pool.fetchrow("SELECT header_names, header_values FROM outbox")
    assert row is not None
    headers = list(zip(row["header_names"], row["header_values"], strict=True))
    finished = list(spans.get_finished_spans())
    job = only(named(finished, "job stall-check"))
    create = only(named(finished, f"create {PAIRING_EVENTS.full_name('t.')}"))
    assert job.kind == SpanKind.INTERNAL
    assert job.parent is None
    assert create.parent is not None
    assert create.parent.span_id == job.context.span_id
    assert trace_id_of(headers) == job.context.trace_id
    assert span_id_of(headers) == create.context.span_id
