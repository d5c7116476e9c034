"""Handler progress through the real executor: throttled writes, the last report kept, events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.executor.conftest import wait_for
from workq_core import RetryPolicy, hookimpl
from workq_core.db.sql import rows

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
