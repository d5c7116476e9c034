"""Handler progress through the real executor: throttled writes, the last report kept, events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from workq_core import RetryPolicy, hookimpl
from workq_core.db import migrate
from workq_core.db.sql import rows, run
from workq_core.executor.attempts import claim
from workq_core.executor.progress import AttemptProgress, ProgressFlusher
from workq_core.jobs.messages import ItemRef
from workq_core.jobs.submission import submit_job

INTERVAL_S = 0.2


@pytest.fixture
def broker(lite_broker):
    """Progress is the executor's and the database's business: one broker kind is enough."""
    return lite_broker


class ChattyJob:
    """Reports progress as fast as it can for ``seconds``; fails its first attempt if asked."""

    name = "Chatty"
    description = "Report progress very often."
    input_schema = {"type": "object"}
    retry = RetryPolicy(max_attempts=2, base_delay_ms=0, max_delay_ms=0)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if data.get("fail_first") and ctx.attempt == 1:
            ctx.progress(1, 10, "about to fail")
            raise RuntimeError("first attempt fails")
        if data.get("fail_first"):
            return {"reports": 0}
        reports, deadline = 0, time.monotonic() + data["seconds"]
        while time.monotonic() < deadline:
            reports += 1
            ctx.progress(reports, None, f"report {reports}")
        ctx.progress(reports, reports, "all done")
        return {"reports": reports + 1}


class ChattyTimedJob(ChattyJob):
    """Chatty with a timeout: it runs in a worker process, its reports cross a pipe."""

    name = "ChattyTimed"
    timeout_s = 30


class ChattyPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(ChattyJob())
        registry.add(ChattyTimedJob())


def _events(pipeline, job_id: str) -> list[dict[str, Any]]:
    with pipeline.db.connection_context():
        return rows(
            pipeline.db,
            "SELECT kind, attempt, detail, progress_done, progress_total, at FROM item_events"
            " WHERE job_id = ? ORDER BY txid, id",
            (job_id,),
        )


def test_a_chatty_handler_is_written_at_most_once_per_interval_and_its_last_report_kept(
    make_pipeline,
):
    # Given an executor that writes progress every 0.2 s
    pipeline = make_pipeline(
        [("chatty", ChattyPlugin())], WORKQ_EXECUTOR_PROGRESS_INTERVAL_S=str(INTERVAL_S)
    )
    pipeline.start_relay()
    pipeline.start_executor()
    # When a handler reports thousands of times within a second
    job_id = pipeline.submit("Chatty", [{"seconds": 1.0}])
    [item] = pipeline.wait_final(job_id)
    # Then the item holds its last report, and the log has only a few of them
    reports = item["result"] and int(item["result"].split(":")[1].strip(" }"))
    assert reports > 100
    assert (item["progress_done"], item["progress_total"]) == (reports - 1, reports - 1)
    assert item["progress_message"] == "all done"
    events = _events(pipeline, job_id)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "succeeded"
    progress = [e for e in events if e["kind"] == "progress"]
    ran_s = (events[-1]["at"] - events[0]["at"]) / 1000
    assert 1 <= len(progress) <= ran_s / INTERVAL_S + 2, (len(progress), ran_s)
    assert progress[-1]["detail"] == "all done" and progress[-1]["progress_done"] == reports - 1
    dones = [e["progress_done"] for e in progress]
    assert dones == sorted(dones)


def test_a_retried_item_logs_each_attempt_and_starts_again_without_progress(make_pipeline):
    pipeline = make_pipeline([("chatty", ChattyPlugin())])
    pipeline.start_relay()
    pipeline.start_executor()
    job_id = pipeline.submit("Chatty", [{"fail_first": True}], max_attempts=2)
    [item] = pipeline.wait_final(job_id)
    assert item["status"] == "completed"
    assert item["progress_at"] is None  # the second attempt reported nothing
    events = wait_for(lambda: (found := _events(pipeline, job_id)) and found)
    assert [(e["kind"], e["attempt"]) for e in events] == [
        ("started", 1),
        ("progress", 1),
        ("failed", 1),
        ("started", 2),
        ("succeeded", 2),
    ]
    assert events[1]["detail"] == "about to fail" and events[1]["progress_total"] == 10
    assert events[2]["detail"] == "RuntimeError: first attempt fails"


def test_progress_from_a_worker_process_reaches_the_item_throttled_with_its_last_report(
    make_pipeline,
):
    # Given a job type with a timeout, so its attempts run in a worker process
    pipeline = make_pipeline(
        [("chatty", ChattyPlugin())], WORKQ_EXECUTOR_PROGRESS_INTERVAL_S=str(INTERVAL_S)
    )
    pipeline.start_relay()
    pipeline.start_executor()
    # When its handler reports thousands of times within a second
    job_id = pipeline.submit("ChattyTimed", [{"seconds": 1.0}])
    [item] = pipeline.wait_final(job_id)
    # Then its last report is on the item, and only a few in between were written
    reports = int(item["result"].split(":")[1].strip(" }"))
    assert item["status"] == "completed" and reports > 100
    assert (item["progress_done"], item["progress_total"]) == (reports - 1, reports - 1)
    assert item["progress_message"] == "all done"
    progress = [e for e in _events(pipeline, job_id) if e["kind"] == "progress"]
    assert 1 <= len(progress) <= 1.0 / INTERVAL_S + 3


def test_a_replaced_claimers_progress_is_dropped_and_the_current_claims_written(db):
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", ("p@example.com", "x"))
        (user,) = rows(db, "SELECT id FROM users")
        job_id = submit_job(
            db, user_id=user["id"], job_type="Chatty", items=[{}], max_attempts=2
        ).job_id
        (item,) = rows(db, "SELECT id FROM items WHERE job_id = ?", (job_id,))
        ref = ItemRef(job_id, int(item["id"]), 0, 0)
        # Given an item claimed, then paused (SIGSTOP) until its lease ran out
        (paused,) = claim(db, [ref], lease_ms=1)
        time.sleep(0.01)
        # and claimed again by another executor, under the same attempt number
        (current,) = claim(db, [ref], lease_ms=60_000)
        assert current.attempt == paused.attempt and current.claimed_at != paused.claimed_at

        # When both report progress, the paused one last (it woke up)
        flusher = ProgressFlusher(db, interval_s=3600)  # written by flush() below only
        try:
            AttemptProgress(current, flusher).report(3, 10, "current run")
            AttemptProgress(paused, flusher).report(9, 10, "paused run")
            written = flusher.flush()
        finally:
            flusher.stop()

        # Then only the current claim's report is on the item and in its events
        assert written == 1
        (after,) = rows(
            db,
            "SELECT progress_done, progress_message FROM items WHERE id = ?",
            (item["id"],),
        )
        assert after == {"progress_done": 3, "progress_message": "current run"}
        events = rows(
            db, "SELECT detail FROM item_events WHERE job_id = ? AND kind = ?", (job_id, "progress")
        )
        assert events == [{"detail": "current run"}]
