"""Subscriptions over graphql-transport-ws: live job updates, resumable item events, refusals."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.jobs_service.conftest import job, submit
from tests.support.graphql_ws import GraphQLSocket
from workq_core import RetryPolicy, hookimpl
from workq_core.db.sql import run
from workq_core.executor.runner import start_executor

EVENTS = """subscription ($id: ID!, $after: String) { jobEvents(id: $id, after: $after) {
  cursor kind itemIndex attempt at detail progress { done total message updatedAt } } }"""
UPDATED = """subscription ($id: ID!) { jobUpdated(id: $id) {
  id status size completed dead progress { fraction done total } } }"""


class StepsJob:
    """Reports progress once per step; ``bad`` reports a done above its total first."""

    name = "Steps"
    description = "Count steps, reporting progress."
    input_schema = {
        "type": "object",
        "properties": {
            "steps": {"type": "integer", "minimum": 0, "maximum": 100},
            "pause_s": {"type": "number", "minimum": 0, "maximum": 1},
            "bad": {"type": "boolean"},
        },
        "required": ["steps"],
    }
    retry = RetryPolicy(max_attempts=1)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if data.get("bad"):
            ctx.progress(3, 2)
        for step in range(1, data["steps"] + 1):
            time.sleep(data.get("pause_s", 0))
            ctx.progress(step, data["steps"], f"step {step}")
        return {"steps": data["steps"]}


class StepsPlugin:
    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(StepsJob())


@pytest.fixture
def live(make_stack):
    """A stack with the Steps job type, and a starter for an executor beside it."""
    stack = make_stack(
        plugins=(("steps", StepsPlugin()),),
        WORKQ_EXECUTOR_PROGRESS_INTERVAL_S="0.1",
        WORKQ_SUBSCRIPTIONS_POLL_S="0.05",
    )
    executors = []

    def start():
        executors.append(start_executor(stack.runtime))

    stack.start_executor = start
    yield stack
    for executor in executors:
        executor.stop()


def _token(client) -> str:
    return client.cookies["Authentication"]


def _socket(stack, client) -> GraphQLSocket:
    socket = GraphQLSocket(stack.jobs.port)
    assert socket.init({"Authorization": f"Bearer {_token(client)}"}) == {"type": "connection_ack"}
    return socket


def _events(socket: GraphQLSocket, op_id: str, stop) -> list[dict[str, Any]]:
    """``jobEvents`` payloads of ``op_id`` until ``stop(events so far)``."""
    events: list[dict[str, Any]] = []

    def done(message: dict[str, Any]) -> bool:
        if message["type"] != "next":
            return True
        events.append(message["payload"]["data"]["jobEvents"])
        return stop(events)

    last = socket.until(op_id, done)[-1]
    assert last["type"] == "next", last
    return events


def _all_final(size: int, before: list[dict[str, Any]] = ()):  # type: ignore[assignment]
    def stop(events: list[dict[str, Any]]) -> bool:
        final = {e["itemIndex"] for e in [*before, *events] if e["kind"] in ("SUCCEEDED", "DEAD")}
        return len(final) == size

    return stop


def test_job_events_stream_progress_and_outcomes_as_they_happen(live):
    # Given a job of two items that report three steps each, and a subscriber
    client = live.user()
    job_id = submit(client, "Steps", [{"steps": 3, "pause_s": 0.15}] * 2)
    with _socket(live, client) as socket:
        socket.subscribe("e", EVENTS, {"id": job_id})
        # When an executor runs it
        live.start_executor()
        events = _events(socket, "e", _all_final(2))
    # Then each item started, reported progress (the last report is 3 of 3), and succeeded
    for index in (0, 1):
        mine = [e for e in events if e["itemIndex"] == index]
        kinds = [e["kind"] for e in mine]
        assert kinds[0] == "STARTED" and kinds[-1] == "SUCCEEDED", kinds
        progress = [e["progress"] for e in mine if e["kind"] == "PROGRESS"]
        assert progress and progress[-1]["done"] == 3 and progress[-1]["total"] == 3
        assert progress[-1]["message"] == "step 3"
        assert all(e["progress"] is None for e in mine if e["kind"] != "PROGRESS")
        assert {e["attempt"] for e in mine} == {1}
    cursors = [e["cursor"] for e in events]
    assert len(set(cursors)) == len(cursors)
    # And the item and the job show the progress through queries too
    fields = "progress { fraction done total } items { progress { done total message } }"
    record = job(client, job_id, fields)
    assert record["progress"] == {"fraction": 1.0, "done": 2, "total": 2}
    assert record["items"][0]["progress"] == {"done": 3, "total": 3, "message": "step 3"}


def test_a_subscriber_that_disconnects_and_resumes_misses_nothing(live):
    # Given a job of several items whose events a subscriber starts reading
    client = live.user()
    job_id = submit(client, "Steps", [{"steps": 4, "pause_s": 0.05}] * 6)
    live.start_executor()
    with _socket(live, client) as socket:
        socket.subscribe("e", EVENTS, {"id": job_id})
        first = _events(socket, "e", lambda events: events[-1]["kind"] == "PROGRESS")
    # When it disconnects while the job runs on, then resumes after its last cursor
    time.sleep(0.3)
    with _socket(live, client) as socket:
        socket.subscribe("e", EVENTS, {"id": job_id, "after": first[-1]["cursor"]})
        rest = _events(socket, "e", _all_final(6, first))
    # Then what it saw is exactly the whole stream, as a new subscriber replays it
    seen = first + rest
    with _socket(live, client) as socket:
        socket.subscribe("all", EVENTS, {"id": job_id})
        whole = _events(socket, "all", lambda events: len(events) == len(seen))
    assert seen == whole
    assert len({e["cursor"] for e in whole}) == len(whole)


def test_job_updated_sends_the_job_until_it_is_final(live):
    # Given a subscriber to a job that has not started
    client = live.user()
    job_id = submit(client, "Steps", [{"steps": 2, "pause_s": 0.1}] * 3)
    with _socket(live, client) as socket:
        socket.subscribe("u", UPDATED, {"id": job_id})
        first = socket.recv()
        # When it runs to the end
        live.start_executor()
        messages = socket.until("u", lambda m: m["type"] != "next")
    # Then the job came at once, again as it moved, and the stream completed when final
    assert first["type"] == "next"
    assert first["payload"]["data"]["jobUpdated"]["status"] == "queued"
    updates = [m["payload"]["data"]["jobUpdated"] for m in messages[:-1]]
    assert messages[-1] == {"id": "u", "type": "complete"}
    assert updates[-1]["status"] == "completed" and updates[-1]["completed"] == 3
    assert updates[-1]["progress"] == {"fraction": 1.0, "done": 3, "total": 3}
    fractions = [u["progress"]["fraction"] for u in updates]
    assert fractions == sorted(fractions) and len(updates) >= 2
    # And a subscription to a job that is final already sends it once and completes
    with _socket(live, client) as socket:
        socket.subscribe("again", UPDATED, {"id": job_id})
        again = socket.until("again", lambda m: m["type"] != "next")
    assert [m["type"] for m in again] == ["next", "complete"]


def test_a_handler_that_reports_impossible_progress_fails_its_attempt(live):
    client = live.user()
    job_id = submit(client, "Steps", {"steps": 1, "bad": True})
    with _socket(live, client) as socket:
        socket.subscribe("e", EVENTS, {"id": job_id})
        live.start_executor()
        events = _events(socket, "e", _all_final(1))
    assert [e["kind"] for e in events] == ["STARTED", "DEAD"]
    assert events[-1]["detail"] == "InvalidProgress: progress: done (3) is more than total (2)"
    record = job(client, job_id, "status items { status lastError progress { done } }")
    assert record["status"] == "failed"
    assert record["items"][0]["progress"] is None


def test_cancel_and_rerun_are_events_of_the_items_they_change(live):
    client = live.user()
    cancelled = submit(client, "Steps", [{"steps": 0}] * 2)
    dead = submit(client, "Steps", [{"steps": 0}] * 2)
    with live.db.connection_context(), live.db.atomic():
        run(live.db, "UPDATE items SET status = 'dead', attempts = 1 WHERE job_id = ?", (dead,))
    cancel = "mutation ($id: ID!) { cancelJob(id: $id) { id } }"
    rerun = "mutation ($id: ID!) { retryDeadItems(id: $id) { id } }"
    assert "errors" not in client.post(cancel, {"id": cancelled}).json
    assert "errors" not in client.post(rerun, {"id": dead}).json
    kinds = {}
    with _socket(live, client) as socket:
        for op, job_id in (("c", cancelled), ("r", dead)):
            socket.subscribe(op, EVENTS, {"id": job_id})
            events = _events(socket, op, lambda ev: len(ev) == 2)
            kinds[op] = [(e["kind"], e["itemIndex"], e["attempt"]) for e in events]
    assert sorted(kinds["c"]) == [("CANCELLED", 0, 0), ("CANCELLED", 1, 0)]
    assert sorted(kinds["r"]) == [("RERUN", 0, 1), ("RERUN", 1, 1)]
