"""A job type with ``timeout_s`` in the test kit: each way an attempt in a worker process ends.

The job type is defined at module level: it reaches the executor's worker
processes by pickle, so its class must be importable by module path.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from tests.support.processes import alive
from workq_core import JobContext, PermanentFailure, PluginError, RetryLater, RetryPolicy, hookimpl

TIMEOUT_S = 0.5


class NotPicklable(Exception):
    """An exception that cannot cross a process boundary by pickle (it holds a lock)."""

    def __init__(self, left: int, right: int) -> None:
        super().__init__(f"{left} of {right}")
        self.lock = threading.Lock()


class Timed:
    """Declares a timeout; each ``mode`` ends an attempt in a different way."""

    name = "Timed"
    description = "test: one way to end an attempt per mode"
    input_schema = {"type": "object", "required": ["mode", "dir"]}
    retry = RetryPolicy(max_attempts=2, base_delay_ms=10, max_delay_ms=10)
    timeout_s = TIMEOUT_S

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        mode = data["mode"]
        Path(data["dir"], f"{ctx.attempt}.pid").write_text(str(os.getpid()))
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
        return {"attempt": ctx.attempt, "cancelled": ctx.cancelled}


class TimedPlugin:
    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(Timed())


def test_every_end_of_an_attempt_in_a_worker_process_is_recorded_as_in_a_thread(
    make_workq_harness, tmp_path
):
    # Given items of a job type with a timeout, each ending its attempts another way
    harness = make_workq_harness(plugins={"timed": TimedPlugin()}, entry_points=False)
    modes = ["ok", "hang-once", "hang", "exit-once", "retry-later", "permanent"]
    modes += ["unpicklable", "nan"]
    dirs = {mode: tmp_path / mode for mode in modes}
    for directory in dirs.values():
        directory.mkdir()

    # When they run
    run = harness.run("Timed", [{"mode": m, "dir": str(dirs[m])} for m in modes], timeout_s=60)

    # Then each is recorded as a handler in a thread would be, the timeout as a failure
    items = dict(zip(modes, run.items, strict=True))
    outcome = {m: (i.status, i.attempts, i.error_type) for m, i in items.items()}
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
    assert items["ok"].result == {"attempt": 1, "cancelled": False}
    assert "timeout_s of 0.5 s" in (items["hang"].last_error or "")
    assert items["unpicklable"].last_error == "NotPicklable: 1 of 2"
    assert items["retry-later"].last_error == "RetryLater: upstream said later"
    # and the processes that ran the timed-out attempts were killed, not left working
    hung = [int((dirs[m] / "1.pid").read_text()) for m in ("hang-once", "hang")]
    assert os.getpid() not in hung
    assert not any(alive(pid) for pid in hung)


def test_a_worker_process_killed_between_attempts_is_replaced_without_failing_one(
    make_workq_harness, tmp_path
):
    # Given a worker process that ran an attempt and now waits for the next, then is killed
    harness = make_workq_harness(
        plugins={"timed": TimedPlugin()}, entry_points=False, settings={"executor.threads": 1}
    )
    harness.run("Timed", {"mode": "ok", "dir": str(tmp_path)})
    first = int((tmp_path / "1.pid").read_text())
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(first))

    # When the next item runs, a fresh process runs it, on its first attempt
    (item,) = harness.run("Timed", {"mode": "ok", "dir": str(tmp_path)}).items
    assert (item.status, item.attempts) == ("completed", 1)
    assert int((tmp_path / "1.pid").read_text()) != first


def test_a_job_type_with_a_timeout_that_cannot_pickle_fails_at_start_naming_it(
    make_workq_harness,
):
    class Local(Timed):  # defined in a function: not importable by module path
        name = "Local"

    class LocalPlugin:
        @hookimpl
        def workq_register_job_types(self, registry):
            registry.add(Local())

    with pytest.raises(PluginError, match=r"job type 'Local' declares timeout_s, .* must pickle"):
        make_workq_harness(plugins={"local": LocalPlugin()}, entry_points=False)
