"""Without anything receiving spans, the messaging core skips building them but still hands
out the very contexts the SDK's default sampler would: every record keeps a valid,
correctly flagged ``traceparent``."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from binome_shared.messaging import tracing
from binome_shared.messaging.cloudevents import Headers
from binome_shared.messaging.tracing import (
    OnDemandTracerProvider,
    creation_headers,
    handling_span,
    job_span,
    parse_traceparent,
)
from tests.integration.messaging.factories import pair_formed, received

pytestmark = pytest.mark.unit

PARENT_TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT_SPAN = 0x00F067AA0BA902B7


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> OnDemandTracerProvider:
    """An on-demand provider as the process's own, for this test only."""
    on_demand = OnDemandTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: on_demand)
    return on_demand


def _context_of(headers: Sequence[tuple[str, bytes]]) -> SpanContext:
    values = dict(headers)
    context = parse_traceparent(values["traceparent"])
    assert context is not None
    return context


def _parent(flags: int, state: TraceState | None = None) -> NonRecordingSpan:
    return NonRecordingSpan(
        SpanContext(
            trace_id=PARENT_TRACE,
            span_id=PARENT_SPAN,
            is_remote=True,
            trace_flags=TraceFlags(flags),
            trace_state=state,
        )
    )


def _create(topic: str = "t") -> Headers:
    envelope = pair_formed(1)
    return creation_headers(topic, envelope, envelope.partition_key().encode())


def _as_the_sdk_would(parent: NonRecordingSpan | None) -> SpanContext:
    """The context the SDK's own provider (default sampler) gives a child of ``parent``."""
    context = trace.set_span_in_context(parent) if parent is not None else None
    span = TracerProvider().get_tracer("reference").start_span("create t", context=context)
    return span.get_span_context()


def test_a_message_created_outside_any_span_starts_a_sampled_trace(
    provider: OnDemandTracerProvider,
) -> None:
    assert not provider.builds_spans
    created = _context_of(_create())
    reference = _as_the_sdk_would(None)
    assert created.is_valid
    assert created.trace_flags == reference.trace_flags
    assert created.trace_flags.sampled
    assert created.trace_id != _context_of(_create()).trace_id  # a new trace each time


@pytest.mark.parametrize(
    "flags",
    [
        TraceFlags.SAMPLED,
        TraceFlags.DEFAULT,
        TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID,
        TraceFlags.RANDOM_TRACE_ID,
    ],
)
def test_a_child_keeps_its_parents_trace_flags_and_state_with_a_span_id_of_its_own(
    provider: OnDemandTracerProvider, flags: int
) -> None:
    del provider
    parent = _parent(flags, TraceState([("vendor", "value")]))
    with trace.use_span(parent):
        headers = _create()
    created = _context_of(headers)
    reference = _as_the_sdk_would(parent)
    assert (created.trace_id, created.trace_flags) == (reference.trace_id, reference.trace_flags)
    assert created.trace_id == PARENT_TRACE
    assert created.span_id not in (0, PARENT_SPAN)
    assert dict(headers)["tracestate"] == b"vendor=value"


def test_a_handler_runs_in_a_child_of_the_records_creation_context(
    provider: OnDemandTracerProvider,
) -> None:
    del provider
    with trace.use_span(_parent(TraceFlags.SAMPLED)):
        envelope = pair_formed(1)
        record = received(envelope, topic="t", offset=7)
        record = type(record)(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=[*record.headers, *_create()],
        )
    creation = _context_of(record.headers)
    with handling_span([(record, envelope)], consumer_group="g") as span:
        current = trace.get_current_span()
        assert current is span
        assert not current.is_recording()
        handling = current.get_span_context()
        published = _context_of(_create())  # what the handler writes is in the same trace
    assert handling.trace_id == creation.trace_id == published.trace_id == PARENT_TRACE
    assert len({handling.span_id, creation.span_id, published.span_id}) == 3
    assert trace.get_current_span() is not span  # it is current only inside the block


def test_a_job_starts_a_trace_of_its_own(provider: OnDemandTracerProvider) -> None:
    del provider
    with trace.use_span(_parent(TraceFlags.SAMPLED)), job_span("follow-up", "job-1"):
        context = trace.get_current_span().get_span_context()
    assert context.is_valid
    assert context.trace_id != PARENT_TRACE
    assert context.trace_flags.sampled


def test_spans_are_built_once_something_receives_them(
    provider: OnDemandTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The module's tracer follows the global provider, which this test only pretends to set.
    monkeypatch.setattr(tracing, "_TRACER", provider.get_tracer("binome.messaging"))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert provider.builds_spans
    with job_span("follow-up", "job-1") as span:
        assert span.is_recording()
    assert [span.name for span in exporter.get_finished_spans()] == ["job follow-up"]


def test_a_sampler_of_its_own_means_spans_are_built() -> None:
    assert OnDemandTracerProvider(sampler=sampling.ALWAYS_OFF).builds_spans
    assert not OnDemandTracerProvider().builds_spans
