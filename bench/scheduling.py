"""Scheduling precision: ``python -m bench.scheduling [--schedules 20] [--seconds 30]``.

How late schedule runs fire, on SQLite and PostgreSQL, through the shipped
services as separate processes (auth, jobs with its scheduler, pulsar-lite;
no executors: this measures firing, not running). ``--schedules`` interval
schedules every ``--interval`` seconds are created at once through GraphQL
and left to fire for ``--seconds``; each run's lateness is its job's
``created_at`` (the firing transaction's clock) minus the run time its
idempotency key names. Also counted: runs of the grid that never fired and
runs that fired twice (both must be 0). ``--tick`` is
``jobs.scheduler_tick_s`` (the default is the shipped one).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import report
from bench.systems.base import RunContext
from bench.systems.workq_plugin import NAME
from bench.systems.workq_sys import WorkqPostgresSystem, WorkqSystem
from workq_core.db import connect
from workq_core.db.sql import rows

CREATE = """mutation ($input: CreateScheduleInput!) { createSchedule(input: $input) { id } }"""
PAUSE = "mutation ($id: ID!) { pauseSchedule(id: $id) { id } }"


def with_tick(system_class: type[WorkqSystem], tick_s: float) -> WorkqSystem:
    """The system, its jobs service's scheduler looking every ``tick_s`` seconds."""

    class Ticking(system_class):  # type: ignore[valid-type,misc]
        def _env(self) -> dict[str, str]:
            return {**super()._env(), "WORKQ_JOBS_SCHEDULER_TICK_S": str(tick_s)}

    return Ticking()


def fire(system: WorkqSystem, args: argparse.Namespace) -> dict[str, Any]:
    ids = []
    for n in range(args.schedules):
        schedule = {
            "name": f"bench-{n}",
            "jobType": NAME,
            "data": {"kind": "noop", "id": f"schedule-{n}"},
            "intervalSeconds": args.interval,
            "overlap": "ALLOW",
        }
        answer = system.client.execute(CREATE, {"input": schedule})
        ids.append(answer["createSchedule"]["id"])
    time.sleep(args.seconds)
    for schedule_id in ids:
        system.client.execute(PAUSE, {"id": schedule_id})
    return lateness(system, ids, args.interval * 1000)


def lateness(system: WorkqSystem, ids: list[str], interval_ms: int) -> dict[str, Any]:
    db = connect(system.env["DATABASE_URL"])
    late: list[int] = []
    missing = doubled = 0
    with db.connection_context():
        for schedule_id in ids:
            fired = rows(
                db,
                "SELECT idempotency_key, created_at FROM jobs WHERE idempotency_key LIKE ?",
                (f"schedule:{schedule_id}:%",),
            )
            times = sorted(int(r["idempotency_key"].rsplit(":", 1)[1]) for r in fired)
            late += [
                int(r["created_at"]) - int(r["idempotency_key"].rsplit(":", 1)[1]) for r in fired
            ]
            if times:
                missing += (times[-1] - times[0]) // interval_ms + 1 - len(set(times))
                doubled += len(times) - len(set(times))
    db.close()
    late.sort()
    return {
        "runs": len(late),
        "missing": missing,
        "doubled": doubled,
        "p50_ms": statistics.median(late) if late else None,
        "p99_ms": late[int(len(late) * 0.99)] if late else None,
        "max_ms": late[-1] if late else None,
    }


def measure(system: WorkqSystem, args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    sink = Path(tempfile.mkdtemp(prefix="workq-scheduling-"))
    system.setup(RunContext(run_id, f"bench-{run_id}", sink, "", "", timeout=120))
    try:
        return {"system": system.name, **fire(system, args)}
    finally:
        system.teardown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scheduling", description=__doc__)
    parser.add_argument("--schedules", type=int, default=20)
    parser.add_argument("--interval", type=int, default=1, help="seconds between runs")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tick", type=float, default=1.0, help="jobs.scheduler_tick_s")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = [
        measure(with_tick(WorkqSystem, args.tick), args),
        measure(with_tick(WorkqPostgresSystem, args.tick), args),
    ]
    print(
        f"{args.schedules} schedules every {args.interval}s for {args.seconds:g}s,"
        f" scheduler tick {args.tick:g}s"
    )
    print(
        f"{'system':>9}  {'runs':>5}  {'missing':>7}  {'doubled':>7}  lateness p50 / p99 / max ms"
    )
    for r in results:
        print(
            f"{r['system']:>9}  {r['runs']:>5}  {r['missing']:>7}  {r['doubled']:>7}"
            f"  {r['p50_ms']} / {r['p99_ms']} / {r['max_ms']}"
        )
    if args.out:
        report.write_results(args.out, args, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
