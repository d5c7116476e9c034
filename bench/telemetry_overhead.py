"""What the executor's instrumentation costs per item: ``python -m bench.telemetry_overhead``.

Per item an attempt records a lifecycle event pair (started, succeeded: two
counters, two histograms) and one attempt span. This times exactly those calls,
``--items`` times, in the mode a service runs (prometheus-client multiprocess
mode, no tracer provider: OpenTelemetry's no-op spans) and prints microseconds
per item. Run with ``--in-memory`` for prometheus-client's single-process values.
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


if __name__ == "__main__":
    main()
