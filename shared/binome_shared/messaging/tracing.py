"""Consumer spans: a handled message continues its producer's trace, so what a handler
publishes carries that trace on to the next service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging.cloudevents import ReceivedRecord

_TRACER = trace.get_tracer("binome.messaging")
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})


def handling_span(run: Sequence[tuple[ReceivedRecord, Envelope[Message]]]) -> Any:
    """A span per message, child of the producer's trace (its ``traceparent`` header), so the
    events a handler writes to the outbox carry that trace on to the next service.

    A batched run gets one span linked to each message's producer span, as OpenTelemetry's
    messaging conventions do for batches; it continues their trace when they share one.
    """
    record, envelope = run[0]
    if len(run) == 1:
        return _TRACER.start_as_current_span(
            f"handle {envelope.type}",
            context=_producer_context(record),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.message.id": str(envelope.id),
                "messaging.kafka.destination.partition": record.partition,
                "messaging.kafka.message.offset": record.offset,
            },
        )
    contexts = [
        trace.get_current_span(_producer_context(linked)).get_span_context() for linked, _ in run
    ]
    valid = [context for context in contexts if context.is_valid]
    # Runs usually come from one request (an HR import, a matching round): then the batch
    # stays in that request's trace; runs mixing traces start their own.
    parent = (
        trace.set_span_in_context(trace.NonRecordingSpan(valid[0]))
        if valid and len({context.trace_id for context in valid}) == 1
        else None
    )
    return _TRACER.start_as_current_span(
        f"handle {envelope.type}",
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(context) for context in valid],
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.batch.message_count": len(run),
        },
    )


def _producer_context(record: ReceivedRecord) -> Context:
    carrier = {
        name: value.decode("latin-1")
        for name in _TRACE_HEADERS
        if (value := record.header_values.get(name)) is not None
    }
    # Most records of a bulk import carry no trace: skip the propagator's work for them.
    return propagate.extract(carrier) if carrier else Context()
