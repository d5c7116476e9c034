"""Leases and timeouts under faults: a frozen or killed executor's item, a hung handler.

Every process runs with ``executor.lease_s`` 2 s (the harness's) and
``redeliver_after_s`` 120 s, so an item that starts again within seconds was
recovered through its lease, not through the idle-executor sweep.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.fault.harness import Stack, check, wait_until
from tests.support.processes import alive

pytestmark = pytest.mark.e2e

LEASE_S = 2.0  # WORKQ_EXECUTOR_LEASE_S in tests/fault/harness.py
NOT_THE_SWEEP = {"WORKQ_EXECUTOR_REDELIVER_AFTER_S": "120"}
TIMED = "FaultProbeTimed"


def start_rows(stack: Stack, job_id: str) -> list[tuple[int, int]]:
    """(attempt, pid) of each run's start, oldest first, from the plugin's ``start`` rows."""
    return stack.effects_sql(
        "SELECT attempt, pid FROM fault_effects WHERE job_id = %s AND kind = 'start' ORDER BY id",
        (job_id,),
    )


def starts(stack: Stack, job_id: str) -> dict[int, int]:
    """attempt -> pid of the process that last started it."""
    return dict(start_rows(stack, job_id))


def started_elsewhere(stack: Stack, job_id: str, holder: int) -> int | None:
    """The pid of the first run of the item by a process other than ``holder``."""
    return next((pid for _attempt, pid in start_rows(stack, job_id) if pid != holder), None)


def assert_history_ok(stack: Stack) -> None:
    report = check(stack)
    print(f"\nfault report: {report.describe()}")
    assert report.ok, report.describe()


def test_an_executor_frozen_or_killed_holding_a_heartbeating_item_loses_it_after_the_lease(
    make_stack,
):
    stack = make_stack(executors=2, **NOT_THE_SWEEP)
    for fault in (signal.SIGSTOP, signal.SIGKILL):
        # Given a long item that heartbeats, running on one executor
        job = stack.submit(1, sleep_ms=1500, beat=True)
        holder = wait_until(lambda j=job.job_id: starts(stack, j).get(1), 30, "attempt 1")
        (proc,) = [p for p in stack.executors if p.pid == holder]

        # When that executor freezes (SIGSTOP) or dies (SIGKILL)
        faulted = time.monotonic()
        if fault == signal.SIGSTOP:
            stack.pause(proc)
        else:
            stack.kill(proc)

        # Then the item starts again on another executor after about the lease (under the
        # same attempt number: a crash costs nothing to an item not yet recovered once)
        taker = wait_until(
            lambda j=job.job_id, h=holder: started_elsewhere(stack, j, h), 30, "a second run"
        )
        waited = time.monotonic() - faulted
        print(f"\n{signal.Signals(fault).name}: run 2 started {waited:.1f} s after the fault")
        assert taker != holder
        assert waited < LEASE_S + 8, "recovered by a slower path than the lease"
        if fault == signal.SIGSTOP:
            stack.resume(proc)  # thawed, it finds the item is no longer its own
        else:
            stack.start_executor()
        stack.drain(60)
    # And each item completed once: the thawed executor's late outcome was not committed
    assert stack.counts() == {"completed": 2}
    assert_history_ok(stack)


def test_a_hung_handler_is_timed_out_and_retried_once_and_its_processes_stop(make_stack):
    stack = make_stack(executors=1, **NOT_THE_SWEEP)
    # Given an item of a job type with a timeout, whose handler hangs on its first attempt
    job = stack.submit(1, job_type=TIMED, hang_on_attempt=1)

    # When it runs
    stack.drain(60)

    # Then it completed on its second attempt, not a third
    ((status, attempts),) = stack.sql(
        "SELECT status, attempts FROM items WHERE job_id = %s", (job.job_id,)
    )
    assert (status, attempts) == ("completed", 2)
    # and the worker process of the hung attempt was killed at the timeout
    hung = starts(stack, job.job_id)[1]
    assert hung != stack.executors[0].pid
    wait_until(lambda: not alive(hung), 5, "the hung worker process gone")

    # When an executor dies while one of its worker processes runs a hung attempt
    again = stack.submit(1, job_type=TIMED, hang_on_attempt=1)
    worker = wait_until(lambda: starts(stack, again.job_id).get(1), 30, "attempt 1")
    stack.kill(stack.executors[0])

    # Then the worker process stops too, and a new executor finishes the item
    wait_until(lambda: not alive(worker), 5, "the orphaned worker process gone")
    replacement = stack.start_executor()
    stack.drain(60)
    assert stack.counts() == {"completed": 2}
    assert_history_ok(stack)

    # And SIGTERM drains that executor: it exits 0 and takes its worker processes with it
    idle_worker = starts(stack, again.job_id)[2]
    replacement.popen.terminate()
    assert replacement.popen.wait(20) == 0, replacement.tail()
    assert not alive(idle_worker)
