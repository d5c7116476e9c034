"""Limits under executor faults: SIGKILLed executors holding slots exceed no limit and leak none.

FaultProbe writes each run's end time to ``fault_effects`` after sleeping
``sleep_ms``, so a run covered at least ``[at_ms - sleep_ms, at_ms]``: the
spans checked are inside the real ones, and the concurrency measured from
them can only be lower than the truth, never higher than the limit unless
the limit was broken. (tests/limits/test_executors.py also counts the runs
a kill cut short, from marks written when each attempt starts.) Executors
claim one item at a time here, so that a handler starts when its attempt
is claimed, which is when the rate counts it (docs/limits.md).
"""

from __future__ import annotations

import random
import time

import pytest

import workq
from tests.fault.harness import JOB_TYPE, Stack, wait_until
from tests.fault.test_scenarios import assert_history_ok, final

pytestmark = pytest.mark.e2e

CONCURRENCY, RATE, PER_S, SLEEP_MS = 3, 20, 1.0, 100
SHORT = {"items": 80, "faults": 2, "drain_s": 120}
HEAVY = {"items": 600, "faults": 8, "drain_s": 300}
SCALES = [pytest.param(SHORT, id="short"), pytest.param(HEAVY, id="heavy", marks=pytest.mark.heavy)]


def limit_job_type(stack: Stack) -> None:
    stack.sql("UPDATE users SET role = 'admin'")
    with workq.Client(stack.jobs_url, token=stack.token) as client:
        limit = workq.Limit(concurrency=CONCURRENCY, rate=RATE, per_s=PER_S)
        assert client.set_limits(JOB_TYPE, [limit]).limits == (limit,)


def most_running(ends: list[int]) -> int:
    marks = sorted([(at - SLEEP_MS, 1) for at in ends] + [(at, -1) for at in ends])
    level = peak = 0
    for _at, step in marks:
        level += step
        peak = max(peak, level)
    return peak


def most_started_within(starts: list[int], window_ms: int) -> int:
    starts = sorted(starts)
    most, first = 0, 0
    for last, at in enumerate(starts):
        while at - starts[first] >= window_ms:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize("scale", SCALES)
def test_executors_sigkilled_holding_slots_break_no_limit_and_leak_no_slot(make_stack, scale):
    # Given a job type limited to 3 running items and 20 starts a second,
    # worked by three executors
    stack = make_stack(executors=0)
    for _ in range(3):
        stack.start_executor(WORKQ_EXECUTOR_BATCH_SIZE="1")
    stack.wait_executors_ready(3)
    limit_job_type(stack)
    stack.submit(scale["items"], poison_every=40, sleep_ms=SLEEP_MS)
    wait_until(lambda: final(stack) > 0, 60, "some progress")

    # When executors are SIGKILLed while they hold slots, and replaced
    rng = random.Random()
    kills_mid_job = 0
    for _ in range(scale["faults"]):
        time.sleep(rng.uniform(0.3, 1.0))
        stack.kill(rng.choice(stack.live_executors()))
        kills_mid_job += final(stack) < scale["items"]
        stack.start_executor(WORKQ_EXECUTOR_BATCH_SIZE="1")
    assert kills_mid_job >= 1, "every kill came after the job finished"

    # Then everything drains (no slot leaked: a leaked one would stall the
    # queue), nothing is lost or duplicated, and no limit was exceeded
    stack.drain(scale["drain_s"])
    assert_history_ok(stack)
    ends = [int(at) for (at,) in stack.effects_sql("SELECT at_ms FROM fault_effects")]
    assert most_running(ends) <= CONCURRENCY
    # Slack: a handler starts a little after its claim (more on a loaded machine)
    window = int(PER_S * 1000) - 200
    assert most_started_within([at - SLEEP_MS for at in ends], window) <= RATE
    assert stack.sql("SELECT count(*) FROM limit_slots")[0][0] == 0
    assert final(stack) == scale["items"]
