"""OpenTelemetry traces: exported only when configured; their context crosses outbox and broker.

The W3C trace context of the request that submitted a job is stored with
its outbox row and travels in each item message's properties, so every
attempt's span in an executor is a child of the ``executeJob`` request's
span. A retry's outbox row carries, besides that parent, the failed
attempt's span context (``workq-previous-attempt``): the next attempt is a
new span linked to the previous one. Without ``telemetry.otlp_endpoint`` no
tracer provider is installed: spans are OpenTelemetry's no-op ones, and a
context a client sent still passes through.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from workq_core.config import Settings

logger = logging.getLogger(__name__)

TRACER_NAME = "workq"
PREVIOUS_ATTEMPT = "workq-previous-attempt"
PROPAGATOR = TraceContextTextMapPropagator()
_provider: Any = None


def configure_tracing(settings: Settings, service: str) -> None:
    """Install a tracer provider exporting over OTLP/HTTP, if an endpoint is configured (once)."""
    global _provider
    endpoint = settings.telemetry.otlp_endpoint.strip()
    if not endpoint or _provider is not None:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    namespace = settings.telemetry.service_namespace
    resource = Resource.create({"service.name": f"workq-{service}", "service.namespace": namespace})
    _provider = TracerProvider(resource=resource)
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(_provider)
    logger.info("exporting traces", extra={"endpoint": endpoint, "service": service})


def shutdown_tracing() -> None:
    """Export the spans still buffered (service processes leave without interpreter teardown)."""
    if _provider is not None:
        _provider.shutdown()


def tracer() -> trace.Tracer:
    """Workq's tracer; a proxy that follows a provider installed later (tests, applications)."""
    return _TRACER


_TRACER = trace.get_tracer(TRACER_NAME)


def carrier_of(span: trace.Span | None = None) -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of ``span``, or of the current context."""
    carrier: dict[str, str] = {}
    ctx = trace.set_span_in_context(span) if span is not None else None
    PROPAGATOR.inject(carrier, context=ctx)
    return carrier


def current_trace_context() -> str | None:
    """The current trace context as an outbox row stores it (JSON), or None outside a trace."""
    carrier = carrier_of()
    return json.dumps(carrier, separators=(",", ":")) if carrier else None


def retry_trace_context(parent: Mapping[str, str], attempt: trace.Span) -> str | None:
    """A retry's outbox context: the same parent as the failed attempt, and a link to it."""
    carrier = {k: v for k, v in parent.items() if k in ("traceparent", "tracestate")}
    previous = carrier_of(attempt).get("traceparent")
    if previous:
        carrier[PREVIOUS_ATTEMPT] = previous
    return json.dumps(carrier, separators=(",", ":")) if carrier else None


def message_properties(stored: str | None) -> dict[str, str]:
    """The properties an outbox row's stored context adds to its messages."""
    if not stored:
        return {}
    try:
        loaded = json.loads(stored)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def parent_context(properties: Mapping[str, str]) -> otel_context.Context:
    """The context a message's properties carry (an empty one when they carry none)."""
    return PROPAGATOR.extract(dict(properties))


def previous_attempt_links(properties: Mapping[str, str]) -> list[trace.Link]:
    """A link to the previous attempt's span, when the message is a retry that names one."""
    previous = properties.get(PREVIOUS_ATTEMPT)
    if not previous:
        return []
    ctx = PROPAGATOR.extract({"traceparent": previous})
    span_context = trace.get_current_span(ctx).get_span_context()
    return [trace.Link(span_context)] if span_context.is_valid else []


def set_span_attributes(attributes: Mapping[str, Any]) -> None:
    """Add attributes to the current span: lifecycle hooks run inside the item's attempt span.

    A no-op when tracing is off. Values must be str, bool, int, float or
    sequences of one of those (OpenTelemetry's rule).
    """
    span = trace.get_current_span()
    for key, value in attributes.items():
        span.set_attribute(key, value)
