"""Capturing the spans this test process finishes, with OpenTelemetry's in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@contextmanager
def captured_spans() -> Iterator[InMemorySpanExporter]:
    """Every span finished inside the block. The process has one tracer provider (the
    services' own when a test built one in-process): the exporter is added to it."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        exporter.shutdown()  # the processor stays attached; a stopped exporter takes nothing


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def trace_id_of(headers: Sequence[tuple[str, bytes]]) -> int:
    """The trace id a record's ``traceparent`` header carries (0 when it has none)."""
    value = dict(headers).get("traceparent", b"").decode()
    parts = value.split("-")
    return int(parts[1], 16) if len(parts) == 4 else 0


def span_id_of(headers: Sequence[tuple[str, bytes]]) -> int:
    value = dict(headers).get("traceparent", b"").decode()
    parts = value.split("-")
    return int(parts[2], 16) if len(parts) == 4 else 0
