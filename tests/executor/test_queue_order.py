"""Delays, priorities and fairness through the real relay, broker and executors.

pulsar-lite and both databases; the broker restart runs on pulsar-lite (a
genuine Pulsar restart takes too long for the default run), and
``test_a_delayed_job_runs_on_genuine_pulsar_too`` covers genuine Pulsar.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from workq_core import JobContext, hookimpl
from workq_core.db.sql import now_ms, rows
from workq_core.jobs import commands, queries
from workq_core.jobs.admission import Window
from workq_core.jobs.submission import QueueOrder


class Recorder:
    """Records when each item started (wall-clock ms) and in what order; may sleep a little."""

    name = "Recorder"
    description = "records starts"
    input_schema = {"type": "object", "properties": {"sleep_ms": {"type": "integer"}}}
    retry = None

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.starts: list[tuple[str, int, int]] = []  # (job_id, index, ms)

    def run(self, data: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
        with self.lock:
            self.starts.append((ctx.job_id, ctx.item_index, now_ms()))
        time.sleep(data.get("sleep_ms", 0) / 1000)
        return {}

    def order(self) -> list[str]:
        with self.lock:
            return [job_id for job_id, _index, _ms in self.starts]

    def started(self, job_id: str) -> list[int]:
        with self.lock:
            return [ms for jid, _index, ms in self.starts if jid == job_id]


class RecorderPlugin:
    def __init__(self) -> None:
        self.job = Recorder()

    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(self.job)


@pytest.fixture
def broker(lite_broker):
    """These tests run on pulsar-lite (see the module docstring)."""
    return lite_broker


@pytest.fixture
def recording(make_pipeline):
    plugin = RecorderPlugin()
    return make_pipeline(extra_plugins=[("recorder", plugin)]), plugin.job


def job_status(pipeline, job_id: str) -> str:
    with pipeline.db.connection_context():
        record = queries.find_job(pipeline.db, pipeline.user_id, job_id)
    assert record is not None
    return record.status


def test_no_item_starts_before_run_at_and_a_job_cancelled_while_it_waits_never_runs(recording):
    # Given a relay and an executor, when two jobs are submitted to run 1.5 s from now
    pipeline, recorder = recording
    pipeline.start_relay()
    pipeline.start_executor()
    run_at = now_ms() + 1500
    job_id = pipeline.submit("Recorder", [{}] * 5, order=QueueOrder(run_at=run_at))
    cancelled = pipeline.submit("Recorder", [{}] * 3, order=QueueOrder(run_at=run_at))
    # And the second is cancelled while it waits
    with pipeline.db.connection_context():
        assert commands.cancel_job(pipeline.db, pipeline.user_id, cancelled) == 3

    # Then the first is scheduled, nothing of it is published or started until then
    assert job_status(pipeline, job_id) == "scheduled"
    time.sleep(1.0)
    assert recorder.started(job_id) == []
    assert all(item["published_at"] is None for item in pipeline.items(job_id))
    # And afterwards every item completes, none started early
    items = pipeline.wait_final(job_id)
    assert {i["status"] for i in items} == {"completed"}
    assert min(recorder.started(job_id)) >= run_at
    assert min(i["published_at"] for i in items) >= run_at
    assert job_status(pipeline, job_id) == "completed"
    # While the cancelled one never ran, nor was anything of it published
    assert recorder.started(cancelled) == []
    assert (pipeline.statuses(cancelled), job_status(pipeline, cancelled)) == (
        {"cancelled": 3},
        "cancelled",
    )
    with pipeline.db.connection_context():
        assert rows(pipeline.db, "SELECT id FROM outbox WHERE job_id = ?", (cancelled,)) == []


def test_a_delayed_job_survives_an_executor_and_a_broker_restart(recording, lite_broker):
    # Given a delayed job and a running pipeline
    pipeline, recorder = recording
    pipeline.start_relay()
    first = pipeline.start_executor()
    run_at = now_ms() + 2500
    job_id = pipeline.submit("Recorder", [{}] * 4, order=QueueOrder(run_at=run_at))

    # When the executor stops and the broker crashes and restarts while it waits
    first.stop()
    pipeline.executors.remove(first)
    lite_broker.crash_and_restart()
    pipeline.start_executor()

    # Then it runs after its time, each item once
    items = pipeline.wait_final(job_id)
    assert [i["status"] for i in items] == ["completed"] * 4
    assert [i["attempts"] for i in items] == [1] * 4
    assert min(recorder.started(job_id)) >= run_at


def test_higher_priority_work_starts_before_waiting_low_priority_work(recording):
    # Given two executors working through a queue full of low-priority work
    # (one item per claim: what a thread has claimed is started, whatever its priority)
    pipeline, recorder = recording
    pipeline.start_relay(window=Window(fixed=8))
    for _ in range(2):
        pipeline.start_executor(WORKQ_EXECUTOR_THREADS="2", WORKQ_EXECUTOR_BATCH_SIZE="1")
    low = pipeline.submit("Recorder", [{"sleep_ms": 10}] * 240, order=QueueOrder(priority=-5))
    wait_for(lambda: len(recorder.started(low)) >= 20)

    # When high-priority work of the same type is submitted
    high = pipeline.submit("Recorder", [{"sleep_ms": 10}] * 10, order=QueueOrder(priority=5))
    pipeline.wait_final(high)
    pipeline.wait_final(low)

    # Then it started before most of the low-priority work that was already waiting
    last_high = max(recorder.started(high))
    low_after = [ms for ms in recorder.started(low) if ms > last_high]
    assert len(low_after) >= 120, f"only {len(low_after)} low-priority items started after"


def test_a_second_users_small_job_is_not_starved_by_a_first_users_big_one(recording):
    # Given user A's 2,000-item job being worked
    pipeline, recorder = recording
    pipeline.start_relay(window=Window(fixed=32))
    pipeline.start_executor()
    big = pipeline.submit("Recorder", [{}] * 2000)
    wait_for(lambda: len(recorder.started(big)) >= 50)

    # When user B submits a 10-item job of the same type
    small = pipeline.submit("Recorder", [{}] * 10, user_id=pipeline.new_user())
    pipeline.wait_final(small)

    # Then B's items took turns with A's: all of them ran long before A's job ended
    order = recorder.order()
    last_small = max(i for i, job_id in enumerate(order) if job_id == small)
    assert order[:last_small].count(big) < 400, "the small job waited behind the big one"
    items = pipeline.wait_final(big)
    assert {i["status"] for i in items} == {"completed"}
