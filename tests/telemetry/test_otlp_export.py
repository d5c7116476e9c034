"""Traces exported over OTLP/HTTP by a real ``workq up`` (executor worker processes included)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

import workq
from tests.e2e.test_up_and_demo import Up
from tests.executor.conftest import wait_for
from tests.telemetry.test_metrics import scrape, total

pytestmark = pytest.mark.e2e


class Collector(ThreadingHTTPServer):
    """The smallest OTLP/HTTP traces receiver: keeps every span with its service name."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.server.spans.append(
                            {
                                "service": attributes.get("service.name"),
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_id": span.parent_span_id.hex(),
                            }
                        )
        body = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_spans_from_the_api_and_every_executor_process_reach_the_collector(
    tmp_path, collector: Collector
) -> None:
    # Given `workq up` with two executor processes, exporting traces to a collector
    up = Up(tmp_path / "data")
    up.env = {
        "WORKQ_TELEMETRY_OTLP_ENDPOINT": collector.endpoint,
        "WORKQ_EXECUTOR_PROCESSES": "2",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    up.start()
    try:
        executor_port = up.ports["executor"]
        wait_for(lambda: total(scrape(executor_port), "workq_executor_threads", state="idle") == 8)
        # When a job of several items is submitted and runs
        with workq.Client(up.jobs_url, up.auth_url) as client:
            client.create_user("otlp@example.com", "S3cret!pass")
            client.login("otlp@example.com", "S3cret!pass")
            job = client.submit("Fibonacci", [{"iterations": 10_000}] * 40)
            client.wait(job.id, timeout_s=120)
    finally:
        assert up.stop() == 0  # stopping flushes what the processes still buffer

    # Then the collector has the submission's span and one span per item, in one trace
    def runs() -> list[dict[str, Any]]:
        with collector.lock:
            return [s for s in collector.spans if s["name"] == "run Fibonacci"]

    wait_for(lambda: len(runs()) == 40, timeout_s=30)
    with collector.lock:
        (submit,) = [s for s in collector.spans if s["name"] == "graphql Submit"]
    assert submit["service"] == "workq-up"  # auth, jobs and the first executor share a process
    assert {s["trace_id"] for s in runs()} == {submit["trace_id"]}
    assert {s["parent_id"] for s in runs()} == {submit["span_id"]}
    # and the second executor process, a process of its own, sent its spans too
    assert {s["service"] for s in runs()} == {"workq-up", "workq-executor"}
