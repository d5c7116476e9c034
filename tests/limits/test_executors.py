"""Limits across real executor processes: never exceeded, not even when one is SIGKILLed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.executor.conftest import wait_for
from tests.limits import limit_probe
from tests.support.brokers import GENUINE, LITE
from workq_core.db.sql import rows
from workq_core.limits import Limit
from workq_core.limits.store import set_override

pytestmark = pytest.mark.e2e

# Each broker and each database once per test, not every pair: these start processes.
PAIRS = pytest.mark.parametrize(
    ("broker", "database_url"), [(LITE, "sqlite"), (GENUINE, "postgres")], indirect=True
)
CROSSED = pytest.mark.parametrize(
    ("broker", "database_url"), [(LITE, "postgres"), (GENUINE, "sqlite")], indirect=True
)

ROOT = Path(__file__).resolve().parents[2]
PROBE_PATH = Path(__file__).parent / "probe_path"


class ProbePlugin:
    workq_register_job_types = staticmethod(limit_probe.workq_register_job_types)


def start_executor(pipeline, probe_dir: Path, threads: int) -> subprocess.Popen[bytes]:
    """``workq executor`` with the LimitProbe distribution on its path, logging to a file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKQ_")}
    env.update(pipeline.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(PROBE_PATH)])
    env["LIMIT_PROBE_DIR"] = str(probe_dir)
    log = probe_dir.parent / f"executor-{time.monotonic_ns()}.txt"
    with open(log, "wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "workq_entrypoints", "executor", "--threads", str(threads)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@pytest.fixture
def probe_dir(tmp_path) -> Path:
    directory = tmp_path / "probe"
    directory.mkdir()
    return directory


def live_slots(pipeline) -> int:
    with pipeline.db.connection_context():
        return int(rows(pipeline.db, "SELECT COUNT(*) AS n FROM limit_slots")[0]["n"])


@PAIRS
def test_two_executor_processes_never_run_more_of_a_key_than_its_limit(make_pipeline, probe_dir):
    # Given a limit of 2 running items per customer, set by an operator, and
    # two executor processes of 3 threads each (batches of one item, so every
    # claimed item is running)
    pipeline = make_pipeline([("limitprobe", ProbePlugin())], WORKQ_EXECUTOR_BATCH_SIZE="1")
    with pipeline.db.connection_context():
        set_override(pipeline.db, "LimitProbe", [Limit(key="/customer", concurrency=2)], None)
    pipeline.start_relay()
    data = [{"customer": c, "sleep_ms": 60} for c in ("acme", "zeta") for _ in range(12)]
    job_id = pipeline.submit("LimitProbe", data)

    # When both drain it
    executors = [start_executor(pipeline, probe_dir, threads=3) for _ in range(2)]
    try:
        items = pipeline.wait_final(job_id, timeout_s=90)
    finally:
        for executor in executors:
            stop(executor)

    # Then each item ran once, no customer ever had more than 2 running, and
    # the limit was used (it is the limit that held them back, not luck)
    assert {i["status"] for i in items} == {"completed"}
    assert all(i["attempts"] == 1 for i in items)
    peaks = limit_probe.most_at_once(limit_probe.attempts(probe_dir))
    assert peaks == {"acme": 2, "zeta": 2}
    assert live_slots(pipeline) == 0


@CROSSED
def test_an_executor_killed_holding_slots_exceeds_no_limit_and_leaks_none(make_pipeline, probe_dir):
    # Given a job type limit of 2 per customer and an executor running its items
    pipeline = make_pipeline([("limitprobe", ProbePlugin())], WORKQ_EXECUTOR_BATCH_SIZE="1")
    with pipeline.db.connection_context():
        set_override(pipeline.db, "LimitProbe", [Limit(key="/customer", concurrency=2)], None)
    pipeline.start_relay()
    job_id = pipeline.submit("LimitProbe", [{"customer": "acme", "sleep_ms": 400}] * 6)
    first = start_executor(pipeline, probe_dir, threads=3)
    second = None
    try:
        wait_for(lambda: limit_probe.running(probe_dir) == 2, timeout_s=60, every_s=0.01)
        # When it is SIGKILLed while holding both slots, and a new one starts
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = {first.pid: int(time.time() * 1000)}
        second = start_executor(pipeline, probe_dir, threads=3)
        items = pipeline.wait_final(job_id, timeout_s=90)
    finally:
        stop(first)
        if second is not None:
            stop(second)

    # Then everything completed (the dead executor's slots came back when its
    # leases ended) and at no moment did more than 2 attempts run, counting
    # the killed ones as running until the kill
    assert {i["status"] for i in items} == {"completed"}
    spans = limit_probe.attempts(probe_dir, killed_at)
    assert limit_probe.most_at_once(spans) == {"acme": 2}
    assert len(spans) > 6  # the killed attempts ran again
    assert live_slots(pipeline) == 0
