"""The trace spans of one batch's attempts: one span per attempt, a retry linked to the last.

Each span's parent is the context its message carries (the submitting
request's), so a trace runs from ``executeJob`` through the outbox and the
broker into the executor. A span is current while its item's lifecycle
hooks run, so plugins can add attributes (``workq_core.set_span_attributes``),
and ends once the batch is settled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from opentelemetry import trace

from workq_core.executor.attempts import Claim
from workq_core.telemetry.tracing import (
    parent_context,
    previous_attempt_links,
    retry_trace_context,
    tracer,
)


class AttemptSpans:
    """Spans keyed by item id, for the items of one batch; ``properties`` by item id too."""

    def __init__(self, properties: Mapping[int, Mapping[str, str]]) -> None:
        self.properties = properties
        self._spans: dict[int, trace.Span] = {}

    def start(self, claim: Claim) -> None:
        props = self.properties.get(claim.item_id, {})
        self._spans[claim.item_id] = tracer().start_span(
            f"run {claim.job_type}",
            context=parent_context(props),
            kind=trace.SpanKind.CONSUMER,
            links=previous_attempt_links(props),
            attributes={
                "workq.job_id": claim.job_id,
                "workq.job_type": claim.job_type,
                "workq.item_index": claim.index,
                "workq.attempt": claim.attempt,
                "workq.max_attempts": claim.max_attempts,
            },
        )

    @contextlib.contextmanager
    def active(self, item_id: int) -> Iterator[None]:
        """Make the item's span current (nothing happens for an item without one)."""
        span = self._spans.get(item_id)
        if span is None:
            yield
            return
        with trace.use_span(span, end_on_exit=False):
            yield

    def failed(self, claim: Claim, error: BaseException) -> None:
        span = self._spans.get(claim.item_id)
        if span is not None:
            span.record_exception(error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))

    def retry_context(self, claim: Claim) -> str | None:
        """The context the retry's outbox row stores: same parent, a link to this attempt."""
        span = self._spans.get(claim.item_id)
        if span is None:
            return None
        return retry_trace_context(self.properties.get(claim.item_id, {}), span)

    def end_all(self) -> None:
        for span in self._spans.values():
            span.end()
        self._spans.clear()
