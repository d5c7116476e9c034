"""What the instrumentation costs: ``python -m bench.telemetry_overhead``.

Per item an attempt records a lifecycle event pair (started, succeeded: two
counters, two histograms) and one attempt span; per GraphQL request the web
layer times it by operation in a server span. This times exactly those calls,
``--items`` times each, in the mode a service runs (prometheus-client
multiprocess mode, no tracer provider: OpenTelemetry's no-op spans) and prints
microseconds per item and per request. ``--in-memory``: single-process values.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--in-memory", action="store_true", help="no multiprocess mode")
    args = parser.parse_args()
    if not args.in_memory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="workq-bench-metrics-")

    from workq_core.events import ItemEvent
    from workq_core.executor.attempt_spans import AttemptSpans
    from workq_core.executor.attempts import Claim, Verdict
    from workq_core.telemetry.item_metrics import record_item_event

    claim = Claim(Verdict.RUN, item_id=1, job_id="j", job_type="Bench", attempt=1, max_attempts=3)
    began = ItemEvent("j", "Bench", 0, 1, 3, waited_ms=12.0)
    ended = ItemEvent("j", "Bench", 0, 1, 3, duration_ms=3.0)
    started = time.perf_counter()
    for _ in range(args.items):
        spans = AttemptSpans({1: {}})
        spans.start(claim)
        with spans.active(1):
            record_item_event("workq_item_started", began)
            record_item_event("workq_item_succeeded", ended)
        spans.end_all()
    elapsed = time.perf_counter() - started
    mode = "in-memory" if args.in_memory else "multiprocess"
    print(f"{mode}: {elapsed / args.items * 1e6:.1f} us per item over {args.items} items")
    print(f"{mode}: {per_request_us(args.items):.1f} us per GraphQL request")


def per_request_us(count: int) -> float:
    import falcon.testing

    from workq_core.web.observe import observed
    from workq_core.web.operations import GraphQLRequest

    req = falcon.testing.create_req(headers={"Content-Type": "application/json"})
    query = "mutation ExecuteJob($i: ExecuteJobInput!) { executeJob(executeJobInput: $i) { id } }"
    request = GraphQLRequest(query, None, "ExecuteJob")
    started = time.perf_counter()
    for _ in range(count):
        with observed("jobs", req, request):
            pass
    return (time.perf_counter() - started) / count * 1e6


if __name__ == "__main__":
    main()
