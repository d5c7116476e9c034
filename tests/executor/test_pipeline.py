"""Items flow from a committed submission through the relay and Pulsar to results."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.executor.conftest import wait_for
from workq_core import JobContext, PermanentFailure, RetryLater, RetryPolicy, hookimpl


def fib(n: int) -> str:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return str(a)


def test_submitted_items_complete_with_the_right_results(make_pipeline):
    # Given a pipeline with a relay and one executor
    pipeline = make_pipeline()
    pipeline.start_relay()
    pipeline.start_executor()

    # When a job of three items is submitted
    job_id = pipeline.submit(
        "Fibonacci", [{"iterations": 10}, {"iterations": 0}, {"iterations": 90}]
    )

    # Then every item completes once with its value
    items = pipeline.wait_final(job_id)
    assert [json.loads(i["result"]) for i in items] == [
        {"value": "55"},
        {"value": "0"},
        {"value": fib(90)},
    ]
    assert [i["attempts"] for i in items] == [1, 1, 1]
    assert all(i["status"] == "completed" and i["lease_expires_at"] is None for i in items)


def test_a_bulk_job_of_1000_items_completes(make_pipeline):
    pipeline = make_pipeline()
    pipeline.start_relay()
    pipeline.start_executor()

    job_id = pipeline.submit("Fibonacci", [{"iterations": n % 50} for n in range(1000)])

    items = pipeline.wait_final(job_id, timeout_s=120)
    assert pipeline.statuses(job_id) == {"completed": 1000}
    assert all(json.loads(i["result"])["value"] == fib(i["idx"] % 50) for i in items)


def test_nothing_is_published_until_a_relay_runs_then_everything_is(make_pipeline):
    # Given a committed submission and an executor, but no relay (it died after the commit)
    pipeline = make_pipeline()
    pipeline.start_executor()
    job_id = pipeline.submit("Fibonacci", [{"iterations": 5}] * 20)

    # Then nothing runs
    import time

    time.sleep(1.0)
    assert pipeline.statuses(job_id) == {"queued": 20}

    # When a relay starts (as after a restart), the outbox is published and drained
    pipeline.start_relay()
    pipeline.wait_final(job_id)
    assert pipeline.statuses(job_id) == {"completed": 20}
    with pipeline.db.connection_context():
        from workq_core.db.sql import rows

        assert rows(
            pipeline.db, "SELECT COUNT(*) AS n FROM outbox WHERE job_id = ?", (job_id,)
        ) == [{"n": 0}]


class Flaky:
    """Fails the first ``failures`` attempts of every item, recording when each ran."""

    name = "Flaky"
    description = "fails, then succeeds"
    input_schema = {"type": "object", "properties": {"failures": {"type": "integer"}}}
    retry = RetryPolicy(max_attempts=3, base_delay_ms=300, max_delay_ms=2000)

    def __init__(self) -> None:
        self.runs: dict[int, list[float]] = {}

    def run(self, data: dict, ctx: JobContext) -> dict:
        import time

        self.runs.setdefault(ctx.item_index, []).append(time.monotonic())
        if ctx.attempt <= data["failures"]:
            raise RuntimeError(f"planned failure {ctx.attempt}")
        return {"attempt": ctx.attempt}


class FlakyPlugin:
    def __init__(self) -> None:
        self.job = Flaky()
        self.events: list[tuple[str, int]] = []

    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(self.job)

    @hookimpl
    def workq_item_failed(self, event):
        self.events.append(("failed", event.attempt))

    @hookimpl
    def workq_item_dead(self, event):
        self.events.append(("dead", event.attempt))

    @hookimpl
    def workq_item_succeeded(self, event):
        self.events.append(("succeeded", event.attempt))


def test_retries_back_off_at_least_the_configured_delay(make_pipeline):
    plugin = FlakyPlugin()
    pipeline = make_pipeline(extra_plugins=[("flaky", plugin)])
    pipeline.start_relay()
    pipeline.start_executor()

    job_id = pipeline.submit("Flaky", [{"failures": 2}], max_attempts=3)

    (item,) = pipeline.wait_final(job_id)
    assert item["status"] == "completed" and item["attempts"] == 3
    first, second, third = plugin.job.runs[0]
    assert second - first >= 0.300  # base delay
    assert third - second >= 0.600  # doubled
    assert plugin.events == [("failed", 1), ("failed", 2), ("succeeded", 3)]


def test_a_failing_item_is_dead_lettered_after_exactly_its_max_attempts(make_pipeline):
    plugin = FlakyPlugin()
    pipeline = make_pipeline(extra_plugins=[("flaky", plugin)])
    pipeline.start_relay()
    pipeline.start_executor()

    job_id = pipeline.submit("Flaky", [{"failures": 99}], max_attempts=3)

    (item,) = pipeline.wait_final(job_id)
    assert item["status"] == "dead" and item["attempts"] == 3
    assert item["error_type"] == "RuntimeError"
    assert item["last_error"] == "RuntimeError: planned failure 3"
    assert len(plugin.job.runs[0]) == 3
    wait_for(lambda: len(plugin.events) == 3)
    assert plugin.events == [("failed", 1), ("failed", 2), ("dead", 3)]

    dlq = pipeline.transport.subscribe_dead_letters(["Flaky"])
    try:
        delivery = dlq.receive(10)
        assert delivery is not None
        assert delivery.properties["error_type"] == "RuntimeError"
        assert delivery.properties["attempts"] == "3"
        assert json.loads(delivery.payload)["job_id"] == job_id
        dlq.ack(delivery)
        assert dlq.receive(1) is None  # exactly once
    finally:
        dlq.close()
    assert pipeline.items(job_id)[0]["dead_lettered_at"] is not None


class Steered:
    """A handler that steers its outcome: asks for a later retry, or fails for good."""

    name = "Steered"
    description = "raises RetryLater or PermanentFailure as told"
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=3, base_delay_ms=10, max_delay_ms=10)

    def __init__(self) -> None:
        self.runs: list[float] = []

    def run(self, data: dict, ctx: JobContext) -> dict:
        self.runs.append(time.monotonic())
        if data["do"] == "later" and ctx.attempt < data.get("until", 99):
            raise RetryLater(500, "upstream said wait")
        if data["do"] == "never":
            raise PermanentFailure("the record is gone")
        return {"attempt": ctx.attempt}

    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(self)


def test_retry_later_waits_the_delay_it_names_and_counts_the_attempt(make_pipeline):
    # Given a handler that asks for a retry in 500 ms once (its backoff is 10 ms)
    job = Steered()
    pipeline = make_pipeline(extra_plugins=[("steered", job)])
    pipeline.start_relay()
    pipeline.start_executor()
    # When its item runs
    job_id = pipeline.submit("Steered", [{"do": "later", "until": 2}], max_attempts=3)
    (item,) = pipeline.wait_final(job_id)
    # Then the second attempt came after the named delay, not the backoff, and both counted
    assert (item["status"], item["attempts"]) == ("completed", 2)
    assert job.runs[1] - job.runs[0] >= 0.5


def test_retry_later_on_the_last_attempt_is_dead_like_any_failure(make_pipeline, caplog):
    job = Steered()
    pipeline = make_pipeline(extra_plugins=[("steered", job)])
    pipeline.start_relay()
    pipeline.start_executor()
    caplog.set_level(logging.WARNING, logger="workq_core.executor.handler")
    job_id = pipeline.submit("Steered", [{"do": "ok"}, {"do": "later"}], max_attempts=2)
    done, dead = pipeline.wait_final(job_id)
    assert done["status"] == "completed"
    assert (dead["status"], dead["attempts"], dead["error_type"]) == ("dead", 2, "RetryLater")
    assert dead["last_error"] == "RetryLater: upstream said wait"

    # the operator's log names which item of the job it was; the executor
    # writes it when it publishes to the dead-letter topic, just after it
    # recorded the item dead, so the test may see the status first
    def dead_letter_logs():
        return [r for r in caplog.records if r.getMessage() == "item dead-lettered"]

    wait_for(dead_letter_logs)
    (logged,) = dead_letter_logs()
    assert (logged.job_id, logged.item_index, logged.attempt) == (job_id, 1, 2)


def test_permanent_failure_is_dead_lettered_at_once_with_attempts_left(make_pipeline):
    # Given a handler that knows no retry can help
    job = Steered()
    pipeline = make_pipeline(extra_plugins=[("steered", job)])
    pipeline.start_relay()
    pipeline.start_executor()
    # When its item runs with 3 attempts allowed
    job_id = pipeline.submit("Steered", [{"do": "never"}], max_attempts=3)
    (item,) = pipeline.wait_final(job_id)
    # Then it ran once and is dead, in the dead-letter topic once
    assert (item["status"], item["attempts"], item["error_type"]) == ("dead", 1, "PermanentFailure")
    assert len(job.runs) == 1
    wait_for(lambda: pipeline.items(job_id)[0]["dead_lettered_at"] is not None)
    dlq = pipeline.transport.subscribe_dead_letters(["Steered"])
    try:
        delivery = dlq.receive(10)
        assert delivery is not None and delivery.properties["error_type"] == "PermanentFailure"
        dlq.ack(delivery)
        assert dlq.receive(1) is None
    finally:
        dlq.close()


def test_retry_later_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="delay_ms >= 0"):
        RetryLater(-1)


class Unserialisable:
    """Returns a value JSON cannot hold for one item, a plain one for the others."""

    name = "Unserialisable"
    description = "returns a set for item 0"
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=2, base_delay_ms=10, max_delay_ms=10)

    def run(self, data: dict, ctx: JobContext) -> object:
        return {1, 2} if ctx.item_index == 0 else {"ok": ctx.item_index}

    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(self)


def test_a_result_json_cannot_hold_fails_that_attempt_only(make_pipeline):
    # Given a batch of items where one handler returns a set
    pipeline = make_pipeline(extra_plugins=[("unserialisable", Unserialisable())])
    pipeline.start_relay()
    pipeline.start_executor()
    job_id = pipeline.submit("Unserialisable", [{}] * 10, max_attempts=2)
    items = pipeline.wait_final(job_id)
    # Then that item failed its attempts with a TypeError, and the others completed once
    assert (items[0]["status"], items[0]["attempts"], items[0]["error_type"]) == (
        "dead",
        2,
        "TypeError",
    )
    assert all((i["status"], i["attempts"]) == ("completed", 1) for i in items[1:])
    assert json.loads(items[1]["result"]) == {"ok": 1}
