"""Heartbeats, lease renewal and cancellation through the real executor, broker and database.

A job type that declares ``timeout_s`` runs in worker processes, which it
reaches by pickle: the job types here are defined at module level, importable
by module path. How attempts end in a worker process is tested through the
plugin test kit (tests/testing/test_timeouts.py).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from workq_core import JobContext, hookimpl
from workq_core.jobs.commands import cancel_job


def note(data: dict[str, Any], ctx: JobContext, what: str) -> None:
    """Leave ``<attempt>.<what>`` holding this process's pid in the item's directory."""
    Path(data["dir"], f"{ctx.attempt}.{what}").write_text(str(os.getpid()))


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
        for job in (Cancellable(), CancellableInProcess(), self.stalling):
            registry.add(job)


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


def test_a_handler_that_sees_its_job_cancelled_stops_and_is_recorded_cancelled(started, tmp_path):
    # Given items whose handlers work until their job is cancelled, in a thread and in a process
    dirs = {name: tmp_path / name for name in ("Cancellable", "CancellableInProcess")}
    jobs = {}
    for job_type, directory in dirs.items():
        directory.mkdir()
        jobs[job_type] = started.submit(job_type, [{"dir": str(directory)}])
    for directory in dirs.values():
        wait_for(lambda d=directory: (d / "1.start").exists(), timeout_s=30)

    # When the jobs are cancelled
    with started.db.connection_context():
        for job_id in jobs.values():
            cancel_job(started.db, started.user_id, job_id)

    # Then each handler learns it, stops, and its item is cancelled, not completed
    for job_id in jobs.values():
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
