"""runAt, delayMs and priority on executeJob, and each reason Item.waitingFor gives.

No executor runs here: the stack's relay publishes, nothing consumes, and a
live executor is an ``executors`` heartbeat row arranged by the test, which
is exactly what waitingFor reads.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from tests.executor.conftest import wait_for
from tests.jobs_service.conftest import job
from workq_core.db.sql import now_ms, run
from workq_core.jobs_service.views import iso

WAITING = "items { index status waitingFor { reason until detail } }"


def submit_with(client, data, **order):
    document = (
        "mutation ($input: ExecuteJobInput!) { executeJob(executeJobInput: $input) {"
        " id status runAt priority } }"
    )
    return client.post(document, {"input": {"name": "Fibonacci", "data": data, **order}})


def submitted(client, data, **order) -> dict:
    response = submit_with(client, data, **order)
    assert "errors" not in response.json, response.json
    return response.json["data"]["executeJob"]


def waits(client, job_id: str) -> list[dict]:
    return job(client, job_id, WAITING)["items"]


def live_executor(stack, job_types=("Fibonacci",)) -> None:
    """A heartbeat row, as a live executor serving ``job_types`` writes it."""
    now = now_ms()
    with stack.db.connection_context(), stack.db.atomic():
        run(
            stack.db,
            "INSERT INTO executors (id, job_types, started_at, heartbeat_at, ran_dry_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (f"test-{now}", json.dumps(list(job_types)), now, now + 60_000, 0),
        )


def in_an_hour() -> str:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    return moment.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()


def test_a_job_with_run_at_is_scheduled_until_then_and_its_items_say_so(stack):
    client = stack.user()
    run_at = in_an_hour()

    record = submitted(client, [{"iterations": 1}] * 2, runAt=run_at, priority=3)

    expected = iso(int(dt.datetime.fromisoformat(run_at).timestamp() * 1000))
    assert (record["status"], record["runAt"], record["priority"]) == ("scheduled", expected, 3)
    assert [item["waitingFor"]["reason"] for item in waits(client, record["id"])] == [
        "SCHEDULED",
        "SCHEDULED",
    ]
    assert waits(client, record["id"])[0]["waitingFor"]["until"] == expected
    listed = client.post('{ myJobs(status: "scheduled") { nodes { id } } }').json
    assert listed["data"]["myJobs"]["nodes"] == [{"id": record["id"]}]
    queued = client.post('{ myJobs(status: "queued") { nodes { id } } }').json
    assert queued["data"]["myJobs"]["nodes"] == []


def test_delay_ms_sets_run_at_that_far_ahead(stack):
    client = stack.user()
    before = now_ms()

    record = submitted(client, {"iterations": 1}, delayMs=90_000)

    run_at = int(dt.datetime.fromisoformat(record["runAt"]).timestamp() * 1000)
    assert before + 90_000 <= run_at <= now_ms() + 90_000
    assert (record["status"], record["priority"]) == ("scheduled", 0)


BAD_ORDERS = [
    ({"runAt": "2030-01-01T09:00:00"}, "runAt", "no UTC offset"),
    ({"runAt": "next tuesday"}, "runAt", "not an ISO-8601"),
    ({"runAt": "2020-01-01T00:00:00Z"}, "runAt", "in the past"),
    ({"runAt": "2999-01-01T00:00:00Z"}, "runAt", "366 days"),
    ({"delayMs": -1}, "delayMs", "whole number"),
    ({"delayMs": 1.5}, "delayMs", "whole number"),
    ({"delayMs": 40_000_000_000}, "delayMs", "whole number"),
    ({"delayMs": 10, "runAt": "2030-01-01T09:00:00Z"}, "delayMs", "not both"),
    ({"priority": 11}, "priority", "from -10 to 10"),
    ({"priority": -11}, "priority", "from -10 to 10"),
]


def test_a_bad_order_field_is_named_and_nothing_is_stored(stack):
    client = stack.user()
    for order, field, words in BAD_ORDERS:
        response = submit_with(client, {"iterations": 1}, **order)

        error = response.json["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", order
        assert error["extensions"]["field"] == field, order
        assert words in error["message"], order
    assert stack.count("jobs") == 0


def test_waiting_for_names_no_executor_then_a_free_executor_once_published(stack):
    client = stack.user()
    job_id = submitted(client, {"iterations": 1})["id"]

    [item] = waits(client, job_id)
    assert item["waitingFor"]["reason"] == "NO_EXECUTOR"
    assert "Fibonacci" in item["waitingFor"]["detail"]

    live_executor(stack)
    wait_for(lambda: stack.sql("SELECT published_at FROM items")[0]["published_at"])
    [item] = waits(client, job_id)
    assert item["waitingFor"]["reason"] == "WAITING_FOR_EXECUTOR"
    assert item["waitingFor"]["until"] is None


def test_waiting_for_names_higher_priority_work_and_the_full_window(make_stack):
    # Given a live executor and a window of 2 already full of normal-priority work
    stack = make_stack(WORKQ_EXECUTOR_PUBLISH_WINDOW="2")
    live_executor(stack)
    client = stack.user()
    normal = submitted(client, [{"iterations": 1}] * 4)["id"]
    wait_for(lambda: len(stack.sql("SELECT id FROM items WHERE published_at IS NOT NULL")) == 2)

    # When urgent work arrives
    urgent = submitted(client, [{"iterations": 1}] * 2, priority=5)["id"]
    time.sleep(0.3)  # relay cycles: the window stays full, nothing more is published

    # Then the unpublished normal items wait behind it, and it waits for room
    reasons = [item["waitingFor"]["reason"] for item in waits(client, normal)]
    assert reasons == ["WAITING_FOR_EXECUTOR"] * 2 + ["BEHIND_HIGHER_PRIORITY"] * 2
    assert "2 items" in waits(client, normal)[3]["waitingFor"]["detail"]
    urgent_waits = [item["waitingFor"] for item in waits(client, urgent)]
    assert [w["reason"] for w in urgent_waits] == ["QUEUED_BEHIND_OTHERS"] * 2
    assert "2 of at most 2" in urgent_waits[0]["detail"]


def test_waiting_for_names_retry_backoff_and_cancelled_and_not_running_items(stack):
    client = stack.user()
    live_executor(stack)
    job_id = submitted(client, [{"iterations": 1}] * 3)["id"]
    due = now_ms() + 30_000
    with stack.db.connection_context(), stack.db.atomic():  # as an executor leaves them
        run(
            stack.db,
            "UPDATE items SET status = 'retrying', attempts = 1, next_attempt_at = ?"
            " WHERE job_id = ? AND idx = 0",
            (due, job_id),
        )
        run(stack.db, "UPDATE items SET status = 'running' WHERE job_id = ? AND idx = 1", (job_id,))

    backoff, running, _queued = waits(client, job_id)
    assert backoff["waitingFor"]["reason"] == "RETRY_BACKOFF"
    assert backoff["waitingFor"]["until"] == iso(due)
    assert running["waitingFor"] is None

    client.post("mutation ($id: ID!) { cancelJob(id: $id) { id } }", {"id": job_id})
    after = [item["waitingFor"] for item in waits(client, job_id)]
    assert [w and w["reason"] for w in after] == ["CANCELLED", None, "CANCELLED"]
