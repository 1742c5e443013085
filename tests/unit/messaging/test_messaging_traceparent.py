"""The relay and the consumer read ``traceparent`` by hand: it must agree with the W3C
propagator on what it accepts, and refuse what the propagator refuses."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from binome_shared.messaging.tracing import parse_traceparent

pytestmark = pytest.mark.unit

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def by_propagator(value: str) -> trace.SpanContext | None:
    context = TraceContextTextMapPropagator().extract({"traceparent": value})
    span_context = trace.get_current_span(context).get_span_context()
    return span_context if span_context.is_valid else None


@pytest.mark.parametrize(
    "value",
    [
        VALID,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-xbf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "",
    ],
)
def test_reads_a_traceparent_as_the_w3c_propagator_does(value: str) -> None:
    assert parse_traceparent(value.encode()) == by_propagator(value)
