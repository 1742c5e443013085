"""Logs as JSON without personal data, OpenTelemetry tracing, Prometheus metrics."""

from __future__ import annotations

import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

from binome_shared.messaging.tracing import OnDemandTracerProvider

_tracer_provider: OnDemandTracerProvider | None = None


def configure_logging(*, service: str, level: str, json_format: bool) -> None:
    """Route every logger (uvicorn and FastStream included) to one stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # aiokafka reports every reconnect attempt at ERROR during a broker restart.
    logging.getLogger("aiokafka").setLevel(max(root.level, logging.WARNING))


def tracer_provider(service: str) -> OnDemandTracerProvider:
    """The process's tracer provider; spans are exported only when an OTLP endpoint is set
    (and, without one, not even built: records still carry their trace context)."""
    global _tracer_provider  # noqa: PLW0603 - one provider per process, as OpenTelemetry expects
    if _tracer_provider is None:
        provider = OnDemandTracerProvider(
            resource=Resource.create({"service.name": f"binome-{service}"})
        )
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
                OTLPSpanExporter,
            )
            from opentelemetry.instrumentation.asyncpg import (  # noqa: PLC0415
                AsyncPGInstrumentor,
            )

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            # A span per SQL statement costs a fifth of the consumer's throughput: worth it
            # only when someone collects them.
            AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        trace.set_tracer_provider(provider)
        _tracer_provider = provider
    return _tracer_provider
