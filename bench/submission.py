"""Workq's submission path: ``python -m bench.submission [--items 10000] [--clients 8]``.

Two figures per database (SQLite, PostgreSQL), through the GraphQL API with
the token checked by the auth service over gRPC, as clients submit:

- one ``executeJob`` carrying ``--items`` items: time to the response, and
  to every item published (the outbox relay emptied its row), median of
  ``--repeat`` submissions;
- single-item ``executeJob`` requests per second from ``--clients``
  concurrent clients over ``--seconds``, with the p50/p99 response time;
- on PostgreSQL, beside it in the same run, the floor any durable submission
  pays: ``--clients`` threads each doing INSERT + COMMIT of one JSON row on
  the same database over ``--seconds``, and the ratio of the two.

No executors run: this measures accepting work, not doing it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import workq
from bench.systems.base import RunContext
from bench.systems.workq_plugin import NAME
from bench.systems.workq_sys import SUBMIT, WorkqPostgresSystem, WorkqSystem
from workq_core.db import connect
from workq_core.db.sql import rows


def bulk(system: WorkqSystem, items: int, repeat: int) -> dict[str, float]:
    db = connect(system.env["DATABASE_URL"])
    responses, published = [], []
    for _ in range(repeat):
        data = [{"kind": "noop", "id": uuid.uuid4().hex} for _ in range(items)]
        started = time.perf_counter()
        system.client.execute(SUBMIT, {"input": {"name": NAME, "data": data}})
        responses.append(time.perf_counter() - started)
        with db.connection_context():
            while rows(db, "SELECT COUNT(*) AS n FROM outbox")[0]["n"]:
                time.sleep(0.005)
        published.append(time.perf_counter() - started)
    db.close()
    return {"response_s": statistics.median(responses), "published_s": statistics.median(published)}


def concurrent(system: WorkqSystem, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        with workq.Client(system.client.jobs_url, token=system.client.token, timeout_s=30) as mine:
            while time.perf_counter() < deadline:
                job = {"name": NAME, "data": {"kind": "noop", "id": uuid.uuid4().hex}}
                started = time.perf_counter()
                mine.execute(SUBMIT, {"input": job})
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def floor(system: WorkqSystem, clients: int, seconds: float) -> dict[str, float]:
    """INSERT + COMMIT of one JSON row per transaction from ``clients`` threads, on psycopg2."""
    import psycopg2

    url = system.env["DATABASE_URL"]
    setup = psycopg2.connect(url)
    with setup, setup.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, data TEXT)")
    setup.close()
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def insert(n: int) -> None:
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            while time.perf_counter() < deadline:
                cur.execute(
                    "INSERT INTO bench_floor (data) VALUES (%s)",
                    (json.dumps({"kind": "noop", "id": uuid.uuid4().hex}),),
                )
                conn.commit()
                done[n] += 1
        conn.close()

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"commits_per_s": sum(done) / seconds}


def measure(system: WorkqSystem, args: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    sink = Path(tempfile.mkdtemp(prefix="workq-submission-"))
    ctx = RunContext(run_id, f"bench-{run_id}", sink, "", "", timeout=120)
    system.setup(ctx)
    try:
        return {
            "system": system.name,
            "bulk": bulk(system, args.items, args.repeat),
            "concurrent": concurrent(system, args.clients, args.seconds),
            **({"floor": floor(system, args.clients, args.seconds)} if system.postgres else {}),
        }
    finally:
        system.teardown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.submission", description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results = [measure(WorkqSystem(), args), measure(WorkqPostgresSystem(), args)]
    print(
        f"{'system':>9}  {args.items}-item response  all published  "
        f"{args.clients}-client req/s  p50 ms  p99 ms"
    )
    for r in results:
        b, c = r["bulk"], r["concurrent"]
        print(
            f"{r['system']:>9}  {b['response_s']:>18.3f}s  {b['published_s']:>12.3f}s  "
            f"{c['requests_per_s']:>16.0f}  {c['p50_ms']:>6.1f}  {c['p99_ms']:>6.1f}"
        )
        if "floor" in r:
            rate = r["floor"]["commits_per_s"]
            print(
                f"{'':>9}  floor: {args.clients} threads INSERT+COMMIT of one JSON row "
                f"{rate:,.0f}/s; executeJob/floor {c['requests_per_s'] / rate:.2f}"
            )
    if args.out:
        args.out.write_text(
            json.dumps({"args": vars(args) | {"out": str(args.out)}, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
