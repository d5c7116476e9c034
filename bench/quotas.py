"""What the per-user quota check costs the submission path, measured in one process.

``python -m bench.quotas [--rounds 10] [--threads 8] [--burst-s 2] [--items 10000]``

For each database (SQLite, PostgreSQL) it submits through ``JobsApi.submit``
as the jobs service does: a burst of single-item submissions of one user
from ``--threads`` threads for ``--burst-s`` seconds, and one submission of
``--items`` items; once with the configured quotas (the default, generous
ones: "after") and once with the check replaced by one that charges nothing
("before"), alternating which goes first round by round, and prints the
medians and the median of the per-round ratios. Through HTTP
(``bench.submission``) a shared machine varies more between two runs than
this check costs; this isolates it.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.systems.workq_sys import fresh_databases, migrated_with_user
from workq_core.jobs.quotas import Charge
from workq_core.jobs_service.api import JobsApi
from workq_core.runtime import bootstrap

ITEM = {"iterations": 1}


class NoQuotas:
    """The submission path without the check: nothing charged."""

    @contextlib.contextmanager
    def charged(self, user_id: int, items: int) -> Iterator[Charge]:
        yield Charge(user_id, 0, 0)


def _burst(api: JobsApi, pool: ThreadPoolExecutor, user_id: int, seconds: float) -> float:
    """Single-item submissions per second from the pool's threads for ``seconds``."""
    done = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def submit() -> None:
        while time.perf_counter() < deadline:
            api.submit(user_id, "Fibonacci", ITEM)
            with lock:
                done[0] += 1

    started = time.perf_counter()
    list(pool.map(lambda _: submit(), range(pool._max_workers)))
    return done[0] / (time.perf_counter() - started)


def _bulk(api: JobsApi, user_id: int, items: int) -> float:
    started = time.perf_counter()
    api.submit(user_id, "Fibonacci", [ITEM] * items)
    return time.perf_counter() - started


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    runtime = bootstrap(
        env={
            "DATABASE_URL": url,
            "JWT_SECRET": "x" * 40,
            "WORKQ_CORE_DATA_DIR": tempfile.mkdtemp(prefix="workq-bench-quotas-"),
            "WORKQ_CORE_DISABLE_PLUGINS": "sql,pulsar",
        }
    )
    db, user_id = migrated_with_user(url)
    api = JobsApi(db, runtime.settings, runtime.catalog)
    sides: dict[str, Any] = {"after": api.quotas, "before": NoQuotas()}
    rates: dict[str, list[float]] = {"after": [], "before": []}
    bulks: dict[str, list[float]] = {"after": [], "before": []}
    rate_ratios, bulk_ratios = [], []
    with ThreadPoolExecutor(args.threads) as pool:  # the same threads (connections) each round
        for n in range(args.rounds):
            for side in ("before", "after") if n % 2 == 0 else ("after", "before"):
                api.quotas = sides[side]
                bulks[side].append(_bulk(api, user_id, args.items))
                rates[side].append(_burst(api, pool, user_id, args.burst_s))
            rate_ratios.append(rates["after"][-1] / rates["before"][-1])
            bulk_ratios.append(bulks["after"][-1] / bulks["before"][-1])
    db.close()
    median = statistics.median
    return {
        "before_per_s": median(rates["before"]),
        "after_per_s": median(rates["after"]),
        "rate_ratio": median(rate_ratios),
        "before_bulk_s": median(bulks["before"]),
        "after_bulk_s": median(bulks["after"]),
        "bulk_ratio": median(bulk_ratios),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds; medians")
    parser.add_argument("--threads", type=int, default=8, help="threads submitting single items")
    parser.add_argument("--burst-s", type=float, default=2.0, help="seconds of each burst")
    parser.add_argument("--items", type=int, default=10_000, help="items of the bulk submission")
    args = parser.parse_args(argv)
    databases = fresh_databases("workq_quotas")
    print(
        f"{'database':>9} {'single before/s':>16} {'after/s':>8} {'ratio':>6}"
        f" {'bulk before s':>14} {'after s':>8} {'ratio':>6}"
    )
    for name, url in databases.items():
        f = measure(url(), args)
        print(
            f"{name:>9} {f['before_per_s']:>16.0f} {f['after_per_s']:>8.0f} {f['rate_ratio']:>6.3f}"
            f" {f['before_bulk_s']:>14.3f} {f['after_bulk_s']:>8.3f} {f['bulk_ratio']:>6.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
