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
  the same database over ``--seconds``, and the ratio of the two;
- the ceiling the edge sets: the same clients sending ``{ __typename }``
  (HTTP, token check, GraphQL, no resolver and no database), and its ratio
  to the floor: no submission through the API can beat it;
- beside them, Celery ``apply_async`` and Dramatiq ``send`` with publisher
  confirms from ``--clients`` threads on RabbitMQ (``--amqp-url``), jobs/s.

The concurrent figures are measured ``--repeat`` times, interleaved (Workq on
SQLite, on PostgreSQL, the floor, the peers, then again), and their medians
printed, the floor ratio as the median of each round's ratio. No executors or
workers run: this measures accepting work, not doing it. With no executor to
start items, the default publish window would stay full after the first 64
items, so the Workq stacks run with ``executor.publish_window`` unbounded:
the relay publishes each job whole, and "all published" keeps its meaning
(see docs/fairness.md for the window).
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
from bench import report
from bench.ordering import WHOLE_JOB, variant
from bench.systems.base import Job, RunContext
from bench.systems.celery_sys import CelerySystem
from bench.systems.dramatiq_sys import DramatiqSystem
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


# No resolver work, no database: what the HTTP edge, GraphQL and the clients cost alone.
EDGE_QUERY = "{ __typename }"


def concurrent(
    system: WorkqSystem, clients: int, seconds: float, document: str = SUBMIT
) -> dict[str, float]:
    """Requests/s and response times of ``clients`` keep-alive clients, one request each at once.

    ``document`` is the single-item submission, or :data:`EDGE_QUERY` for the
    ceiling the edge itself sets on this machine.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        with workq.Client(system.client.jobs_url, token=system.client.token, timeout_s=30) as mine:
            while time.perf_counter() < deadline:
                job = {"name": NAME, "data": {"kind": "noop", "id": uuid.uuid4().hex}}
                started = time.perf_counter()
                mine.execute(document, {"input": job} if document == SUBMIT else None)
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


def _context(timeout: float = 120, amqp_url: str = "") -> RunContext:
    run_id = uuid.uuid4().hex[:8]
    sink = Path(tempfile.mkdtemp(prefix="workq-submission-"))
    return RunContext(run_id, f"bench-{run_id}", sink, amqp_url, "", timeout=timeout)


def peer_sends(name: str, amqp_url: str, clients: int, seconds: float) -> float:
    """Jobs/s a peer accepts (publisher confirms on) from ``clients`` threads, no workers."""
    system = CelerySystem() if name == "celery" else DramatiqSystem()
    system.setup(_context(amqp_url=amqp_url))
    sent = [0] * clients
    deadline = time.perf_counter() + seconds

    def send(n: int) -> None:
        while time.perf_counter() < deadline:
            job = Job(f"s-{n}-{sent[n]}", "noop")
            if isinstance(system, CelerySystem):
                # No shared producer: Celery takes one from its pool per call, thread-safely.
                system.task.apply_async(
                    (job.kind, job.id), queue=system.ctx.queue, routing_key=system.ctx.queue
                )
            else:
                system.actor.send(job.kind, job.id)  # a channel per thread (Dramatiq's own)
            sent[n] += 1

    threads = [threading.Thread(target=send, args=(n,)) for n in range(clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        system.teardown()
    return sum(sent) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.submission", description=__doc__)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--peers", default="celery,dramatiq", help="comma list; '' for none")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    systems = [variant(WorkqSystem, WHOLE_JOB), variant(WorkqPostgresSystem, WHOLE_JOB)]
    peers = [p for p in args.peers.split(",") if p]
    for system in systems:
        system.setup(_context())
    try:
        bulks = {s.name: bulk(s, args.items, args.repeat) for s in systems}
        rounds = []
        for _ in range(args.repeat):
            one: dict[str, Any] = {
                s.name: concurrent(s, args.clients, args.seconds) for s in systems
            }
            one["edge"] = concurrent(systems[1], args.clients, args.seconds, EDGE_QUERY)
            one["floor"] = floor(systems[1], args.clients, args.seconds)
            for peer in peers:
                one[peer] = peer_sends(peer, args.amqp_url, args.clients, args.seconds)
            rounds.append(one)
    finally:
        for system in systems:
            system.teardown()
    _print(args, systems, peers, bulks, rounds)
    if args.out:
        report.write_results(args.out, args, {"bulk": bulks, "rounds": rounds})
    return 0


def _print(
    args: argparse.Namespace,
    systems: list[WorkqSystem],
    peers: list[str],
    bulks: dict[str, dict[str, float]],
    rounds: list[dict[str, Any]],
) -> None:
    median = statistics.median
    print(f"medians of {args.repeat} interleaved rounds, {args.clients} clients/threads")
    print(f"{'system':>9}  {args.items}-item response  all published  req/s  p50 ms  p99 ms")
    for s in systems:
        b = bulks[s.name]
        runs = [r[s.name] for r in rounds]
        print(
            f"{s.name:>9}  {b['response_s']:>18.3f}s  {b['published_s']:>12.3f}s  "
            f"{median(c['requests_per_s'] for c in runs):>5.0f}  "
            f"{median(c['p50_ms'] for c in runs):>6.1f}  {median(c['p99_ms'] for c in runs):>6.1f}"
        )
    floor_rate = median(r["floor"]["commits_per_s"] for r in rounds)
    ratio = median(r["workq-pg"]["requests_per_s"] / r["floor"]["commits_per_s"] for r in rounds)
    print(
        f"floor: {args.clients} threads INSERT+COMMIT of one JSON row on the same PostgreSQL "
        f"{floor_rate:,.0f}/s; workq-pg executeJob/floor {ratio:.2f} (goal 0.25)"
    )
    edge_rate = median(r["edge"]["requests_per_s"] for r in rounds)
    edge_ratio = median(r["edge"]["requests_per_s"] / r["floor"]["commits_per_s"] for r in rounds)
    print(
        f"edge ceiling: {args.clients} clients running {EDGE_QUERY} on the PostgreSQL stack "
        f"{edge_rate:,.0f}/s; edge/floor {edge_ratio:.2f}"
    )
    pg_rate = median(r["workq-pg"]["requests_per_s"] for r in rounds)
    for peer in peers:
        rate = median(r[peer] for r in rounds)
        print(
            f"{peer}: {args.clients} threads sending with publisher confirms {rate:,.0f}/s; "
            f"workq-pg/{peer} {pg_rate / rate:.2f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
