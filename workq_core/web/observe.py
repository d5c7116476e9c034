"""Each GraphQL request timed by operation name and traced as one server span.

Operation names come from clients, so the latency histogram would grow a
series per made-up name: the first ``MAX_OPERATION_NAMES`` names seen get
their own label, later ones are counted as ``other``. Unnamed operations are
labelled by their type (``query``, ``mutation``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import falcon
from graphql import GraphQLError, OperationDefinitionNode, parse
from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter

from workq_core.telemetry import metrics
from workq_core.telemetry.tracing import PROPAGATOR, tracer
from workq_core.web.operations import GraphQLRequest

MAX_OPERATION_NAMES = 200
MAX_NAME_LENGTH = 64
_seen: set[str] = set()
_seen_lock = threading.Lock()


class _HeaderGetter(Getter[falcon.Request]):
    def get(self, carrier: falcon.Request, key: str) -> list[str] | None:
        value = carrier.get_header(key)
        return [value] if value is not None else None

    def keys(self, carrier: falcon.Request) -> list[str]:
        return list(carrier.headers)


_GETTER = _HeaderGetter()


def operation_label(request: GraphQLRequest) -> str:
    """The bounded label for this request's operation (see the module docstring)."""
    name = request.operation_name or _document_operation(request.query)
    name = name[:MAX_NAME_LENGTH]
    with _seen_lock:
        if name in _seen:
            return name
        if len(_seen) < MAX_OPERATION_NAMES:
            _seen.add(name)
            return name
    return "other"


@lru_cache(maxsize=512)
def _document_operation(query: str) -> str:
    """The only operation's name, else its type; ``invalid`` for a document that does not parse."""
    try:
        document = parse(query, max_tokens=5000)
    except GraphQLError:
        return "invalid"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return "invalid"
    operation = operations[0]
    return operation.name.value if operation.name else operation.operation.value


@contextlib.contextmanager
def observed(service: str, req: falcon.Request, request: GraphQLRequest) -> Iterator[None]:
    """Time the request and run it in a server span continuing the client's trace, if any."""
    operation = operation_label(request)
    parent = PROPAGATOR.extract(req, getter=_GETTER)
    started = time.perf_counter()
    with tracer().start_as_current_span(
        f"graphql {operation}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={"graphql.operation.name": operation, "workq.service": service},
    ):
        try:
            yield
        finally:
            _histogram(service, operation).observe(time.perf_counter() - started)


@lru_cache(maxsize=2 * MAX_OPERATION_NAMES + 16)
def _histogram(service: str, operation: str) -> Any:
    """The histogram's child for these labels (looking labels up costs more than observing)."""
    return metrics.HTTP_REQUESTS.labels(service, operation)
