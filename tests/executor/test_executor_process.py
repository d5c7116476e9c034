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
from tests.support.brokers import GENUINE, LITE
from workq_core.faults import IN_RECOVERED_ATTEMPT

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


def sigkill_when(pipeline, condition) -> None:
    """Start an executor process (1 process, 4 threads); SIGKILL it once ``condition()`` holds."""
    executor = start_executor_process(pipeline, "--processes", "1", "--threads", "4")
    try:
        wait_for(condition, 60, every_s=0.01)
    finally:
        executor.send_signal(signal.SIGKILL)
        executor.wait(10)


def bulk_job_killed_mid_batch(pipeline) -> str:
    """A bulk job whose first executor was SIGKILLed with more items claimed than it had threads.

    Items take a few milliseconds, so a batch of 32 is in progress for a while.
    """
    pipeline.start_relay()
    job_id = pipeline.submit("Fibonacci", [{"iterations": 10_000}] * 600, max_attempts=5)
    sigkill_when(
        pipeline, lambda: completed(pipeline, job_id) >= 50 and claimed(pipeline, job_id) > 8
    )
    return job_id


def test_sigkill_in_the_middle_of_a_bulk_job_loses_nothing(make_pipeline):
    # Given a bulk job being worked by an executor process (1 process, 4 threads)
    # When it is killed without warning, mid-batch
    pipeline = make_pipeline()
    job_id = bulk_job_killed_mid_batch(pipeline)
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


@pytest.mark.parametrize(
    ("broker", "database_url"), [(LITE, "sqlite"), (GENUINE, "postgres")], indirect=True
)
def test_a_second_crash_charges_only_the_recovered_items_it_was_running(make_pipeline):
    # Given a bulk job whose first executor was SIGKILLed mid-batch (that crash charges none)
    pipeline = make_pipeline()
    job_id = bulk_job_killed_mid_batch(pipeline)
    assert {i["attempts"] for i in pipeline.items(job_id)} <= {0, 1}

    # When the next executor dies as one of its threads starts an item recovered from the first
    point = {"WORKQ_FAULT_POINT": IN_RECOVERED_ATTEMPT}
    second = start_executor_process(pipeline, "--processes", "1", "--threads", "4", env=point)
    assert second.wait(60) == 137, "no recovered item was run"

    # Then once a third drains the job, that item and at most one per other thread
    # have a second attempt
    items = drain_with_a_new_executor(pipeline, job_id)
    assert {i["status"] for i in items} == {"completed"}
    assert all(1 <= i["attempts"] <= 2 for i in items)
    assert 1 <= sum(i["attempts"] == 2 for i in items) <= 4


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
