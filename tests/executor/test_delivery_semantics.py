"""Duplicates, cancellation, invalid items and misbehaving plugins leave items correct."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.executor.conftest import wait_for
from workq_core import JobContext, RetryLater, RetryPolicy, hookimpl
from workq_core.db.sql import now_ms, rows, run
from workq_core.jobs.messages import encode


class Counting:
    """Counts runs per item so a test can tell a rerun from a deduplicated delivery."""

    name = "Counting"
    description = "counts its runs"
    input_schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "hold": {"type": "number"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    retry = None

    def __init__(self) -> None:
        self.runs: dict[str, int] = {}  # idempotency key (job_id:index) -> runs
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()

    def run(self, data: dict, ctx: JobContext) -> dict:
        with self.lock:
            key = ctx.idempotency_key
            self.runs[key] = self.runs.get(key, 0) + 1
        if data.get("hold"):
            self.release.wait(data["hold"])
        return {"n": data["n"]}


class CountingPlugin:
    def __init__(self) -> None:
        self.job = Counting()

    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(self.job)


def publish_again(pipeline, job_id: str, index: int) -> None:
    """Publish a second copy of an item's message, as a broker redelivery would."""
    with pipeline.db.connection_context():
        (item,) = rows(
            pipeline.db, "SELECT * FROM items WHERE job_id = ? AND idx = ?", (job_id, index)
        )
    item["attempts"] = 0  # the copy carries the attempt count it was first published with
    pipeline.transport.publish("Counting", [encode(item)])


@pytest.mark.parametrize("store", ["memory", "sql"])
def test_a_message_delivered_twice_completes_once(make_pipeline, store):
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)], WORKQ_EXECUTOR_DEDUP_STORE=store)
    pipeline.start_relay()
    pipeline.start_executor()
    job_id = pipeline.submit("Counting", [{"n": 1}, {"n": 2}])
    pipeline.wait_final(job_id)

    # When both messages arrive again
    publish_again(pipeline, job_id, 0)
    publish_again(pipeline, job_id, 1)
    # and a fresh item follows them on the same topic (so we know the copies were consumed)
    marker = pipeline.submit("Counting", [{"n": 3}])
    pipeline.wait_final(marker)

    # Then each item ran once and kept its single committed result
    assert plugin.job.runs == {f"{job_id}:0": 1, f"{job_id}:1": 1, f"{marker}:0": 1}
    assert [i["attempts"] for i in pipeline.items(job_id)] == [1, 1]


def test_sql_dedup_is_shared_between_executors(make_pipeline):
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)], WORKQ_EXECUTOR_DEDUP_STORE="sql")
    pipeline.start_relay()
    first = pipeline.start_executor()
    job_id = pipeline.submit("Counting", [{"n": 1}])
    pipeline.wait_final(job_id)
    first.grace_s = 5
    first.stop()
    pipeline.executors.remove(first)

    # A second executor (a new memory store would know nothing) gets the duplicate
    pipeline.start_executor()
    key = f"{job_id}:0"
    with pipeline.db.connection_context():
        assert rows(pipeline.db, "SELECT key FROM dedup_keys WHERE key = ?", (key,)) == [
            {"key": key}
        ]
    publish_again(pipeline, job_id, 0)
    marker = pipeline.submit("Counting", [{"n": 2}])
    pipeline.wait_final(marker)
    assert plugin.job.runs == {key: 1, f"{marker}:0": 1}


def test_cancelled_items_are_not_run(make_pipeline):
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)])
    job_id = pipeline.submit("Counting", [{"n": i} for i in range(5)])
    pipeline.start_relay()
    wait_for(lambda: all(item["published_at"] for item in pipeline.items(job_id)))
    with pipeline.db.connection_context():  # cancelled after its messages went out
        run(pipeline.db, "UPDATE jobs SET cancelled_at = 1 WHERE id = ?", (job_id,))

    pipeline.start_executor()

    pipeline.wait_final(job_id)
    assert pipeline.statuses(job_id) == {"cancelled": 5}
    assert plugin.job.runs == {}


def test_an_item_that_fails_validation_in_the_executor_is_dead_at_once(make_pipeline):
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)])
    # Stored without the API's validation, as an older schema version might have allowed
    job_id = pipeline.submit("Counting", [{"n": "not a number"}], max_attempts=5)
    pipeline.start_relay()
    pipeline.start_executor()

    (item,) = pipeline.wait_final(job_id)
    assert item["status"] == "dead" and item["attempts"] == 1
    assert item["error_type"] == "InvalidPayload"
    assert "field 'n'" in item["last_error"]
    assert plugin.job.runs == {}


class Exploding:
    @hookimpl
    def workq_item_started(self, event):
        raise RuntimeError("observer bug")

    @hookimpl
    def workq_item_succeeded(self, event):
        raise RuntimeError("observer bug")


def test_a_lifecycle_plugin_that_raises_does_not_disturb_items(make_pipeline, caplog):
    pipeline = make_pipeline(extra_plugins=[("exploding", Exploding())])
    pipeline.start_relay()
    pipeline.start_executor()

    job_id = pipeline.submit("Fibonacci", [{"iterations": 10}])

    (item,) = pipeline.wait_final(job_id)
    assert item["status"] == "completed" and json.loads(item["result"]) == {"value": "55"}
    assert item["attempts"] == 1
    failures = [r for r in caplog.records if r.getMessage() == "lifecycle plugin failed"]
    assert {r.plugin for r in failures} == {"exploding"}


def test_a_lease_is_renewed_while_its_executor_lives_so_a_copy_never_runs(make_pipeline):
    # Given an item running (holding, like a slow job) far longer than its 0.5 s lease
    plugin = CountingPlugin()
    plugin.job.release.clear()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)], WORKQ_EXECUTOR_LEASE_S="0.5")
    pipeline.start_relay()
    pipeline.start_executor()
    job_id = pipeline.submit("Counting", [{"n": 1, "hold": 30}])
    key = f"{job_id}:0"
    wait_for(lambda: plugin.job.runs.get(key) == 1)

    # When a copy of its message arrives, and four leases' time passes
    publish_again(pipeline, job_id, 0)
    time.sleep(2.0)

    # Then the copy never ran: the executor kept renewing the lease
    assert plugin.job.runs == {key: 1}
    (running,) = pipeline.items(job_id)
    assert running["status"] == "running" and running["lease_expires_at"] > now_ms()
    plugin.job.release.set()
    (item,) = pipeline.wait_final(job_id)
    assert (item["status"], item["attempts"]) == ("completed", 1)


def test_items_whose_messages_were_lost_are_republished_once_executors_idle(make_pipeline):
    # Given a committed job whose messages never reach the broker (as if the broker lost them)
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)])
    job_id = pipeline.submit("Counting", [{"n": i} for i in range(5)])
    with pipeline.db.connection_context():
        run(pipeline.db, "DELETE FROM outbox WHERE job_id = ?", (job_id,))

    # When an executor is alive but receives nothing, and a relay sweeps
    pipeline.start_executor()
    pipeline.start_relay()

    # Then, after the stall period, the items are published again and each runs once
    items = pipeline.wait_final(job_id, timeout_s=30)
    assert {i["status"] for i in items} == {"completed"}
    assert sorted(plugin.job.runs.values()) == [1] * 5


class Trickle:
    """Asks to be retried every 200 ms, forever: a steady trickle of deliveries."""

    name = "Trickle"
    description = "retries itself"
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=1000, base_delay_ms=200, max_delay_ms=200)

    def run(self, data: dict, ctx: JobContext) -> None:
        raise RetryLater(200)


class TricklePlugin:
    @hookimpl
    def workq_register_job_types(self, registry):
        registry.add(Trickle())


def test_lost_messages_are_republished_while_other_work_trickles_in(make_pipeline):
    # Given an executor that keeps receiving retries of another job type
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin), ("trickle", TricklePlugin())])
    # and a committed job whose messages never reach the broker
    job_id = pipeline.submit("Counting", [{"n": i} for i in range(5)])
    with pipeline.db.connection_context():
        run(pipeline.db, "DELETE FROM outbox WHERE job_id = ?", (job_id,))
    pipeline.start_relay()
    pipeline.start_executor()
    pipeline.submit("Trickle", [{}], max_attempts=1000)

    # Then its free threads run dry, the sweep sees it, and each item runs once
    items = pipeline.wait_final(job_id, timeout_s=30)
    assert {i["status"] for i in items} == {"completed"}
    assert sorted(plugin.job.runs.values()) == [1] * 5


def test_a_long_backlog_on_busy_executors_is_not_republished(make_pipeline):
    plugin = CountingPlugin()
    pipeline = make_pipeline(extra_plugins=[("counting", plugin)], WORKQ_EXECUTOR_THREADS="1")
    pipeline.start_relay()
    pipeline.start_executor()
    # Items that take ~3 s in all, longer than the 2 s stall period, on one thread
    job_id = pipeline.submit("Counting", [{"n": i, "hold": 0.1} for i in range(30)])
    plugin.job.release.clear()

    items = pipeline.wait_final(job_id, timeout_s=60)
    assert {i["status"] for i in items} == {"completed"}
    with pipeline.db.connection_context():
        assert rows(pipeline.db, "SELECT COUNT(*) AS n FROM outbox") == [{"n": 0}]
    assert sorted(plugin.job.runs.values()) == [1] * 30
