"""The harness runs job types through the real executor, with the handler contract's outcomes."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from workq_core import (
    ConfigError,
    InvalidPayload,
    ItemEvent,
    JobContext,
    JobTypeNotFound,
    PermanentFailure,
    RetryLater,
    RetryPolicy,
    hookimpl,
)
from workq_core.db.sql import rows
from workq_core.testing import Harness, HarnessTimeout

Handler = Callable[[dict[str, Any], JobContext], Any]
THREE_ATTEMPTS = RetryPolicy(max_attempts=3, base_delay_ms=1000)


class Scripted:
    """A job type whose handler the test supplies; it records the attempts it saw."""

    description = "A job type scripted by the test."
    input_schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    }

    def __init__(self, handler: Handler, retry: RetryPolicy | None, name: str = "Scripted"):
        self.name = name
        self.handler = handler
        self.retry = retry
        self.attempts: list[int] = []

    def run(self, data: dict[str, Any], ctx: JobContext) -> Any:
        self.attempts.append(ctx.attempt)
        return self.handler(data, ctx)


class ScriptedPlugin:
    def __init__(self, *jobs: Scripted) -> None:
        self.jobs = jobs

    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        for job in self.jobs:
            registry.add(job)


def harness_for(
    make_workq_harness: Callable[..., Harness],
    handler: Handler,
    retry: RetryPolicy | None = THREE_ATTEMPTS,
    **options: Any,
) -> tuple[Harness, Scripted]:
    job = Scripted(handler, retry)
    options.setdefault("delay_scale", 0)
    return make_workq_harness(plugins={"scripted": ScriptedPlugin(job)}, **options), job


def test_a_one_item_job_completes_well_under_a_second(make_workq_harness):
    # Given a fresh harness (database, relay, executor) and a job type that doubles its input
    started = time.perf_counter()
    workq_harness, _ = harness_for(make_workq_harness, lambda data, ctx: {"double": data["n"] * 2})

    # When one item runs
    run = workq_harness.run("Scripted", {"n": 21})
    elapsed = time.perf_counter() - started

    # Then it completed on its first attempt, with the result decoded from the database
    assert run.status == "completed"
    [item] = run.items
    assert (item.status, item.attempts, item.result) == ("completed", 1, {"double": 42})
    assert (item.error_type, item.last_error) == (None, None)
    assert run.dead_letters == []
    assert elapsed < 1.0, f"start and one item took {elapsed:.3f} s"


def test_an_exception_is_retried_and_the_next_attempt_succeeds(make_workq_harness):
    # Given a handler that fails on its first attempt only
    def flaky(data: dict[str, Any], ctx: JobContext) -> Any:
        if ctx.attempt == 1:
            raise ConnectionError("upstream hung up")
        return {"attempt": ctx.attempt}

    workq_harness, job = harness_for(make_workq_harness, flaky)

    # When the item runs
    [item] = workq_harness.run("Scripted", {"n": 1}).items

    # Then the second attempt (counted in the database) completed it, and the error is gone
    assert job.attempts == [1, 2]
    assert (item.status, item.attempts, item.max_attempts) == ("completed", 2, 3)
    assert item.result == {"attempt": 2}
    assert item.error_type is None


def test_the_last_failed_attempt_is_dead_and_dead_lettered_once(make_workq_harness):
    # Given a handler that always fails, under a policy of three attempts
    def broken(data: dict[str, Any], ctx: JobContext) -> Any:
        raise KeyError("no such record")

    workq_harness, job = harness_for(make_workq_harness, broken)

    # When the item runs
    run = workq_harness.run("Scripted", {"n": 1})

    # Then it ran three times, is dead with the last error, and has one dead letter
    assert job.attempts == [1, 2, 3]
    [item] = run.items
    assert (item.status, item.attempts, item.error_type) == ("dead", 3, "KeyError")
    assert item.last_error == "KeyError: 'no such record'"
    assert run.status == "failed"
    [letter] = run.dead_letters
    assert letter.topic == "Scripted-DLQ"
    assert letter.properties["error_type"] == "KeyError"
    assert letter.properties["attempts"] == "3"
    assert letter.properties["item_index"] == "0"


def test_retry_delays_are_the_policys_unless_scaled(make_workq_harness):
    # Given a job type failing once under a 300 ms backoff, run with its real delays
    def once(data: dict[str, Any], ctx: JobContext) -> Any:
        if ctx.attempt == 1:
            raise TimeoutError("slow upstream")
        return "ok"

    policy = RetryPolicy(max_attempts=2, base_delay_ms=300, max_delay_ms=300)
    workq_harness, _ = harness_for(make_workq_harness, once, policy, delay_scale=1.0)

    # When it runs
    started = time.perf_counter()
    [item] = workq_harness.run("Scripted", {"n": 1}).items

    # Then the retry waited for the backoff
    assert item.status == "completed"
    assert time.perf_counter() - started >= 0.3


def test_retry_later_waits_the_asked_delay_and_counts_the_attempt(make_workq_harness):
    # Given a handler that asks for 300 ms on its first attempt, run with real delays
    def later(data: dict[str, Any], ctx: JobContext) -> Any:
        if ctx.attempt == 1:
            raise RetryLater(300, "rate limited")
        return {"attempt": ctx.attempt}

    workq_harness, _ = harness_for(make_workq_harness, later, delay_scale=1.0)

    # When it runs
    started = time.perf_counter()
    [item] = workq_harness.run("Scripted", {"n": 1}).items

    # Then it waited at least the asked delay, and that attempt counted
    assert time.perf_counter() - started >= 0.3
    assert (item.status, item.attempts, item.result) == ("completed", 2, {"attempt": 2})


def test_retry_later_on_the_last_attempt_is_dead(make_workq_harness):
    # Given a handler that always asks to be retried in a minute (scaled to nothing)
    def never_ready(data: dict[str, Any], ctx: JobContext) -> Any:
        raise RetryLater(60_000, "not yet")

    workq_harness, job = harness_for(make_workq_harness, never_ready)

    # When it runs
    run = workq_harness.run("Scripted", {"n": 1})

    # Then its attempts ran out like any failure's
    [item] = run.items
    assert job.attempts == [1, 2, 3]
    assert (item.status, item.error_type, item.last_error) == (
        "dead",
        "RetryLater",
        "RetryLater: not yet",
    )
    assert len(run.dead_letters) == 1


def test_permanent_failure_is_dead_at_once_and_dead_lettered_once(make_workq_harness):
    # Given a handler that knows no retry can help
    def gone(data: dict[str, Any], ctx: JobContext) -> Any:
        raise PermanentFailure("record 7 was deleted")

    workq_harness, job = harness_for(make_workq_harness, gone, RetryPolicy(max_attempts=5))

    # When it runs
    run = workq_harness.run("Scripted", {"n": 7})

    # Then one attempt of five was used and the item went to dead letters once
    [item] = run.items
    assert job.attempts == [1]
    assert (item.status, item.attempts, item.max_attempts) == ("dead", 1, 5)
    assert (item.error_type, item.last_error) == (
        "PermanentFailure",
        "PermanentFailure: record 7 was deleted",
    )
    [letter] = run.dead_letters
    assert letter.properties["error_message"] == "PermanentFailure: record 7 was deleted"
    assert letter.properties["attempts"] == "1"


def test_input_outside_the_schema_is_refused_before_anything_is_stored(make_workq_harness):
    # Given a job type whose schema wants a non-negative integer n
    workq_harness, job = harness_for(make_workq_harness, lambda data, ctx: "never runs")

    # When item 1 of two is invalid
    with pytest.raises(InvalidPayload) as refused:
        workq_harness.run("Scripted", [{"n": 1}, {"n": -1}])

    # Then it is refused as executeJob refuses it, naming item and field; nothing was stored
    assert (refused.value.item, refused.value.field) == (1, "n")
    with workq_harness.db.connection_context():
        assert rows(workq_harness.db, "SELECT COUNT(*) AS n FROM jobs")[0]["n"] == 0
    assert job.attempts == []


def test_a_handler_raising_invalid_payload_is_dead_at_once(make_workq_harness):
    # Given a handler that finds its (schema-valid) input unusable
    def picky(data: dict[str, Any], ctx: JobContext) -> Any:
        raise InvalidPayload("n must be even")

    workq_harness, _ = harness_for(make_workq_harness, picky)

    # When it runs
    run = workq_harness.run("Scripted", {"n": 3})

    # Then no retry was tried
    [item] = run.items
    assert (item.status, item.attempts, item.error_type) == ("dead", 1, "InvalidPayload")
    assert len(run.dead_letters) == 1


@pytest.mark.parametrize(
    ("value", "error_type"),
    [({"tags": {"a", "b"}}, "TypeError"), ({"ratio": math.nan}, "ValueError")],
    ids=["set", "nan"],
)
def test_a_result_that_is_not_json_fails_the_attempt(make_workq_harness, value, error_type):
    # Given a handler whose result cannot be stored as JSON
    workq_harness, job = harness_for(make_workq_harness, lambda data, ctx: value)

    # When it runs
    run = workq_harness.run("Scripted", {"n": 1})

    # Then each attempt failed like an exception, and the item is dead after the last
    [item] = run.items
    assert job.attempts == [1, 2, 3]
    assert (item.status, item.error_type) == ("dead", error_type)
    assert item.result is None


def test_many_items_of_one_job_each_get_their_own_outcome(make_workq_harness):
    # Given a handler that fails permanently for odd n
    def evens(data: dict[str, Any], ctx: JobContext) -> Any:
        if data["n"] % 2:
            raise PermanentFailure(f"{data['n']} is odd")
        return data["n"]

    workq_harness, _ = harness_for(make_workq_harness, evens)

    # When a job of 50 items runs
    run = workq_harness.run("Scripted", [{"n": n} for n in range(50)])

    # Then results and dead letters line up with the items
    assert run.results == [n if n % 2 == 0 else None for n in range(50)]
    dead_indexes = sorted(int(d.properties["item_index"]) for d in run.dead_letters)
    assert dead_indexes == list(range(1, 50, 2))


def test_installed_plugins_are_loaded_by_default(workq_harness):
    # Given the default harness: installed entry-point plugins only
    # When the shipped Fibonacci job type runs
    run = workq_harness.run("Fibonacci", {"iterations": 10})

    # Then it was found and run, on the in-memory transport chosen by configuration
    assert run.results == [{"value": "55"}]
    assert workq_harness.runtime.settings.transport.name == "in-memory"
    assert {"in-memory", "pulsar"} <= set(workq_harness.runtime.catalog.transports.names())


def test_lifecycle_hooks_of_plugins_see_each_attempt(make_workq_harness):
    # Given an observer plugin beside a job type that fails once
    seen: list[tuple[str, int]] = []

    class Observer:
        @hookimpl
        def workq_item_started(self, event: ItemEvent) -> None:
            seen.append(("started", event.attempt))

        @hookimpl
        def workq_item_failed(self, event: ItemEvent) -> None:
            seen.append(("failed", event.attempt))

        @hookimpl
        def workq_item_succeeded(self, event: ItemEvent) -> None:
            seen.append(("succeeded", event.attempt))

    def once(data: dict[str, Any], ctx: JobContext) -> Any:
        if ctx.attempt == 1:
            raise RuntimeError("first time")
        return None

    job = Scripted(once, RetryPolicy(max_attempts=2))
    workq_harness = make_workq_harness(
        plugins={"scripted": ScriptedPlugin(job), "observer": Observer()},
        entry_points=False,
        delay_scale=0,
    )

    # When the item runs
    workq_harness.run("Scripted", {"n": 1})

    # Then the observer saw both attempts
    assert seen == [("started", 1), ("failed", 1), ("started", 2), ("succeeded", 2)]


def test_settings_reach_the_executor_and_the_policy_defaults(make_workq_harness):
    # Given a job type without its own policy, and settings of two attempts
    def broken(data: dict[str, Any], ctx: JobContext) -> Any:
        raise ValueError("always")

    workq_harness, _ = harness_for(
        make_workq_harness,
        broken,
        retry=None,
        settings={"executor.max_attempts": 2},
        entry_points=False,
    )

    # When it runs
    [item] = workq_harness.run("Scripted", {"n": 1}).items

    # Then the executor's configured attempts applied
    assert (item.status, item.attempts, item.max_attempts) == ("dead", 2, 2)


def test_an_unknown_job_type_names_the_installed_ones_and_where_plugins_come_from(workq_harness):
    with pytest.raises(JobTypeNotFound) as missing:
        workq_harness.run("NoSuchJob", {})
    assert "available: Fibonacci" in missing.value.message
    assert "pip install -e ." in missing.value.message


def test_settings_the_harness_needs_cannot_be_overridden(tmp_path):
    with pytest.raises(ConfigError, match=r"the harness sets transport\.name itself"):
        Harness(tmp_path, settings={"transport.name": "pulsar"})


def test_a_job_not_finished_in_time_is_a_timeout_saying_where_it_is(make_workq_harness):
    # Given a handler that blocks until the test lets it go
    release = threading.Event()
    workq_harness, _ = harness_for(make_workq_harness, lambda data, ctx: release.wait(10))

    # When the harness waits less than the handler takes
    with pytest.raises(HarnessTimeout) as late:
        workq_harness.run("Scripted", {"n": 1}, timeout_s=0.2)
    release.set()

    # Then the error says which item is where
    assert "not finished within 0.2 s: item 0 running after attempt 1 of 3" in late.value.message


def test_an_items_last_progress_report_is_on_its_outcome(make_workq_harness):
    def counting(data: dict[str, Any], ctx: JobContext) -> Any:
        for step in range(1, data["n"] + 1):
            ctx.progress(step, data["n"], f"step {step}")
        return {}

    workq_harness, _ = harness_for(make_workq_harness, counting)
    reported, silent = workq_harness.run("Scripted", [{"n": 3}, {"n": 0}]).items
    assert reported.progress == (3, 3, "step 3")
    assert silent.progress is None


def test_impossible_progress_fails_the_attempt_naming_the_argument(make_workq_harness):
    workq_harness, _ = harness_for(
        make_workq_harness, lambda data, ctx: ctx.progress(-1), RetryPolicy(max_attempts=1)
    )
    [item] = workq_harness.run("Scripted", {"n": 1}).items
    assert item.status == "dead" and item.error_type == "InvalidProgress"
    assert (
        item.last_error
        == "InvalidProgress: progress: done must be between 0 and 2147483647, got -1"
    )


def test_a_context_made_by_hand_checks_progress_and_sends_it_nowhere():
    ctx = JobContext("j", 0, 1, "k")
    ctx.progress(1, 2, "half")
    for args, named in [((True,), "done"), ((1, "2"), "total"), ((3, 2), "more than total")]:
        with pytest.raises(ValueError, match=named):
            ctx.progress(*args)
    with pytest.raises(ValueError, match="at most 1000"):
        ctx.progress(0, None, "x" * 1001)
