"""Following jobs: one job's record and items, cancelling, re-running dead items."""

from __future__ import annotations

import re

from tests.jobs_service.conftest import job, submit
from workq_core.db.sql import run
from workq_core.jobs.messages import decode

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _set(stack, job_id: str, indexes: list[int], **columns) -> None:
    """Arrange item state directly, as an executor would have left it."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    marks = ", ".join("?" * len(indexes))
    with stack.db.connection_context(), stack.db.atomic():
        run(
            stack.db,
            f"UPDATE items SET {assignments} WHERE job_id = ? AND idx IN ({marks})",
            (*columns.values(), job_id, *indexes),
        )


def _drain(receiver, count: int) -> set[int]:
    seen: set[int] = set()
    while len(seen) < count:
        delivery = receiver.receive(timeout_s=10)
        assert delivery is not None, f"only {len(seen)} of {count} messages arrived"
        seen.add(decode(delivery.payload, delivery.properties).index)
        receiver.ack(delivery)
    return seen


def test_a_job_record_counts_items_by_status(stack):
    client = stack.user()
    job_id = submit(client, "Fibonacci", [{"iterations": n} for n in range(6)])
    _set(
        stack,
        job_id,
        [0],
        status="completed",
        attempts=1,
        result='{"value": "0"}',
        started_at=1_700_000_000_000,
        finished_at=1_700_000_000_500,
    )
    _set(stack, job_id, [1], status="running", attempts=1)
    _set(
        stack,
        job_id,
        [2],
        status="retrying",
        attempts=1,
        error_type="ValueError",
        last_error="boom",
    )
    _set(stack, job_id, [3], status="dead", attempts=5, error_type="ValueError", last_error="boom")

    record = job(client, job_id)

    assert record["status"] == "running"
    counts = {k: record[k] for k in ("queued", "running", "retrying", "completed", "dead")}
    assert counts == {"queued": 2, "running": 1, "retrying": 1, "completed": 1, "dead": 1}
    assert (record["failed"], record["cancelled"], record["size"]) == (2, 0, 6)
    assert ISO.match(record["createdAt"]) and ISO.match(record["updatedAt"])
    assert record["finishedAt"] is None and record["cancelledAt"] is None
    items = job(
        client,
        job_id,
        "items(first: 2) { index status attempts result startedAt finishedAt errorType lastError }",
    )["items"]
    assert items[0] == {
        "index": 0,
        "status": "completed",
        "attempts": 1,
        "result": {"value": "0"},
        "startedAt": "2023-11-14T22:13:20.000Z",
        "finishedAt": "2023-11-14T22:13:20.500Z",
        "errorType": None,
        "lastError": None,
    }
    dead = job(client, job_id, 'items(status: "dead") { index errorType lastError }')["items"]
    assert dead == [{"index": 3, "errorType": "ValueError", "lastError": "boom"}]
    offset = job(client, job_id, "items(first: 2, offset: 4) { index }")["items"]
    assert offset == [{"index": 4}, {"index": 5}]


def test_finished_jobs_have_a_finish_time(stack):
    client = stack.user()
    job_id = submit(client, "Fibonacci", [{"iterations": 1}, {"iterations": 2}])
    _set(stack, job_id, [0, 1], status="completed", finished_at=1_700_000_000_000)

    record = job(client, job_id, "status finishedAt completed")

    assert record == {
        "status": "completed",
        "finishedAt": "2023-11-14T22:13:20.000Z",
        "completed": 2,
    }


def test_cancel_stops_waiting_items_and_lets_running_ones_finish(stack):
    client = stack.user()
    job_id = submit(client, "Fibonacci", [{"iterations": n} for n in range(5)])
    _set(stack, job_id, [0], status="running", attempts=1)
    _set(stack, job_id, [1], status="retrying", attempts=1)

    cancelled = client.post(
        "mutation ($id: ID!) { cancelJob(id: $id) { status cancelled running cancelledAt } }",
        {"id": job_id},
    ).json["data"]["cancelJob"]
    again = client.post(
        "mutation ($id: ID!) { cancelJob(id: $id) { cancelledAt } }", {"id": job_id}
    ).json["data"]["cancelJob"]

    assert (cancelled["status"], cancelled["cancelled"], cancelled["running"]) == (
        "cancelling",
        4,
        1,
    )
    assert ISO.match(cancelled["cancelledAt"])
    assert again["cancelledAt"] == cancelled["cancelledAt"]  # cancelling twice changes nothing
    stored = stack.sql("SELECT cancelled_at FROM jobs WHERE id = ?", (job_id,))
    assert stored[0]["cancelled_at"] is not None
    _set(stack, job_id, [0], status="completed")
    assert job(client, job_id, "status")["status"] == "cancelled"


def test_retry_dead_items_queues_them_again_and_publishes_them(stack):
    client = stack.user()
    receiver = stack.subscribe("Fibonacci")
    job_id = submit(client, "Fibonacci", [{"iterations": n} for n in range(4)])
    assert _drain(receiver, 4) == {0, 1, 2, 3}
    _set(
        stack,
        job_id,
        [0, 3],
        status="dead",
        attempts=5,
        last_error="boom",
        dead_lettered_at=1,
        finished_at=2,
    )
    _set(stack, job_id, [1, 2], status="completed", attempts=1, finished_at=2)
    assert job(client, job_id, "status")["status"] == "failed"

    retried = client.post(
        "mutation ($id: ID!) { retryDeadItems(id: $id) { status dead queued completed"
        ' items(status: "queued") { index attempts finishedAt } } }',
        {"id": job_id},
    ).json["data"]["retryDeadItems"]

    assert (retried["status"], retried["dead"], retried["queued"], retried["completed"]) == (
        "running",
        0,
        2,
        2,
    )
    assert retried["items"] == [
        {"index": 0, "attempts": 0, "finishedAt": None},
        {"index": 3, "attempts": 0, "finishedAt": None},
    ]
    assert _drain(receiver, 2) == {0, 3}
    assert receiver.receive(timeout_s=0.5) is None  # completed items are not re-run


def test_retry_without_dead_items_changes_nothing(stack):
    client = stack.user()
    job_id = submit(client, "Fibonacci", {"iterations": 1})

    retried = client.post(
        "mutation ($id: ID!) { retryDeadItems(id: $id) { queued } }", {"id": job_id}
    )

    assert retried.json["data"]["retryDeadItems"] == {"queued": 1}
    # A re-run is one outbox row per item; admission's own rows carry an index range.
    assert stack.sql("SELECT id FROM outbox WHERE item_id IS NOT NULL") == []
