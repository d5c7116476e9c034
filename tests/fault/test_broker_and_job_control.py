"""The broker killed while job control waits in the database: a schedule firing, delayed items.

A schedule's runs and a delayed job's items are held in the database until
due (docs/schedules.md, docs/delays.md); the broker only carries them
once published. Killing the broker while they wait must not lose, double
or advance any of them: runs due during the outage are submitted once each
and published after the restart, and no delayed item starts before its
``runAt``.
"""

from __future__ import annotations

import time

import pytest

from tests.fault.harness import Stack
from tests.fault.test_scenarios import assert_history_ok, runs_before_run_at
from tests.fault.test_schedules import (
    every_second,
    more_runs,
    pause_and_check_the_grid,
    run_times,
)

pytestmark = pytest.mark.e2e

SHORT = {"broker_kills": 1, "items": 3, "delayed": 100, "drain_s": 120}
HEAVY = {"broker_kills": 3, "items": 20, "delayed": 1000, "drain_s": 300}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]
OUTAGE_S = 2.0  # how long the broker stays down (genuine Pulsar's restart adds ~20 s)


def restart_broker(stack: Stack) -> None:
    """SIGKILL the broker, leave it down for a while, start it on the same port and data."""
    assert stack.broker is not None
    stack.broker.kill()
    time.sleep(OUTAGE_S)
    stack.broker.start()


@pytest.mark.parametrize("scale", SCALES)
def test_broker_killed_while_a_schedule_fires_and_delayed_items_wait(make_stack, scale):
    # Given a schedule every second that catches up every missed run, and two
    # delayed jobs: one due while the broker is down, one due after its restart
    stack = make_stack(executors=2)
    schedule = every_second(stack, scale["items"])
    half = scale["delayed"] // 2
    stack.submit(half, poison_every=50, delay_ms=int(OUTAGE_S * 500))
    stack.submit(half, poison_every=50, sleep_ms=5, delay_ms=int(OUTAGE_S * 1000) + 1500)
    more_runs(stack, schedule.id, 1)

    # When the broker is SIGKILLed while they wait and it fires, and restarted after a while
    for _ in range(scale["broker_kills"]):
        fired = len(run_times(stack, schedule.id))
        restart_broker(stack)
        assert len(run_times(stack, schedule.id)) > fired, "no run fired while the broker was down"
        more_runs(stack, schedule.id, 2)

    # Then the runs form the grid: none missing, none doubled
    times = pause_and_check_the_grid(stack, schedule.id, scale["items"])

    # And everything drains: every item of every run and job ran exactly once,
    # nothing lost, and no delayed item ran before its runAt
    stack.drain(scale["drain_s"])
    print(f"\nschedule runs: {len(times)}")
    assert_history_ok(stack)
    assert runs_before_run_at(stack) == 0
