"""The scheduler in running jobs services: a restart, two replicas, default schedules.

Each uses 1-second interval schedules and the quick scheduler of FAST, so a
test waits a few seconds of real time, not minutes.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from tests.jobs_service.conftest import EchoPlugin, stack_env
from tests.schedules.conftest import FAST, created, listing, write
from workq_core import DefaultSchedule, PluginError, hookimpl
from workq_core.db.sql import now_ms
from workq_core.jobs_service import start_jobs_service
from workq_core.registry import JobTypeRegistry
from workq_core.runtime import bootstrap
from workq_core.schedules.defaults import SYSTEM_EMAIL


def wait_until(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        time.sleep(0.05)
    return value


def run_times(stack: Any, schedule_id: str) -> list[int]:
    keys = stack.sql(
        "SELECT idempotency_key AS k FROM jobs WHERE idempotency_key LIKE ?",
        (f"schedule:{schedule_id}:%",),
    )
    return sorted(int(row["k"].rsplit(":", 1)[1]) for row in keys)


def every_second(client: Any, name: str, **fields: Any) -> str:
    schedule = created(client, name=name, cron=None, intervalSeconds=1, overlap="ALLOW", **fields)
    return str(schedule["id"])


def test_runs_missed_across_a_jobs_service_restart_follow_each_policy(make_stack):
    stack = make_stack(**FAST)
    alice = stack.user()
    ids = {
        policy: every_second(alice, policy, missedRuns=policy, maxCatchUp=10)
        for policy in ("SKIP", "RUN_ONCE", "RUN_ALL")
    }
    wait_until(lambda: all(run_times(stack, i) for i in ids.values()), 5, "first runs")

    stack.jobs.stop()
    stopped = now_ms()
    time.sleep(2.6)  # two or three runs of each fall due while no scheduler runs
    restarted = now_ms()
    stack.jobs = start_jobs_service(stack.runtime, port=0)
    wait_until(
        lambda: all(run_times(stack, i)[-1] > restarted for i in ids.values()),
        10,
        "a run after the restart",
    )
    times = {policy: run_times(stack, i) for policy, i in ids.items()}

    # RUN_ALL fired each missed run: its grid has no gap
    assert times["RUN_ALL"] == list(range(times["RUN_ALL"][0], times["RUN_ALL"][-1] + 1, 1000))
    assert times["RUN_ALL"][-1] > stopped + 2000
    # RUN_ONCE fired once for the backlog: one gap (a run or more folded), then the newest
    [(before_gap, after_gap)] = gaps(times["RUN_ONCE"])
    assert after_gap - before_gap >= 2000 and after_gap > restarted - 1000
    # SKIP fired none of the missed runs (at most the newest, if within the grace period)
    [(before_gap, after_gap)] = gaps(times["SKIP"])
    assert after_gap - before_gap >= 2000
    skipped = stack.sql("SELECT skipped_runs AS n FROM schedules WHERE id = ?", (ids["SKIP"],))
    assert skipped[0]["n"] >= 1


def gaps(times: list[int]) -> list[tuple[int, int]]:
    """Consecutive run times more than one interval (1 s) apart."""
    return [(a, b) for a, b in itertools.pairwise(times) if b - a > 1000]


def test_two_replicas_submit_each_run_once_and_one_takes_over_from_the_other(make_stack):
    stack = make_stack(**FAST)
    second = start_jobs_service(stack.runtime, port=0)  # another replica, same database
    try:
        schedule_id = every_second(stack.user(), "twice-served", missedRuns="RUN_ALL")
        wait_until(lambda: len(run_times(stack, schedule_id)) >= 2, 5, "runs")
        replicas = [stack.jobs.scheduler, second.scheduler]
        assert sorted(bool(r and r.holding) for r in replicas) == [False, True]

        holder = stack.jobs if replicas[0] and replicas[0].holding else second
        holder.stop()  # releases the lease: the other replica fires from its next tick
        other = second if holder is stack.jobs else stack.jobs
        count = len(run_times(stack, schedule_id))
        wait_until(lambda: len(run_times(stack, schedule_id)) >= count + 2, 5, "takeover")
        assert other.scheduler is not None and other.scheduler.holding
    finally:
        if second is not holder:
            second.stop()
        else:
            stack.jobs = other

    times = run_times(stack, schedule_id)
    assert times == list(range(times[0], times[-1] + 1, 1000))  # no run twice, none missing


class TickJob:
    """A job type that declares a default schedule of its own."""

    name = "Tick"
    description = "Runs by itself every second."
    input_schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    retry = None
    schedules = [DefaultSchedule(name="heartbeat", data={"n": 1}, interval_s=1)]

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        return data


class TickPlugin:
    def __init__(self, schedules: list[DefaultSchedule] | None = None) -> None:
        self.job = TickJob()
        if schedules is not None:
            self.job.schedules = schedules

    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(self.job)


def test_default_schedules_are_installed_once_owned_by_system_and_updated(
    make_stack, database_url, tmp_path, lite_broker
):
    stack = make_stack(**FAST)
    env = {
        **stack_env(database_url, tmp_path, lite_broker.url),
        **FAST,
        "WORKQ_JOBS_AUTH_GRPC": f"127.0.0.1:{stack.auth.grpc_port}",
    }

    def replica(plugin: TickPlugin) -> Any:
        runtime = bootstrap(env=env, extra_plugins=[("echo", EchoPlugin()), ("tick", plugin)])
        return start_jobs_service(runtime, port=0)

    stack.jobs.stop()  # every replica must have the job types; this one lacks Tick
    first, again = replica(TickPlugin()), replica(TickPlugin())
    try:
        found = stack.sql("SELECT id, user_id, name, source FROM schedules")
        assert [(row["name"], row["source"]) for row in found] == [("Tick/heartbeat", "tick")]
        system = stack.sql("SELECT id, role FROM users WHERE email = ?", (SYSTEM_EMAIL,))
        assert system == [{"id": found[0]["user_id"], "role": "user"}]
        wait_until(lambda: run_times(stack, found[0]["id"]), 5, "a default schedule's run")
        owners = stack.sql("SELECT DISTINCT user_id FROM jobs WHERE type = 'Tick'")
        assert owners == [{"user_id": system[0]["id"]}]
    finally:
        first.stop()
        again.stop()

    hourly = DefaultSchedule(name="heartbeat", data={"n": 2}, cron="0 * * * *")
    stack.jobs = replica(TickPlugin([hourly]))  # closed with the stack
    after = stack.sql("SELECT id, data, cron, interval_ms FROM schedules")
    assert after == [
        {"id": found[0]["id"], "data": '[{"n":2}]', "cron": "0 * * * *", "interval_ms": None}
    ]

    alice, admin = stack.user(), stack.user()
    admin_id = int(created(admin, name="own")["ownerId"])
    write(stack, "UPDATE users SET role = 'admin' WHERE id = ?", (admin_id,))
    assert listing(alice) == []
    assert {s["name"] for s in listing(admin)} == {"own", "Tick/heartbeat"}


@pytest.mark.parametrize(
    ("default", "words"),
    [
        (DefaultSchedule(name="bad", data={"n": "one"}, interval_s=60), "field n"),
        (DefaultSchedule(name="bad", data={}, cron="99 * * * *"), "field cron"),
        (DefaultSchedule(name="bad", data={}, cron="0 * * * *", timezone="Nowhere"), "timeZone"),
        (DefaultSchedule(name="bad", data={}), "exactly one"),
    ],
)
def test_a_bad_default_schedule_fails_registration_naming_plugin_and_schedule(default, words):
    job = TickJob()
    job.schedules = [default]
    with pytest.raises(PluginError) as caught:
        JobTypeRegistry().providing("tick").add(job)
    message = caught.value.message
    assert "plugin 'tick'" in message and "default schedule 'bad'" in message
    assert words in message
