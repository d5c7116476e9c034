"""Soak: many jobs from several users through two executor processes SIGKILLed now and then.

The full form (``-m "heavy and soak"``: 1,000,000 items, or ``WORKQ_SOAK_ITEMS``;
a kill every 3 minutes) is what docs/reliability.md reports; the short form
keeps the soak's own code working in the default run. A feeder keeps a bounded backlog waiting, so
the run measures a steady state, not one big drain; retention deletes
finished jobs as it goes, so the checks read the FaultProbe's
``fault_effects`` table (which retention does not touch): every accepted
item ran to an ``ok`` effect, and no healthy process ran one twice. A
sampler records, every few seconds, each process's resident memory, the
completions so far and the size of the tables; ``WORKQ_SOAK_OUT`` names a
JSON file to keep them in (``python -m bench.chart --soak FILE PNG`` draws
them). Memory and throughput are reported, not asserted: they are
measurements, and this machine is shared.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import workq
from tests.fault.harness import JOB_TYPE, Proc, Stack, Submission, wait_until

pytestmark = pytest.mark.e2e

SHORT = {
    "items": 6_000, "job_size": 500, "users": 3, "backlog": 2_000,
    "kill_every_s": 2.0, "sample_s": 0.5, "max_age": "3s", "drain_s": 240,
}  # fmt: skip
FULL = {
    "items": int(os.environ.get("WORKQ_SOAK_ITEMS", "1000000")),
    "job_size": 1_000, "users": 5, "backlog": 40_000,
    "kill_every_s": 180.0, "sample_s": 5.0, "max_age": "60s", "drain_s": 3_600,
}  # fmt: skip
SCALES = [
    pytest.param(SHORT, id="short"),
    pytest.param(
        FULL, id="full", marks=[pytest.mark.heavy, pytest.mark.soak, pytest.mark.timeout(7200)]
    ),
]
TABLES = ("jobs", "items", "item_events", "outbox")


@dataclass
class Samples:
    """What the sampler saw: one row per tick."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (the executor's worker processes), KiB."""
    total = 0
    for each in [pid, *children(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def ok_effects(stack: Stack) -> int:
    """Completed runs, re-executions included: cheap, for the backlog and the samples."""
    return int(stack.effects_sql("SELECT count(*) FROM fault_effects WHERE kind = 'ok'")[0][0])


def items_done(stack: Stack) -> int:
    """Items with at least one completed run."""
    found = stack.effects_sql(
        "SELECT count(*) FROM (SELECT DISTINCT job_id, idx FROM fault_effects WHERE kind = 'ok') d"
    )
    return int(found[0][0])


class Soak:
    """The feeder, the killer and the sampler around one stack."""

    def __init__(self, stack: Stack, scale: dict[str, Any]) -> None:
        self.stack, self.scale = stack, scale
        self.samples = Samples()
        self.stop = threading.Event()
        self.accepted = 0
        self.kills = 0
        self.roles: dict[int, str] = {}  # pid -> "executor-1" etc., stable across restarts
        self.tokens = [stack.token, *[self._new_user() for _ in range(scale["users"] - 1)]]

    def _new_user(self) -> str:
        email = f"soak-{random.getrandbits(40):x}@example.com"
        with workq.Client(self.stack.jobs_url, self.stack.auth_url) as client:
            client.create_user(email, "S3cret!pass-soak")
            return client.login(email, "S3cret!pass-soak")

    def feed(self) -> None:
        """Submit jobs round-robin over the users while the backlog has room."""
        size, n = self.scale["job_size"], 0
        clients = [workq.Client(self.stack.jobs_url, token=t, timeout_s=60) for t in self.tokens]
        try:
            while self.accepted < self.scale["items"] and not self.stop.is_set():
                if self.accepted - ok_effects(self.stack) > self.scale["backlog"]:
                    time.sleep(0.2)
                    continue
                items = [{"key": f"{n}-{i}"} for i in range(size)]
                job = clients[n % len(clients)].submit(JOB_TYPE, items)
                self.stack.submissions.append(Submission(job.id, size, frozenset()))
                self.accepted += size
                n += 1
        finally:
            for client in clients:
                client.close()

    def kill_now_and_then(self) -> None:
        while not self.stop.wait(self.scale["kill_every_s"]):
            live = self.stack.live_executors()
            if not live:
                continue
            victim = random.choice(live)
            role = self.roles.pop(victim.pid, "executor")
            self.stack.kill(victim)
            self.kills += 1
            self.roles[self.stack.start_executor().pid] = role

    def sample(self, started: float) -> None:
        while not self.stop.wait(self.scale["sample_s"]):
            procs: list[tuple[str, Proc]] = [("auth", self.stack.auth), ("jobs", self.stack.jobs)]
            procs += [(self.roles.get(p.pid, "executor"), p) for p in self.stack.live_executors()]
            sizes = {t: int(self.stack.sql(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}
            self.samples.add(
                t=round(time.monotonic() - started, 1),
                done=ok_effects(self.stack),
                accepted=self.accepted,
                rss_kib={role: rss_kib(p.pid) for role, p in procs if p is not None},
                tables=sizes,
            )


def check_effects(stack: Stack) -> dict[str, int]:
    """Nothing lost, nothing run twice by a healthy process: from the side effects alone."""
    oks: Counter[tuple[str, int]] = Counter()
    healthy: Counter[tuple[str, int]] = Counter()
    for job_id, idx, pid in stack.effects_sql(
        "SELECT job_id, idx, pid FROM fault_effects WHERE kind = 'ok'"
    ):
        oks[(job_id, idx)] += 1
        if pid not in stack.faulted_pids:
            healthy[(job_id, idx)] += 1
    expected = {(s.job_id, i) for s in stack.submissions for i in range(s.size)}
    lost = expected - set(oks)
    twice = [key for key, n in healthy.items() if n > 1]
    unexpected = set(oks) - expected
    assert not lost, f"{len(lost)} accepted items never ran to completion: {sorted(lost)[:10]}"
    assert not twice, f"{len(twice)} items completed twice by healthy processes: {twice[:10]}"
    assert not unexpected, f"effects of items nobody submitted: {sorted(unexpected)[:10]}"
    return {"items": len(expected), "re_executed": sum(oks.values()) - len(oks)}


@pytest.mark.postgres_only
@pytest.mark.parametrize("scale", SCALES)
def test_soak_many_jobs_two_executors_killed_now_and_then(make_stack, scale):
    # Given two executor processes, several users, and retention that keeps tables small
    stack = make_stack(
        executors=2,
        WORKQ_RETENTION_MAX_AGE=scale["max_age"],
        WORKQ_RETENTION_INTERVAL_S="2",
        WORKQ_RETENTION_BATCH_SIZE="1000",
    )
    soak = Soak(stack, scale)
    for n, proc in enumerate(stack.executors, 1):
        soak.roles[proc.pid] = f"executor-{n}"
    started = time.monotonic()
    threads = [
        threading.Thread(target=soak.sample, args=(started,), daemon=True),
        threading.Thread(target=soak.kill_now_and_then, daemon=True),
    ]
    for thread in threads:
        thread.start()

    # When the feeder submits every item while executors are killed now and then
    try:
        soak.feed()
        wait_until(lambda: items_done(stack) >= soak.accepted, scale["drain_s"], "soak drain", 1)
        drained_s = time.monotonic() - started
    finally:
        soak.stop.set()
        for thread in threads:
            thread.join(30)

    # Then nothing was lost or completed twice, and retention kept the tables bounded
    found = check_effects(stack)
    wait_until(
        lambda: int(stack.sql("SELECT count(*) FROM items")[0][0]) <= 2 * scale["backlog"],
        60,
        "retention caught up",
    )
    summary = {
        **found,
        "kills": soak.kills,
        "drain_s": round(drained_s, 1),
        "items_per_s": round(found["items"] / drained_s),
        "largest_items_table": max(s["tables"]["items"] for s in soak.samples.rows),
    }
    print(f"\nsoak: {json.dumps(summary)}")
    out = os.environ.get("WORKQ_SOAK_OUT")
    if out:
        Path(out).write_text(json.dumps({"summary": summary, "samples": soak.samples.rows}))
    assert soak.kills >= 1 and soak.samples.rows
