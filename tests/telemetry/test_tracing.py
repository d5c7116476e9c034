"""One trace from the client's request through executeJob, the outbox and pulsar-lite into the
executor's span per attempt, recorded with the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import workq
from tests.executor.conftest import wait_for
from tests.jobs_service.conftest import stack_env
from workq_core import JobContext, RetryPolicy, hookimpl, set_span_attributes
from workq_core.auth import start_auth_service
from workq_core.db import connect
from workq_core.db.sql import rows
from workq_core.executor.runner import start_executor
from workq_core.jobs_service import start_jobs_service
from workq_core.runtime import bootstrap
from workq_core.telemetry.tracing import carrier_of

EXECUTE = """mutation ExecuteJob($input: ExecuteJobInput!) {
  executeJob(executeJobInput: $input) { id } }"""


class FlakyJob:
    """Fails its first attempt, succeeds on the second."""

    name = "Flaky"
    description = "Fail once, then succeed."
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=3, base_delay_ms=10, max_delay_ms=10)

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
        if ctx.attempt == 1:
            raise RuntimeError("first attempt fails")
        return {"attempt": ctx.attempt}


class TracingPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(FlakyJob())

    @hookimpl
    def workq_item_started(self, event: Any) -> None:
        set_span_attributes({"test.tenant": "acme", "test.attempt_seen": event.attempt})


class Recorder(SpanProcessor):
    """Hands finished spans to the exporter only while a test records (the provider is global)."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.recording = False

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            self.exporter.export([span])


_RECORDER = Recorder()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The global tracer provider (set once per process) recording into memory for this test."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(_RECORDER)
        trace.set_tracer_provider(provider)
    _RECORDER.exporter.clear()
    _RECORDER.recording = True
    yield _RECORDER.exporter
    _RECORDER.recording = False
    _RECORDER.exporter.clear()


@pytest.fixture
def stack(tmp_path, lite_broker) -> Iterator[dict[str, Any]]:
    env = stack_env(f"sqlite:///{tmp_path / 'workq.db'}", tmp_path, lite_broker.url)
    env["WORKQ_CORE_DISABLE_PLUGINS"] = "sql,fibonacci"
    plugins = [("tracing", TracingPlugin())]
    auth = start_auth_service(bootstrap(env=env), port=0, grpc_port=0)
    env["WORKQ_JOBS_AUTH_GRPC"] = f"127.0.0.1:{auth.grpc_port}"
    runtime = bootstrap(env={**env, "WORKQ_EXECUTOR_RELAY": "false"}, extra_plugins=plugins)
    jobs = start_jobs_service(runtime, port=0)
    executor = start_executor(runtime)
    try:
        yield {"auth": auth, "jobs": jobs, "db": connect(env["DATABASE_URL"])}
    finally:
        executor.stop()
        jobs.stop()
        auth.stop()


def test_a_trace_crosses_from_the_api_through_the_broker_into_each_attempt(spans, stack) -> None:
    auth_url = f"http://127.0.0.1:{stack['auth'].http_port}/graphql"
    with workq.Client(stack["jobs"].url, auth_url) as client:
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        client.create_user(email, "S3cret!pass")
        token = client.login(email, "S3cret!pass")

    # Given a client that sends its own trace context with executeJob
    with trace.get_tracer("test-client").start_as_current_span("client") as client_span:
        headers = {"Authorization": f"Bearer {token}", **carrier_of(client_span)}
        body = {"query": EXECUTE, "variables": {"input": {"name": "Flaky", "data": {}}}}
        answer = httpx.post(stack["jobs"].url, json=body, headers=headers, timeout=30).json()
    job_id = answer["data"]["executeJob"]["id"]

    # When the item fails once and is retried
    wait_for(lambda: len(named(spans, "run Flaky")) == 2, timeout_s=60)
    db = stack["db"]
    with db.connection_context():
        item = rows(db, "SELECT status, attempts FROM items WHERE job_id = ?", (job_id,))[0]
        outbox_left = rows(db, "SELECT COUNT(*) AS n FROM outbox")[0]["n"]
    assert (item["status"], item["attempts"], outbox_left) == ("completed", 2, 0)

    # Then the request's span continues the client's trace
    (request,) = named(spans, "graphql ExecuteJob")
    trace_id = client_span.get_span_context().trace_id
    assert request.kind is trace.SpanKind.SERVER
    assert request.parent is not None
    assert request.parent.span_id == client_span.get_span_context().span_id
    assert request.context.trace_id == trace_id

    # And each attempt is its own span in that trace, a child of the request's span
    first, second = sorted(named(spans, "run Flaky"), key=lambda s: s.attributes["workq.attempt"])
    for attempt, span in enumerate((first, second), start=1):
        assert span.context.trace_id == trace_id
        assert span.parent is not None and span.parent.span_id == request.context.span_id
        assert span.kind is trace.SpanKind.CONSUMER
        assert span.attributes["workq.job_id"] == job_id
        assert span.attributes["workq.attempt"] == attempt
        # with the attributes a lifecycle plugin added from its hook
        assert span.attributes["test.tenant"] == "acme"
        assert span.attributes["test.attempt_seen"] == attempt
    assert first.status.status_code is trace.StatusCode.ERROR
    assert any(event.name == "exception" for event in first.events)
    assert second.status.status_code is trace.StatusCode.UNSET

    # And the retry is linked to the attempt before it
    assert [link.context.span_id for link in second.links] == [first.context.span_id]
    assert not first.links


def test_a_submission_outside_any_trace_stores_no_context(tmp_path) -> None:
    from workq_core.db import migrate
    from workq_core.db.sql import run
    from workq_core.jobs.submission import submit_job

    db = connect(f"sqlite:///{tmp_path / 'workq.db'}")
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES ('t@example.com', 'x')")
        submit_job(db, user_id=1, job_type="Flaky", items=[{}], max_attempts=1)
        stored = rows(db, "SELECT trace_context FROM jobs")
    assert stored == [{"trace_context": None}]


def test_dead_items_re_run_in_the_trace_of_the_request_that_asked(spans, tmp_path) -> None:
    from workq_core.db import migrate
    from workq_core.db.sql import run
    from workq_core.jobs.commands import retry_dead_items
    from workq_core.jobs.submission import submit_job

    db = connect(f"sqlite:///{tmp_path / 'workq.db'}")
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES ('t@example.com', 'x')")
        job_id = submit_job(db, user_id=1, job_type="Flaky", items=[{}], max_attempts=1).job_id
        run(db, "UPDATE items SET status = 'dead'")
        run(db, "DELETE FROM outbox")
        with trace.get_tracer("test").start_as_current_span("retryDeadItems") as span:
            assert retry_dead_items(db, 1, job_id) == 1
        (stored,) = rows(db, "SELECT trace_context FROM outbox")
    assert carrier_of(span)["traceparent"] in stored["trace_context"]


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]
