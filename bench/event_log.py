"""What the item event log costs the executor's write path, measured in one process.

``python -m bench.event_log [--items 3200] [--batch 32] [--rounds 5]``

For each database (SQLite, PostgreSQL) it claims and records batches of
items exactly as the executor does (``attempts.claim`` then
``attempts.record``), once with the event log written and once with
``event_log.append`` replaced by a no-op, alternating round by round on the
same database, and prints the median time per item of each and their
ratio. The end-to-end drain (``bench.run``) on a shared machine varies
more between two runs than this change costs; this isolates the writes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import peewee

from bench.systems.workq_sys import fresh_databases, migrated_with_user
from workq_core.db.sql import rows
from workq_core.executor import attempts
from workq_core.executor.attempts import Outcome
from workq_core.jobs import event_log
from workq_core.jobs.messages import ItemRef
from workq_core.jobs.submission import submit_job


@contextmanager
def events_off() -> Iterator[None]:
    """The same code with nothing appended to the log (attempts imports it as a module)."""
    append = event_log.append
    event_log.append = lambda db, events: None
    try:
        yield
    finally:
        event_log.append = append


def drain_once(db: peewee.Database, user_id: int, items: int, batch: int) -> float:
    """Seconds per item to claim and record every item of a fresh job, in batches."""
    with db.connection_context():
        job_id = submit_job(
            db, user_id=user_id, job_type="Noop", items=[{}] * items, max_attempts=3
        ).job_id
        found = rows(db, "SELECT id, idx FROM items WHERE job_id = ? ORDER BY idx", (job_id,))
        refs = [ItemRef(job_id, int(r["id"]), int(r["idx"]), 0) for r in found]
        started = time.perf_counter()
        for start in range(0, len(refs), batch):
            claims = attempts.claim(db, refs[start : start + batch], 60_000)
            attempts.record(db, [Outcome(c, result_json="null", duration_ms=0.1) for c in claims])
        return (time.perf_counter() - started) / items


def measure(url: str, items: int, batch: int, rounds: int) -> dict[str, float]:
    db, user_id = migrated_with_user(url)
    drain_once(db, user_id, batch, batch)  # warm up connections and caches
    on: list[float] = []
    off: list[float] = []
    for _ in range(rounds):
        on.append(drain_once(db, user_id, items, batch))
        with events_off():
            off.append(drain_once(db, user_id, items, batch))
    db.close()
    with_log, without = statistics.median(on), statistics.median(off)
    return {"with_us": with_log * 1e6, "without_us": without * 1e6, "ratio": with_log / without}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3200, help="items per drained job")
    parser.add_argument("--batch", type=int, default=32, help="items per claim/record")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians")
    args = parser.parse_args(argv)
    databases = fresh_databases("workq_events")
    print(f"{'database':>9} {'with log µs/item':>17} {'without µs/item':>16} {'ratio':>6}")
    results: dict[str, Any] = {}
    for name, url in databases.items():
        results[name] = figures = measure(url(), args.items, args.batch, args.rounds)
        print(
            f"{name:>9} {figures['with_us']:>17.1f} {figures['without_us']:>16.1f}"
            f" {figures['ratio']:>5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
