"""The cost of queue order: ``python -m bench.ordering [--systems workq,workq-pg] [--n 10000]``.

In one run per database, each on a fresh stack with ``--workers`` executor
processes (the shipped 4 threads each, as in ``bench.run``):

- ``whole job``: ``executor.publish_window`` so large that a job's items all
  go to the broker at once, as before admission existed: the plain drain;
- ``window auto``: the default window (sized from the executors), the same
  drain; ``--windows 0,512,2048`` measures fixed windows beside it;
- ``window + priorities``: the same ``--n`` items as ten jobs submitted back
  to back, priorities -10, -8, ..., 8, so admission reorders them;
- ``delays`` (on the default window): ``--paced-n`` single-item jobs at
  ``--rate`` per second, each with ``delayMs = --delay-ms``; lateness is an
  item's ``started_at`` minus its job's ``run_at``, both from the database
  (p50, p99, max, and min: negative would be an item that started early).

Drain throughput is ``--n`` over first submission to the last item done, as
in ``bench.run``. Configurations interleave across ``--repeat`` repeats and
the median is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.measure import percentile
from bench.sink import SinkReader
from bench.systems.base import RunContext
from bench.systems.workq_plugin import NAME
from bench.systems.workq_sys import WorkqPostgresSystem, WorkqSystem
from workq_core.db import connect
from workq_core.db.sql import placeholders, rows

SUBMIT = """mutation Submit($input: ExecuteJobInput!) {
  executeJob(executeJobInput: $input) { id } }"""
WHOLE_JOB = {"WORKQ_EXECUTOR_PUBLISH_WINDOW": str(10**9)}  # every job published at once
SYSTEMS = {"workq": WorkqSystem, "workq-pg": WorkqPostgresSystem}


def variant(base: type[WorkqSystem], extra: dict[str, str]) -> WorkqSystem:
    """``base`` with ``extra`` in every process's environment."""

    class Variant(base):  # type: ignore[valid-type,misc]
        def _env(self) -> dict[str, str]:
            return {**super()._env(), **extra}

    return Variant()


def window_env(window: int) -> dict[str, str]:
    return {"WORKQ_EXECUTOR_PUBLISH_WINDOW": str(window)}


def submit(system: WorkqSystem, data: Any, **order: Any) -> dict[str, Any]:
    job_input = {"name": NAME, "data": data, **order}
    answer: dict[str, Any] = system.client.execute(SUBMIT, {"input": job_input})
    return answer["executeJob"]


def items(prefix: str, n: int) -> list[dict[str, str]]:
    return [{"kind": "noop", "id": f"{prefix}-{i}"} for i in range(n)]


def drain(system: WorkqSystem, reader: SinkReader, n: int, jobs: int, timeout: float) -> float:
    """Items per second, ``n`` items as ``jobs`` jobs of rising priority submitted back to back."""
    data = items(uuid.uuid4().hex[:8], n)
    size = n // jobs
    t0 = time.monotonic()
    for j in range(jobs):
        order = {"priority": -10 + 2 * j} if jobs > 1 else {}
        submit(system, data[j * size : (j + 1) * size if j < jobs - 1 else n], **order)
    records = reader.wait_for([d["id"] for d in data], timeout)
    return n / (max(r.t_done for r in records) - t0)


def lateness(
    system: WorkqSystem, reader: SinkReader, n: int, rate: float, delay_ms: int, timeout: float
) -> dict[str, float]:
    """``started_at - run_at`` in ms of ``n`` delayed single-item jobs submitted at ``rate``.

    Both times come from the database, written by the services with one clock
    (the jobs service's for ``run_at``, the executor's for ``started_at``), so
    a negative figure would be an item that started early.
    """
    ids, job_ids = [], []
    t0 = time.monotonic() + 0.05
    for i, item in enumerate(items(uuid.uuid4().hex[:8], n)):
        pause = t0 + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        job_ids.append(submit(system, item, delayMs=delay_ms)["id"])
        ids.append(item["id"])
    reader.wait_for(ids, timeout + delay_ms / 1000)
    late = [float(ms) for ms in started_minus_run_at(system, job_ids)]
    return {
        "p50_ms": percentile(late, 50),
        "p99_ms": percentile(late, 99),
        "max_ms": max(late),
        "min_ms": min(late),
    }


def started_minus_run_at(system: WorkqSystem, job_ids: list[str]) -> list[int]:
    db = connect(system.env["DATABASE_URL"])
    found: list[int] = []
    with db.connection_context():
        for start in range(0, len(job_ids), 500):
            chunk = job_ids[start : start + 500]
            found += [
                int(row["late"])
                for row in rows(
                    db,
                    "SELECT i.started_at - j.run_at AS late FROM items i JOIN jobs j"  # noqa: S608
                    f" ON j.id = i.job_id WHERE j.id IN ({placeholders(len(chunk))})",
                    chunk,
                )
            ]
    db.close()
    return found


def run_one(system: WorkqSystem, args: argparse.Namespace, delays: bool) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    sink = Path(tempfile.mkdtemp(prefix="workq-ordering-"))
    ctx = RunContext(run_id, f"bench-{run_id}", sink, "", "", timeout=args.timeout)
    system.setup(ctx)
    reader = SinkReader(sink)
    try:
        system.start_workers(args.workers)
        warm = items("warm", 8 * args.workers)
        submit(system, warm)
        reader.wait_for([w["id"] for w in warm], args.timeout)
        time.sleep(0.5)
        result: dict[str, Any] = {"drain": drain(system, reader, args.n, 1, args.timeout)}
        if delays:
            result["priorities"] = drain(system, reader, args.n, 10, args.timeout)
            result["lateness"] = lateness(
                system, reader, args.paced_n, args.rate, args.delay_ms, args.timeout
            )
        return result
    finally:
        system.stop_workers()
        system.teardown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ordering", description=__doc__)
    parser.add_argument("--systems", default="workq,workq-pg")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--paced-n", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--delay-ms", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--windows",
        type=lambda text: [int(w) for w in text.split(",")],
        default=[0],
        help="publish windows to measure, comma-separated; 0 is the default (auto)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for name in args.systems.split(","):
            base = SYSTEMS[name]
            configurations = [(f"{name} whole job", variant(base, WHOLE_JOB), False)]
            configurations += [
                (f"{name} window {w or 'auto'}", variant(base, window_env(w)), True)
                for w in args.windows
            ]
            for label, system, delays in configurations:
                runs.setdefault(label, []).append(run_one(system, args, delays))
                print(label, json.dumps(runs[label][-1]), flush=True)
    summary = {label: summarize(results) for label, results in runs.items()}
    print(report(summary, args))
    if args.out:
        args.out.write_text(json.dumps({"args": vars(args) | {"out": str(args.out)}, **summary}))
    return 0


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeats, each figure on its own."""
    out: dict[str, Any] = {}
    for key in results[0]:
        if isinstance(results[0][key], dict):
            out[key] = {k: statistics.median(r[key][k] for r in results) for k in results[0][key]}
        else:
            out[key] = statistics.median(r[key] for r in results)
    return out


def report(summary: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [f"drain of {args.n} items, {args.workers} executor processes (items/s):"]
    for label, figures in summary.items():
        lines.append(f"  {label:<22} plain {figures['drain']:>8.0f}")
        if "priorities" in figures:
            lines.append(f"  {label + ' + priorities':<22} ten  {figures['priorities']:>9.0f}")
    lines.append(
        f"lateness of {args.paced_n} delayed items at {args.rate:.0f}/s"
        f" (delayMs {args.delay_ms}), start minus runAt:"
    )
    for label, figures in summary.items():
        if "lateness" in figures:
            late = figures["lateness"]
            lines.append(
                f"  {label:<22} p50 {late['p50_ms']:.0f} ms  p99 {late['p99_ms']:.0f} ms"
                f"  max {late['max_ms']:.0f} ms  min {late['min_ms']:.0f} ms"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
