"""A demo-like flow through the three services as real processes (enrol, match, pair formed,
introductions e-mailed, notification sent): every record on every topic carries a trace
context, the services' spans (exported over OTLP/HTTP to a receiver in this test) continue
the HR side's trace, and /metrics shows what each service really published."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.semconv._incubating.attributes import messaging_attributes as semconv
from prometheus_client.parser import text_string_to_metric_families

from binome_devstack.cohort_generator import generate_cohort
from binome_devstack.notifications.smtp_sink import SmtpSink
from binome_shared.contracts.hr_commands import EnrolParticipant, RequestMatching
from binome_shared.contracts.programme import ApprovalMode
from binome_shared.contracts.topics import (
    HR_COMMANDS,
    NOTIFICATIONS_EVENTS,
    PAIRING_EVENTS,
    SESSIONS_EVENTS,
)
from binome_shared.messaging.cloudevents import encode
from binome_shared.messaging.direct_send import send_traced
from tests.support.platform import Kafka, ServiceProcess
from tests.support.programmes import hr_command, programme_definition
from tests.support.spans import span_id_of, trace_id_of
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

NOTIFICATION_SENT = b"binome.notifications.notification-sent"


@dataclass(frozen=True, slots=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: int
    span_id: int
    parent_span_id: int
    links: list[int]
    attributes: dict[str, Any]


class OtlpReceiver(ThreadingHTTPServer):
    """The OTLP/HTTP traces endpoint, keeping every span it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OtlpHandler)
        self.spans: list[ExportedSpan] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def keep(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        received = []
        for resource_spans in request.resource_spans:
            service = next(
                attribute.value.string_value
                for attribute in resource_spans.resource.attributes
                if attribute.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ExportedSpan(
                            service=service,
                            name=span.name,
                            trace_id=int.from_bytes(span.trace_id),
                            span_id=int.from_bytes(span.span_id),
                            parent_span_id=int.from_bytes(span.parent_span_id or b"\0"),
                            links=[int.from_bytes(link.span_id) for link in span.links],
                            attributes={
                                attribute.key: _value(attribute.value)
                                for attribute in span.attributes
                            },
                        )
                    )
        with self.lock:
            self.spans.extend(received)

    def named(self, service: str, name: str) -> list[ExportedSpan]:
        with self.lock:
            return [s for s in self.spans if s.service == service and s.name == name]


def _value(value: Any) -> Any:
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


class _OtlpHandler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.keep(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(directory=tmp_path / "mail") as running:
        yield running


async def families(service: ServiceProcess) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{service.url}/metrics")).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def published(metrics: dict[str, Any], topic: str) -> float:
    family = metrics["binome_relay_published"]
    return float(
        sum(
            sample.value
            for sample in family.samples
            if sample.name == "binome_relay_published_total" and sample.labels["topic"] == topic
        )
    )


async def test_every_record_of_a_flow_carries_a_trace_and_metrics_show_what_was_published(
    kafka: Kafka, service_factory: Any, receiver: OtlpReceiver, sink: SmtpSink
) -> None:
    tracing_env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    pairing = service_factory("pairing", **tracing_env)
    sessions = service_factory("sessions", **tracing_env)
    notifications = service_factory(
        "notifications",
        BINOME_SMTP_HOST="127.0.0.1",
        BINOME_SMTP_PORT=str(sink.port),
        BINOME_SMTP_FROM="binome@binome.example.com",
        BINOME_PUBLIC_BASE_URL="https://rh.example.com",
        **tracing_env,
    )
    await asyncio.gather(*(service.wait_ready() for service in (pairing, sessions, notifications)))
    cohort = generate_cohort(mentees=2, mentors=2, seed=11)
    rules = cohort.rules.model_copy(update={"approval_mode": ApprovalMode.AUTOMATIC})
    commands = [
        hr_command(programme_definition(rules), programme_id="p-flow"),
        *(
            hr_command(EnrolParticipant(participant=profile), programme_id="p-flow")
            for profile in cohort.participants
        ),
    ]
    matching = hr_command(RequestMatching(round_id="r1"), programme_id="p-flow")
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:  # as the demo sends HR's commands: one send span each time
        await send_traced(
            producer, [encode(c, topic=HR_COMMANDS.full_name(kafka.prefix)) for c in commands]
        )
        await send_traced(producer, [encode(matching, topic=HR_COMMANDS.full_name(kafka.prefix))])
    finally:
        await producer.stop()

    async def notifications_sent() -> bool:
        records = await kafka.read_all(NOTIFICATIONS_EVENTS.full_name(kafka.prefix), expect=1)
        sent = [r for r in records if dict(r.headers).get("ce_type") == NOTIFICATION_SENT]
        return len(sent) >= 2  # a pair's two introductions, at least

    await eventually(notifications_sent, True, timeout=90)

    by_topic = {
        spec.name: await kafka.read_all(spec.full_name(kafka.prefix), expect=1)
        for spec in (HR_COMMANDS, PAIRING_EVENTS, SESSIONS_EVENTS, NOTIFICATIONS_EVENTS)
    }
    for topic, records in by_topic.items():
        untraced = [dict(r.headers).get("ce_type") for r in records if not trace_id_of(r.headers)]
        assert records
        assert not untraced, f"{topic}: records without traceparent: {untraced}"

    # The matching command's trace: pairing processes it as a child of HR's send span, and
    # what it publishes is created in that trace.
    (matching_record,) = [
        r
        for r in by_topic[HR_COMMANDS.name]
        if dict(r.headers)["ce_id"] == str(matching.id).encode()
    ]
    hr_topic = HR_COMMANDS.full_name(kafka.prefix)
    pairing_topic = PAIRING_EVENTS.full_name(kafka.prefix)

    async def processed_matching() -> int:
        return sum(
            span.attributes.get(semconv.MESSAGING_MESSAGE_ID) == str(matching.id)
            for span in receiver.named("binome-pairing", f"process {hr_topic}")
        )

    await eventually(processed_matching, 1, timeout=30)
    (process,) = [
        span
        for span in receiver.named("binome-pairing", f"process {hr_topic}")
        if span.attributes.get(semconv.MESSAGING_MESSAGE_ID) == str(matching.id)
    ]
    assert process.trace_id == trace_id_of(matching_record.headers)
    assert process.parent_span_id == span_id_of(matching_record.headers)
    assert process.attributes[semconv.MESSAGING_OPERATION_TYPE] == "process"
    assert process.attributes[semconv.MESSAGING_CONSUMER_GROUP_NAME].endswith("pairing")
    pair_records = [
        r for r in by_topic[PAIRING_EVENTS.name] if trace_id_of(r.headers) == process.trace_id
    ]
    assert pair_records, "what matching published continues the command's trace"

    async def sent_in_trace() -> bool:
        return any(
            span.trace_id == process.trace_id
            for span in receiver.named("binome-pairing", f"send {pairing_topic}")
        )

    await eventually(sent_in_trace, True, timeout=30)

    for service, spec in (
        (pairing, PAIRING_EVENTS),
        (sessions, SESSIONS_EVENTS),
        (notifications, NOTIFICATIONS_EVENTS),
    ):
        full_name = spec.full_name(kafka.prefix)

        async def unaccounted(
            service: ServiceProcess = service, full_name: str = full_name
        ) -> float:
            """Records on the topic the relay's counter does not show (0 once it settled)."""
            records = await kafka.read_all(full_name, expect=1)
            return len(records) - published(await families(service), full_name)

        await eventually(unaccounted, 0, timeout=30)
        metrics = await families(service)
        empty = [name for name, family in metrics.items() if not family.samples]
        assert not empty, f"{service.name}: families without a series: {empty}"
        assert not [name for name in metrics if name.startswith("faststream")]
        assert published(metrics, full_name) > 0
