"""Timeouts, heartbeats and cancellation through the real executor, broker and database.

Job types that declare ``timeout_s`` run in worker processes: they are
defined at module level here, since that is how they reach those processes
(by pickle, importable by module path).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from workq_core import JobContext, PermanentFailure, RetryLater, RetryPolicy, hookimpl
from workq_core.jobs.commands import cancel_job

TIMEOUT_S = 0.5


class NotPicklable(Exception):
    """An exception that cannot cross a process boundary by pickle (it holds a lock)."""

    def __init__(self, left: int, right: int) -> None:
        super().__init__(f"{left} of {right}")
        self.lock = threading.Lock()


def note(data: dict[str, Any], ctx: JobContext, what: str) -> None:
    """Leave ``<attempt>.<what>`` holding this process's pid in the item's directory."""
    Path(data["dir"], f"{ctx.attempt}.{what}").write_text(str(os.getpid()))


class Timed:
    """Declares a timeout; each ``mode`` ends an attempt in a different way."""

    name = "Timed"
    description = "test: one way to end an attempt per mode"
    input_schema = {"type": "object", "required": ["mode"]}
    retry = RetryPolicy(max_attempts=2, base_delay_ms=10, max_delay_ms=10)
    timeout_s = TIMEOUT_S

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        mode = data["mode"]
        if "dir" in data:
            note(data, ctx, "start")
        if mode == "hang" or (mode == "hang-once" and ctx.attempt == 1):
            time.sleep(60)
        if mode == "exit-once" and ctx.attempt == 1:
            os._exit(3)
        if mode == "retry-later":
            raise RetryLater(10, "upstream said later")
        if mode == "permanent":
            raise PermanentFailure("no such record")
        if mode == "unpicklable":
            raise NotPicklable(1, 2)
        if mode == "nan":
            return float("nan")
        return {"pid": os.getpid(), "attempt": ctx.attempt}


class Cancellable:
    """Works (heartbeating) until its job is cancelled, then returns; no timeout: in a thread."""

    name = "Cancellable"
    description = "test: stops when its job is cancelled"
    input_schema = {"type": "object", "required": ["dir"]}
    retry = None

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        note(data, ctx, "start")
        deadline = time.monotonic() + 30
        while not ctx.cancelled and time.monotonic() < deadline:
            ctx.heartbeat()
            time.sleep(0.02)
        return {"stopped": ctx.cancelled}


class CancellableInProcess(Cancellable):
    name = "CancellableInProcess"
    timeout_s = 60


class Stalling:
    """Heartbeats once, then stops heartbeating (stuck) on its first attempt only."""

    name = "Stalling"
    description = "test: a handler that gets stuck after declaring heartbeats"
    input_schema = {"type": "object"}
    retry = None

    def __init__(self) -> None:
        self.unstick = threading.Event()
        self.runs: list[int] = []

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        self.runs.append(ctx.attempt)
        ctx.heartbeat()
        if ctx.attempt == 1:
            self.unstick.wait(30)
        return {"attempt": ctx.attempt}


class Jobs:
    def __init__(self) -> None:
        self.stalling = Stalling()

    @hookimpl
    def workq_register_job_types(self, registry):
        for job in (Timed(), Cancellable(), CancellableInProcess(), self.stalling):
            registry.add(job)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def broker(lite_broker):
    """One broker kind: these tests are about the executor; test_delivery_semantics covers both."""
    return lite_broker


@pytest.fixture
def jobs() -> Jobs:
    return Jobs()


@pytest.fixture
def started(make_pipeline, jobs):
    pipeline = make_pipeline(extra_plugins=[("timeouts", jobs)], WORKQ_EXECUTOR_LEASE_S="1")
    pipeline.start_relay()
    pipeline.start_executor()
    yield pipeline
    jobs.stalling.unstick.set()


def test_every_end_of_an_attempt_in_a_worker_process_is_recorded_as_in_a_thread(started, tmp_path):
    # Given items of a job type with a timeout, each ending its attempts another way
    modes = ["ok", "hang-once", "hang", "exit-once", "retry-later", "permanent"]
    modes += ["unpicklable", "nan"]
    dirs = {mode: tmp_path / mode for mode in modes}
    for directory in dirs.values():
        directory.mkdir()
    data = [{"mode": mode, "dir": str(dirs[mode])} for mode in modes]

    # When they run
    job_id = started.submit("Timed", data, max_attempts=2)
    items = dict(zip(modes, started.wait_final(job_id, timeout_s=60), strict=True))

    # Then each is recorded as a handler in a thread would be, the timeout as a failure
    outcome = {m: (i["status"], i["attempts"], i["error_type"]) for m, i in items.items()}
    assert outcome == {
        "ok": ("completed", 1, None),
        "hang-once": ("completed", 2, None),  # timed out once, retried once, not twice
        "hang": ("dead", 2, "AttemptTimedOut"),
        "exit-once": ("completed", 2, None),  # the lost process failed attempt 1 only
        "retry-later": ("dead", 2, "RetryLater"),
        "permanent": ("dead", 1, "PermanentFailure"),
        "unpicklable": ("dead", 2, "NotPicklable"),
        "nan": ("dead", 2, "ValueError"),
    }
    assert "timeout_s of 0.5 s" in items["hang"]["last_error"]
    assert items["unpicklable"]["last_error"] == "NotPicklable: 1 of 2"
    assert items["retry-later"]["last_error"] == "RetryLater: upstream said later"
    # and the process that ran a timed-out attempt was killed, not left working on it
    hung_pid = int((dirs["hang-once"] / "1.start").read_text())
    assert hung_pid != os.getpid()
    wait_for(lambda: not alive(hung_pid), timeout_s=5)


@pytest.mark.parametrize("job_type", ["Cancellable", "CancellableInProcess"])
def test_a_handler_that_sees_its_job_cancelled_stops_and_is_recorded_cancelled(
    started, tmp_path, job_type
):
    # Given an item whose handler works until its job is cancelled
    job_id = started.submit(job_type, [{"dir": str(tmp_path)}])
    wait_for(lambda: (tmp_path / "1.start").exists(), timeout_s=30)

    # When the job is cancelled
    with started.db.connection_context():
        cancel_job(started.db, started.user_id, job_id)

    # Then the handler learns it, stops, and the item is cancelled, not completed
    (item,) = started.wait_final(job_id, timeout_s=30)
    assert (item["status"], item["attempts"], item["result"]) == ("cancelled", 1, None)
    assert item["finished_at"] is not None and item["lease_expires_at"] is None


def test_an_item_that_stops_heartbeating_runs_again_after_its_lease(started, jobs):
    # Given a handler that declared heartbeats (one call) and then got stuck
    job_id = started.submit("Stalling", [{}], max_attempts=3)
    wait_for(lambda: jobs.stalling.runs == [1])

    # Then its executor stops renewing the lease, and once it runs out the item runs again
    (item,) = started.wait_final(job_id, timeout_s=30)
    assert (item["status"], item["attempts"]) == ("completed", 2)
    assert jobs.stalling.runs == [1, 2]
