"""Fault scenario: a schedule through replica kills and a crash mid-fire (docs/schedules.md).

Two jobs services run the scheduler on one database. The lease holder is
SIGKILLed (its lease is not released; the survivor takes over when it runs
out), then the survivor too, and a replacement that dies inside its first
firing transaction (``in_schedule_fire``); a healthy one then catches up.
Every run of the grid must be submitted exactly once, and every item of
every run completed exactly once, per the history checker.
"""

from __future__ import annotations

import signal

import pytest

import workq
from tests.fault.harness import SCHEDULER_LEASE_S, Stack, Submission, wait_until
from tests.fault.test_scenarios import assert_history_ok

pytestmark = pytest.mark.e2e

SHORT = {"holder_kills": 1, "items": 3, "executors": 1, "runs": 1}
HEAVY = {"holder_kills": 4, "items": 20, "executors": 2, "runs": 2}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]


def every_second(stack: Stack, items: int) -> workq.Schedule:
    """A schedule of ``items`` FaultProbe items every second, catching up every missed run."""
    data = [{"key": str(n)} for n in range(items)]
    with workq.Client(stack.jobs_url, token=stack.token) as client:
        return client.create_schedule(
            "probe", "FaultProbe", data, interval_s=1, missed_runs="RUN_ALL",
            max_catch_up=100, overlap="ALLOW",
        )  # fmt: skip


def run_times(stack: Stack, schedule_id: str) -> list[int]:
    keys = stack.sql(
        "SELECT idempotency_key FROM jobs WHERE idempotency_key LIKE %s",
        (f"schedule:{schedule_id}:%",),
    )
    return sorted(int(key.rsplit(":", 1)[1]) for (key,) in keys)


def more_runs(stack: Stack, schedule_id: str, count: int) -> None:
    target = len(run_times(stack, schedule_id)) + count
    wait_until(
        lambda: len(run_times(stack, schedule_id)) >= target,
        3 * SCHEDULER_LEASE_S + count + 10,
        f"{count} more runs",
    )


def pause_and_check_the_grid(stack: Stack, schedule_id: str, items: int) -> list[int]:
    """Pause; every run of the grid submitted once (none missing, none twice); their jobs
    join the history. The run times, in ms."""
    with workq.Client(stack.jobs_url, token=stack.token) as client:
        client.pause_schedule(schedule_id)
        state = client.schedule(schedule_id)
    times = run_times(stack, schedule_id)
    assert times == list(range(times[0], times[-1] + 1, 1000)), "a run missing or doubled"
    assert state.runs == len(times) and state.skipped_runs == 0
    for (job_id,) in stack.sql(
        "SELECT id FROM jobs WHERE idempotency_key LIKE %s", (f"schedule:{schedule_id}:%",)
    ):
        stack.submissions.append(Submission(job_id, items, frozenset()))
    return times


def kill_holder(stack: Stack) -> None:
    """SIGKILL whichever jobs service holds the scheduler lease."""
    pid = wait_until(stack.scheduler_pid, 10, "a lease holder")
    [holder] = [p for p in (stack.jobs, *stack.replicas) if p and p.pid == pid]
    stack.kill(holder, signal.SIGKILL)


@pytest.mark.parametrize("scale", SCALES)
def test_a_schedule_fires_each_run_once_through_kills_and_a_crash_mid_fire(make_stack, scale):
    # Given two jobs services and a schedule every second that catches up every missed run
    stack = make_stack(executors=scale["executors"])
    stack.start_jobs_replica()
    schedule = every_second(stack, scale["items"])
    more_runs(stack, schedule.id, scale["runs"])

    # When the lease holder is killed (the survivor takes over once the lease runs out)
    for _ in range(scale["holder_kills"]):
        kill_holder(stack)
        stack.start_jobs_replica()
        more_runs(stack, schedule.id, scale["runs"])

    # And then every scheduler dies, and the first to come back dies inside its firing transaction
    for proc in [p for p in (stack.jobs, *stack.replicas) if p and p.alive()]:
        stack.kill(proc, signal.SIGKILL)
    fired = len(run_times(stack, schedule.id))
    crashing = stack.start_jobs_replica(wait=False, WORKQ_FAULT_POINT="in_schedule_fire")
    wait_until(lambda: not crashing.alive(), 30, "the crash mid-fire")
    assert crashing.popen.returncode == 137, crashing.tail()
    assert len(run_times(stack, schedule.id)) == fired  # its transaction left nothing

    # Then a healthy jobs service catches up every missed run, and the runs go on
    stack.start_jobs()
    more_runs(stack, schedule.id, scale["runs"])
    times = pause_and_check_the_grid(stack, schedule.id, scale["items"])

    # And each run's job ran every item exactly once
    stack.drain(120)
    print(f"\nschedule runs: {len(times)}, killed pids: {sorted(stack.faulted_pids)}")
    assert_history_ok(stack)
