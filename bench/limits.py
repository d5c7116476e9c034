"""The cost of limits: ``python -m bench.limits [--items 4000] [--keys 20] [--concurrency 2]``.

The same drain twice per round, on one Workq stack (auth and jobs service
processes, ``--workers`` executor processes of 2 threads, pulsar-lite):
``--items`` no-op items spread over ``--keys`` keys, first without limits,
then with an admin's limit of ``--concurrency`` running items per key
(``setJobTypeLimits``, key ``/key``), alternating for ``--repeat`` rounds;
drain/s is items over the time from submission to the job's completion (the
client polls every 20 ms). SQLite, or PostgreSQL with ``--postgres``.

With noop items the limit rarely binds for long, so the figure is mostly
what every claim of a limited job type pays: a lock row per key, counts of
its slots, parking and waking of the items over the limit.
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

from bench.systems.base import RunContext
from bench.systems.workq_plugin import NAME
from bench.systems.workq_sys import SUBMIT, WorkqPostgresSystem, WorkqSystem
from workq_core.db import connect
from workq_core.db.sql import run

SET_LIMITS = """mutation ($name: String!, $limits: [LimitInput!]) {
  setJobTypeLimits(name: $name, limits: $limits) { source } }"""


def drain(system: WorkqSystem, items: int, keys: int) -> float:
    """Submit one job of ``items`` over ``keys`` keys; its items per second until done."""
    data = [{"kind": "noop", "id": uuid.uuid4().hex, "key": f"k{i % keys}"} for i in range(items)]
    started = time.perf_counter()
    job = system.client.execute(SUBMIT, {"input": {"name": NAME, "data": data}})["executeJob"]
    done = system.client.wait(job["id"], timeout_s=system.ctx.timeout, poll_s=0.02)
    elapsed = time.perf_counter() - started
    assert done.completed == items, done
    return items / elapsed


def set_limit(system: WorkqSystem, concurrency: int | None) -> None:
    limits = None if concurrency is None else [{"key": "/key", "concurrency": concurrency}]
    system.client.execute(SET_LIMITS, {"name": NAME, "limits": limits})


def make_admin(system: WorkqSystem) -> None:
    db = connect(system.env["DATABASE_URL"])
    with db.connection_context():
        run(db, "UPDATE users SET role = 'admin'")
    db.close()


def measure(system: WorkqSystem, args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    sink = Path(tempfile.mkdtemp(prefix="workq-limits-"))
    system.setup(RunContext(run_id, f"bench-{run_id}", sink, "", "", timeout=args.timeout))
    try:
        make_admin(system)
        if args.executor_relays:
            system.env["WORKQ_EXECUTOR_RELAY"] = "true"
        if args.batch_size:
            system.env["WORKQ_EXECUTOR_BATCH_SIZE"] = str(args.batch_size)
        system.start_workers(args.workers)
        drain(system, min(args.items, 200), args.keys)  # warm up: topics, connections
        free, limited = [], []
        for _ in range(args.repeat):
            set_limit(system, None)
            free.append(drain(system, args.items, args.keys))
            set_limit(system, args.concurrency)
            limited.append(drain(system, args.items, args.keys))
        system.stop_workers()
    finally:
        system.teardown()
    return {
        "system": system.name,
        "without_limits_per_s": free,
        "with_limits_per_s": limited,
        "ratio": statistics.median(limited) / statistics.median(free),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.limits", description=__doc__)
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="running items per key")
    parser.add_argument("--workers", type=int, default=2, help="executor processes")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of both drains")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--executor-relays",
        action="store_true",
        help="each executor runs an outbox relay too (the default of `workq executor`)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="executor.batch_size of the executors (default: shipped)"
    )
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    system = WorkqPostgresSystem() if args.postgres else WorkqSystem()
    result = measure(system, args)
    free = statistics.median(result["without_limits_per_s"])
    limited = statistics.median(result["with_limits_per_s"])
    print(
        f"{result['system']}: {args.items} items over {args.keys} keys, {args.workers} executors:"
        f" no limits {free:,.0f}/s; {args.concurrency} running per key {limited:,.0f}/s;"
        f" ratio {result['ratio']:.2f}"
    )
    if args.out:
        record = {"args": vars(args) | {"out": str(args.out)}, "result": result}
        args.out.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
