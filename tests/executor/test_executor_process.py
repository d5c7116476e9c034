"""``workq executor`` as a real process: killed or stopped mid-job, it loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.executor.conftest import wait_for

pytestmark = pytest.mark.e2e


def start_executor_process(
    pipeline, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """An executor whose log goes to a file (a pipe nobody reads would block it when full).

    ``env`` adds variables, such as a fault point (workq_core.faults).
    """
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WORKQ_")}, **(env or {})}
    env.update(pipeline.env)
    log = Path(pipeline.env["WORKQ_CORE_DATA_DIR"]) / f"executor-{time.monotonic_ns()}.log"
    command = [sys.executable, "-m", "workq_entrypoints", "executor", "--log-format", "json"]
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", "0", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    process.log_path = log  # type: ignore[attr-defined]
    return process


def drain_with_a_new_executor(pipeline, job_id: str) -> list[dict]:
    """Start a replacement executor process, wait until the job is final, stop it."""
    executor = start_executor_process(pipeline)
    try:
        return pipeline.wait_final(job_id, timeout_s=120)
    finally:
        executor.send_signal(signal.SIGTERM)
        executor.wait(30)


def completed(pipeline, job_id: str) -> int:
    return pipeline.statuses(job_id).get("completed", 0)


def claimed(pipeline, job_id: str) -> int:
    return pipeline.statuses(job_id).get("running", 0)


def test_sigkill_in_the_middle_of_a_bulk_job_loses_nothing(make_pipeline):
    # Given a bulk job being worked by an executor process (1 process, 4 threads)
    pipeline = make_pipeline()
    pipeline.start_relay()
    # (items of a few milliseconds: a batch of 32 is in progress for a while)
    job_id = pipeline.submit("Fibonacci", [{"iterations": 10_000}] * 600, max_attempts=5)
    first = start_executor_process(pipeline, "--processes", "1", "--threads", "4")
    try:
        # (killed mid-batch: more items claimed than its threads can be running)
        wait_for(lambda: completed(pipeline, job_id) >= 50 and claimed(pipeline, job_id) > 8, 60)
    finally:
        # When it is killed without warning
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    done_before = completed(pipeline, job_id)
    assert done_before < 600, "the kill came too late to prove anything"
    held = claimed(pipeline, job_id)
    assert held > 4, f"only {held} items claimed at the kill: not mid-batch"

    # Then a new executor finishes every item, each completed once
    items = drain_with_a_new_executor(pipeline, job_id)
    assert {i["status"] for i in items} == {"completed"}
    assert all(1 <= i["attempts"] <= 2 for i in items), str(
        sorted(i["attempts"] for i in items)[-12:]
    )
    # and of the items claimed at the kill, only those running then (one per thread)
    # were charged an extra attempt
    charged = sum(i["attempts"] == 2 for i in items)
    assert charged <= 4, f"{charged} of {held} claimed items charged an extra attempt"


def test_sigterm_drains_in_flight_items_and_exits_cleanly(make_pipeline):
    pipeline = make_pipeline()
    pipeline.start_relay()
    job_id = pipeline.submit("Fibonacci", [{"iterations": 3000}] * 400, max_attempts=5)
    executor = start_executor_process(pipeline, "--threads", "2")
    wait_for(lambda: completed(pipeline, job_id) >= 20, timeout_s=60)

    started = time.monotonic()
    executor.send_signal(signal.SIGTERM)
    assert executor.wait(30) == 0
    assert time.monotonic() - started < 30
    # Nothing is left claimed by the stopped executor
    assert pipeline.statuses(job_id).get("running", 0) == 0

    items = drain_with_a_new_executor(pipeline, job_id)
    assert {i["status"] for i in items} == {"completed"}
    assert all(i["attempts"] == 1 for i in items)


def test_several_worker_processes_share_the_work(make_pipeline):
    pipeline = make_pipeline()
    pipeline.start_relay()
    job_id = pipeline.submit("Fibonacci", [{"iterations": 100}] * 300)
    executor = start_executor_process(pipeline, "--processes", "2", "--threads", "2")
    try:
        items = pipeline.wait_final(job_id, timeout_s=120)
    finally:
        executor.send_signal(signal.SIGTERM)
        assert executor.wait(30) == 0, executor.log_path.read_text()[-2000:]
    assert {i["status"] for i in items} == {"completed"}
