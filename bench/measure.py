"""One run: start a system's workers, warm up, then the drain and the paced phases.

Drain phase: ``n`` jobs in one ``enqueue_bulk``. Enqueue rate is ``n`` over
the time that call took; drain throughput is ``n`` over first enqueue to the
last ``t_done`` in the sink (not to when the harness noticed, so the polling
interval does not enter the figure).

With ``prefill``, the drain phase's ``n`` jobs are enqueued before any
worker starts (then ``PREFILL_SETTLE_S`` for the system to finish publishing),
and drain throughput is ``n`` over the first job's ``t_start`` to the last
``t_done``: how fast a backlog empties, as a user judges it, with neither the
enqueue rate (publisher confirms) nor worker start-up in the figure. Warm-up
jobs are skipped then, since they would queue behind the backlog.

Paced phase: ``paced_n`` jobs through ``enqueue_one`` at ``rate`` jobs/s on a
fixed schedule (a late enqueue does not push the later ones back). Latency is
from just before each ``enqueue_one`` call to the job's ``t_start`` and
``t_done``, so it includes submission, as a client sees it.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench.procs import RssSampler, is_alive, machine_busy_s, tree_cpu_s
from bench.sink import Record, SinkReader
from bench.systems import Job, RunContext, System, load


@dataclass(frozen=True)
class RunSpec:
    """What one run measures and its limits."""

    system: str
    kind: str
    workers: int
    n: int
    paced_n: int
    rate: float
    timeout: float
    amqp_url: str
    redis_url: str
    confirms: bool = True
    prefill: bool = False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


Alive = Callable[[], None]


def _check_alive(pids: Sequence[int]) -> None:
    dead = [pid for pid in pids if not is_alive(pid)]
    if dead:
        raise RuntimeError(f"worker processes {dead} exited during the run")


def run_once(spec: RunSpec) -> dict[str, Any]:
    """Run one configuration of one system; raise on any failure or timeout."""
    run_id = uuid.uuid4().hex[:10]
    sink_dir = Path(tempfile.mkdtemp(prefix=f"bench-{spec.system}-{run_id}-"))
    ctx = RunContext(
        run_id=run_id,
        queue=f"bench-{spec.system}-{run_id}",
        sink_dir=sink_dir,
        amqp_url=spec.amqp_url,
        redis_url=spec.redis_url,
        timeout=spec.timeout,
        confirms=spec.confirms,
    )
    system = load(spec.system)
    try:
        system.setup(ctx)
        metrics = _measure(system, spec, ctx)
    except BaseException:
        print(f"  worker logs kept in {sink_dir}", flush=True)
        raise
    shutil.rmtree(sink_dir, ignore_errors=True)
    return metrics


PREFILL_SETTLE_S = 2.0


def _measure(system: System, spec: RunSpec, ctx: RunContext) -> dict[str, Any]:
    reader = SinkReader(ctx.sink_dir)
    if spec.prefill:
        return _measure_prefilled(system, spec, reader)
    try:
        pids = system.start_workers(spec.workers)
        alive = partial(_check_alive, pids)
        with RssSampler(pids) as rss:
            warmup = [Job(f"w-{i}", "noop") for i in range(max(8, 4 * spec.workers))]
            system.enqueue_bulk(warmup)
            reader.wait_for([j.id for j in warmup], spec.timeout, alive_check=alive)
            time.sleep(0.5)  # let every worker process finish starting up
            metrics = _drain(system, spec, reader, alive)
            if spec.paced_n > 0:
                metrics |= _paced(system, spec, reader, alive)
        metrics["peak_rss_mib"] = rss.peak_bytes / 2**20
        metrics["duplicates"] = reader.duplicates
    finally:
        try:
            system.stop_workers()
        finally:
            system.teardown()
    return metrics


def _measure_prefilled(system: System, spec: RunSpec, reader: SinkReader) -> dict[str, Any]:
    jobs = [Job(f"d-{i}", spec.kind) for i in range(spec.n)]
    try:
        t0 = time.monotonic()
        system.enqueue_bulk(jobs)
        enqueue_rate = spec.n / (time.monotonic() - t0)
        time.sleep(PREFILL_SETTLE_S)
        busy_before, started = machine_busy_s(), time.monotonic()
        pids = system.start_workers(spec.workers)
        with RssSampler(pids) as rss:
            alive = partial(_check_alive, pids)
            records = reader.wait_for([j.id for j in jobs], spec.timeout, alive_check=alive)
            workers_cpu_s = tree_cpu_s(pids)
        wall_s = time.monotonic() - started
        first_start = min(r.t_start for r in records)
        last_done = max(r.t_done for r in records)
        return {
            "enqueue_rate": enqueue_rate,
            "drain_throughput": spec.n / (last_done - first_start),
            # cores in use on average from starting the workers to the last
            # completion noticed: all of them, and the workers' share
            "cores_busy": (machine_busy_s() - busy_before) / wall_s,
            "worker_cores": workers_cpu_s / wall_s,
            "peak_rss_mib": rss.peak_bytes / 2**20,
            "duplicates": reader.duplicates,
        }
    finally:
        try:
            system.stop_workers()
        finally:
            system.teardown()


def _drain(system: System, spec: RunSpec, reader: SinkReader, alive: Alive) -> dict[str, float]:
    jobs = [Job(f"d-{i}", spec.kind) for i in range(spec.n)]
    t0 = time.monotonic()
    system.enqueue_bulk(jobs)
    t1 = time.monotonic()
    records = reader.wait_for([j.id for j in jobs], spec.timeout, alive_check=alive)
    last_done = max(r.t_done for r in records)
    return {
        "enqueue_rate": spec.n / (t1 - t0),
        "drain_throughput": spec.n / (last_done - t0),
    }


def _paced(system: System, spec: RunSpec, reader: SinkReader, alive: Alive) -> dict[str, float]:
    jobs = [Job(f"p-{i}", spec.kind) for i in range(spec.paced_n)]
    enqueued: dict[str, float] = {}
    t0 = time.monotonic() + 0.05
    for i, job in enumerate(jobs):
        delay = t0 + i / spec.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        enqueued[job.id] = time.monotonic()
        system.enqueue_one(job)
    span = enqueued[jobs[-1].id] - enqueued[jobs[0].id]
    offered = (spec.paced_n - 1) / span if span > 0 else float("nan")
    records = reader.wait_for([j.id for j in jobs], spec.timeout, alive_check=alive)
    return _latencies(records, enqueued) | {"offered_rate": offered}


def _latencies(records: list[Record], enqueued: dict[str, float]) -> dict[str, float]:
    to_start = [(r.t_start - enqueued[r.job_id]) * 1000 for r in records]
    to_done = [(r.t_done - enqueued[r.job_id]) * 1000 for r in records]
    return {
        "start_p50_ms": percentile(to_start, 50),
        "start_p99_ms": percentile(to_start, 99),
        "done_p50_ms": percentile(to_done, 50),
        "done_p99_ms": percentile(to_done, 99),
    }
