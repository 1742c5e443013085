"""Spans of the messaging core, after OpenTelemetry's messaging conventions.

A message's life is three operations: *create* (the outbox writes it, inside the
transaction that caused it: its ``traceparent`` header is that span's context), *send* (the
relay hands a claimed batch to Kafka) and *process* (a consumer's handler applies it, in the
record's trace). What has no message to continue (a scheduled job, a command-line run)
opens its own span, so what it publishes is in a trace too.

Les spans du cœur de messagerie suivent les conventions « messaging » d'OpenTelemetry :
*create* (l'outbox écrit le message ; son en-tête ``traceparent`` en est le contexte),
*send* (le relais remet un lot à Kafka), *process* (un consommateur l'applique, dans la
trace du message). Une tâche planifiée ou une commande ouvre son propre span.

While nothing receives spans (no OTLP endpoint, no test capturing them), building them is
what costs: about 20 µs each, three per message. The services' :class:`OnDemandTracerProvider`
then lets this module skip them and hand out only their context, computed as the SDK's
default sampler would: every record still carries a valid, sampled ``traceparent``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider, sampling
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.semconv._incubating.attributes import messaging_attributes as messaging
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from binome_shared.contracts.base import Envelope, Message
from binome_shared.messaging.cloudevents import Headers, KafkaRecord, ReceivedRecord

_TRACER = trace.get_tracer("binome.messaging")
_IDS = RandomIdGenerator()
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
_KAFKA = messaging.MessagingSystemValues.KAFKA.value
_CREATE = messaging.MessagingOperationTypeValues.CREATE.value
_SEND = messaging.MessagingOperationTypeValues.SEND.value
_PROCESS = messaging.MessagingOperationTypeValues.PROCESS.value
_INHERITED_FLAGS = TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID
"""What a child's flags take from its parent's, as the SDK's default sampler decides."""


class OnDemandTracerProvider(TracerProvider):
    """The SDK's tracer provider, whose messaging spans are built only once a span processor
    is attached (an exporter, a test's capture). Until then the spans would go nowhere, and
    this module gives each operation a bare context instead (see :func:`_unbuilt_span`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another sampler (OTEL_TRACES_SAMPLER) decides flags the bare contexts do not
        # imitate: with one, spans are always built.
        self.builds_spans = self.sampler is not sampling.DEFAULT_ON

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self.builds_spans = True


def _unbuilt_span(parent: Context | None) -> NonRecordingSpan | None:
    """The context a span would have, without the span, when nothing would receive it; None
    when spans are built. As the SDK's tracer decides with its default sampler (parent-based,
    always on): a child keeps its parent's trace, trace state, sampling flag and random-id
    flag; a root starts a sampled trace (flagged random when its ids are). Only the span id
    is new."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, OnDemandTracerProvider) or provider.builds_spans:
        return None
    ids = provider.id_generator
    context = trace.get_current_span(parent).get_span_context()
    if not context.is_valid:
        random = TraceFlags.RANDOM_TRACE_ID if ids.is_trace_id_random() else TraceFlags.DEFAULT
        return NonRecordingSpan(
            SpanContext(
                trace_id=ids.generate_trace_id(),
                span_id=ids.generate_span_id(),
                is_remote=False,
                trace_flags=TraceFlags(TraceFlags.SAMPLED | random),
            )
        )
    return NonRecordingSpan(
        SpanContext(
            trace_id=context.trace_id,
            span_id=ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(context.trace_flags & _INHERITED_FLAGS),
            trace_state=context.trace_state,
        )
    )


def _as_current(span: NonRecordingSpan) -> AbstractContextManager[Any]:
    """An unbuilt span made current, so what is written under it is its child."""
    return trace.use_span(span, end_on_exit=False)


def _operation(kind: str, destination: str | None) -> dict[str, Any]:
    """Attributes every messaging span has; the destination only when there is one."""
    attributes: dict[str, Any] = {
        messaging.MESSAGING_SYSTEM: _KAFKA,
        messaging.MESSAGING_OPERATION_TYPE: kind,
        messaging.MESSAGING_OPERATION_NAME: kind,
    }
    if destination is not None:
        attributes[messaging.MESSAGING_DESTINATION_NAME] = destination
    return attributes


def _name(kind: str, destinations: set[str]) -> tuple[str, str | None]:
    """``<operation> <destination>``, or the operation alone when a batch spans several."""
    if len(destinations) == 1:
        (destination,) = destinations
        return f"{kind} {destination}", destination
    return kind, None


def _text_key(key: bytes | None) -> dict[str, Any]:
    """The key as an attribute when it is text (the conventions leave binary keys out)."""
    if key is None:
        return {}
    try:
        return {messaging.MESSAGING_KAFKA_MESSAGE_KEY: key.decode("utf-8")}
    except UnicodeDecodeError:
        return {}


def creation_headers(topic: str, envelope: Envelope[Any], key: bytes | None) -> Headers:
    """Open and close the message's ``create`` span; its context, as W3C headers, is what
    the record carries (its *creation context*). Without a current span the message starts
    a trace of its own, so no record ever leaves without one."""
    unbuilt = _unbuilt_span(None)
    if unbuilt is not None:
        return _headers_of(unbuilt.get_span_context())
    span = _TRACER.start_span(
        f"{_CREATE} {topic}",
        kind=SpanKind.PRODUCER,
        attributes={
            **_operation(_CREATE, topic),
            messaging.MESSAGING_MESSAGE_ID: str(envelope.id),
            **_text_key(key),
        },
    )
    span.end()
    return _headers_of(span.get_span_context())


def _headers_of(context: SpanContext) -> Headers:
    if not context.is_valid:
        # No SDK tracer provider in this process (a library caller set none): a fresh
        # context still lets every later span join one trace.
        context = _fresh_context()
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(trace.NonRecordingSpan(context)))
    return [(name, value.encode()) for name, value in carrier.items()]


def _fresh_context() -> SpanContext:
    return SpanContext(
        trace_id=_IDS.generate_trace_id(),
        span_id=_IDS.generate_span_id(),
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )


def sending_span(topics: Iterable[str], contexts: Sequence[SpanContext], *, count: int) -> Any:
    """One ``send`` span for a batch handed to Kafka, linked to each record's creation
    context (the conventions' choice for batches: a span per record would cost the relay's
    hot path more than the sending itself). When every record comes from one trace, the
    span joins it, so a command's trace reads create → send → process."""
    parent = _shared_trace(contexts)
    unbuilt = _unbuilt_span(parent)
    if unbuilt is not None:
        return _as_current(unbuilt)
    name, destination = _name(_SEND, set(topics))
    return _TRACER.start_as_current_span(
        name,
        context=parent,
        kind=SpanKind.PRODUCER,
        links=[trace.Link(context) for context in contexts],
        attributes={
            **_operation(_SEND, destination),
            messaging.MESSAGING_BATCH_MESSAGE_COUNT: count,
        },
    )


@contextmanager
def sent_records(records: Sequence[KafkaRecord]) -> Iterator[list[KafkaRecord]]:
    """A producer outside any service (an HR import, the demo) sends ``records`` in one
    ``send`` span whose context every record carries, as the conventions say when there is
    no ``create`` span. The span is the run's own: it starts a trace when there is none."""
    unbuilt = _unbuilt_span(None)
    with _as_current(unbuilt) if unbuilt is not None else _send_span(records) as span:
        context = _headers_of(span.get_span_context())
        yield [
            KafkaRecord(
                topic=record.topic,
                key=record.key,
                value=record.value,
                headers=[
                    *(header for header in record.headers if header[0] not in _TRACE_HEADERS),
                    *context,
                ],
            )
            for record in records
        ]


def _send_span(records: Sequence[KafkaRecord]) -> AbstractContextManager[Any]:
    name, destination = _name(_SEND, {record.topic for record in records})
    attributes = _operation(_SEND, destination)
    if len(records) > 1:
        attributes[messaging.MESSAGING_BATCH_MESSAGE_COUNT] = len(records)
    return _TRACER.start_as_current_span(name, kind=SpanKind.PRODUCER, attributes=attributes)


def job_span(job_type: str, job_id: str) -> AbstractContextManager[Any]:
    """A scheduled job runs outside any message: it opens its own (internal) span, parent
    of the ``create`` spans of what it publishes."""
    unbuilt = _unbuilt_span(Context())
    if unbuilt is not None:
        return _as_current(unbuilt)
    return _TRACER.start_as_current_span(
        f"job {job_type}",
        context=Context(),
        kind=SpanKind.INTERNAL,
        attributes={"binome.job.type": job_type, "binome.job.id": job_id},
    )


def handling_span(
    run: Sequence[tuple[ReceivedRecord, Envelope[Message]]], *, consumer_group: str
) -> Any:
    """A ``process`` span per message, child of its creation context (its ``traceparent``),
    so the events a handler writes to the outbox carry that trace on to the next service.

    A batched run gets one span linked to each message's creation context, as the
    conventions do for batches; it continues their trace when they share one.
    """
    record, envelope = run[0]
    if len(run) == 1:
        parent = _creation_span_context(record)
        parent_context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        unbuilt = _unbuilt_span(parent_context)
        if unbuilt is not None:
            return _as_current(unbuilt)
        return _TRACER.start_as_current_span(
            f"{_PROCESS} {record.topic}",
            context=parent_context,
            kind=SpanKind.CONSUMER,
            links=[trace.Link(parent)] if parent.is_valid else None,
            attributes={
                **_operation(_PROCESS, record.topic),
                messaging.MESSAGING_CONSUMER_GROUP_NAME: consumer_group,
                messaging.MESSAGING_MESSAGE_ID: str(envelope.id),
                messaging.MESSAGING_DESTINATION_PARTITION_ID: str(record.partition),
                messaging.MESSAGING_KAFKA_OFFSET: record.offset,
                **_text_key(record.key),
            },
        )
    contexts = [_creation_span_context(linked) for linked, _ in run]
    valid = [context for context in contexts if context.is_valid]
    shared = _shared_trace(valid)
    unbuilt = _unbuilt_span(shared)
    if unbuilt is not None:
        return _as_current(unbuilt)
    name, destination = _name(_PROCESS, {linked.topic for linked, _ in run})
    attributes = {
        **_operation(_PROCESS, destination),
        messaging.MESSAGING_CONSUMER_GROUP_NAME: consumer_group,
        messaging.MESSAGING_BATCH_MESSAGE_COUNT: len(run),
    }
    if len({(linked.topic, linked.partition) for linked, _ in run}) == 1:
        attributes[messaging.MESSAGING_DESTINATION_PARTITION_ID] = str(record.partition)
    return _TRACER.start_as_current_span(
        name,
        context=shared,
        kind=SpanKind.CONSUMER,
        links=[trace.Link(context) for context in valid],
        attributes=attributes,
    )


def _shared_trace(contexts: Sequence[SpanContext]) -> Context:
    """The first context's trace when all share it, else a new trace (an empty context).

    Runs usually come from one request (an HR import, a matching round): then the batch
    stays in that request's trace; runs mixing traces start their own and link to each.
    """
    if contexts and len({context.trace_id for context in contexts}) == 1:
        return trace.set_span_in_context(trace.NonRecordingSpan(contexts[0]))
    return Context()


def _creation_span_context(record: ReceivedRecord) -> SpanContext:
    """The record's creation context, from its W3C trace headers (invalid when it has none).

    A lone ``traceparent`` (what Binôme's producers write) is read by hand: the propagator
    would cost a consumer more per message than the span itself.
    """
    headers = record.header_values
    if "tracestate" not in headers:
        value = headers.get("traceparent")
        parsed = None if value is None else parse_traceparent(value)
        return parsed or trace.INVALID_SPAN_CONTEXT
    carrier = {
        name: value.decode("latin-1")
        for name in _TRACE_HEADERS
        if (value := headers.get(name)) is not None
    }
    return trace.get_current_span(propagate.extract(carrier)).get_span_context()


def parse_traceparent(value: bytes) -> SpanContext | None:
    """A W3C ``traceparent`` read by hand: the relay reads one per row, and the propagator's
    regular expression and context objects cost more than the sending of the row."""
    parts = value.split(b"-")
    if len(parts) != 4 or parts[0] != b"00" or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        context = SpanContext(
            trace_id=int(parts[1], 16),
            span_id=int(parts[2], 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parts[3][:2], 16)),
        )
    except ValueError:
        return None
    return context if context.is_valid else None
