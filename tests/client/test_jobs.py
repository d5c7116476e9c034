"""``workq.Client`` submitting and following jobs on a real local stack."""

from __future__ import annotations

import datetime as dt

import pytest

import workq
from tests.client.conftest import Running, fibonacci


def test_submit_one_item_and_wait_for_its_result(client: workq.Client) -> None:
    # Given one item submitted as a dict
    job = client.submit("Fibonacci", {"iterations": 10})
    assert (job.type, job.size, job.status) == ("Fibonacci", 1, "queued")
    assert job.created_at.tzinfo is dt.UTC and job.finished_at is None

    # When waited for
    done = client.wait(job.id, timeout_s=30)

    # Then it completed, and its item holds the result
    assert done.done and (done.status, done.completed) == ("completed", 1)
    assert done.finished_at is not None and done.finished_at >= done.created_at
    [item] = client.items(job.id)
    assert (item.index, item.status, item.attempts, item.result) == (
        0,
        "completed",
        1,
        {"value": "55"},
    )


def test_many_items_iterate_across_pages_with_results(client: workq.Client) -> None:
    # Given one job of 25 items
    job = client.submit("Fibonacci", [{"iterations": n} for n in range(25)])
    assert job.size == 25
    client.wait(job.id, timeout_s=30)

    # When its items are read ten at a time
    items = list(client.items(job.id, page_size=10))

    # Then every item comes once, in order, with its result
    assert [item.index for item in items] == list(range(25))
    assert [item.result["value"] for item in items] == [fibonacci(n) for n in range(25)]
    assert len(list(client.items(job.id, status="completed", page_size=7))) == 25
    assert list(client.items(job.id, status="dead")) == []


def test_the_same_idempotency_key_returns_the_same_job(client: workq.Client) -> None:
    first = client.submit("Fibonacci", [{"iterations": 3}], idempotency_key="batch-7")
    again = client.submit("Fibonacci", [{"iterations": 3}], idempotency_key="batch-7")
    other = client.submit("Fibonacci", [{"iterations": 3}], idempotency_key="batch-8")
    assert again.id == first.id
    assert other.id != first.id


def test_a_bad_item_names_the_item_and_the_field(client: workq.Client) -> None:
    # When the second item breaks the job type's schema
    with pytest.raises(workq.BadInput) as refused:
        client.submit("Fibonacci", [{"iterations": 1}, {"iterations": -1}])

    # Then the error says which item and which field, and nothing was stored
    assert (refused.value.item, refused.value.field) == (1, "iterations")
    assert refused.value.code == "BAD_USER_INPUT"
    assert "-1 is less than the minimum of 0" in str(refused.value)
    assert list(client.jobs()) == []


def test_an_unknown_job_type_is_bad_input_listing_the_known_ones(client: workq.Client) -> None:
    with pytest.raises(workq.BadInput, match=r"Unknown job type 'Fibonnaci'.*Fibonacci"):
        client.submit("Fibonnaci", {"iterations": 1})


def test_wait_times_out_naming_the_job_and_its_state(client: workq.Client) -> None:
    # Given a job that takes a second
    job = client.submit("Sleep", {"seconds": 1})

    # When waited for with too short a timeout
    with pytest.raises(workq.Timeout) as timed_out:
        client.wait(job.id, timeout_s=0.2, poll_s=0.05)

    # Then the error names the job and the state it was still in
    assert timed_out.value.job.id == job.id
    assert timed_out.value.job.status in ("queued", "running")
    assert str(timed_out.value).startswith(f"job {job.id} is still {timed_out.value.job.status}")
    # And a long enough wait sees it finish
    assert client.wait(job.id, timeout_s=30, poll_s=0.1).status == "completed"


def test_cancel_stops_what_has_not_started(client: workq.Client) -> None:
    # Given a job of many slow items
    job = client.submit("Sleep", [{"seconds": 0.2}] * 40)

    # When it is cancelled
    cancelled = client.cancel(job.id)

    # Then the waiting items are cancelled, and once the running ones finish so is the job
    assert cancelled.status in ("cancelling", "cancelled")
    assert cancelled.cancelled > 0 and cancelled.cancelled_at is not None
    final = client.wait(job.id, timeout_s=30, poll_s=0.1)
    assert final.status == "cancelled"
    assert final.cancelled + final.completed == 40
    with pytest.raises(workq.BadInput, match="cancelled"):
        client.retry_dead(job.id)


def test_retry_dead_runs_dead_items_again(client: workq.Client) -> None:
    # Given a job whose items fail on their only attempt
    job = client.wait(client.submit("AlwaysFails", [{}, {}]).id, timeout_s=30)
    assert (job.status, job.dead, job.failed) == ("failed", 2, 2)
    dead = list(client.items(job.id, status="dead"))
    assert [(i.attempts, i.max_attempts, i.error_type) for i in dead] == [(1, 1, "ValueError")] * 2
    assert dead[0].last_error is not None and "this job always fails" in dead[0].last_error

    # When its dead items are re-run
    retried = client.retry_dead(job.id)

    # Then they are queued with fresh attempts, and run (and die) again
    assert retried.dead == 0 and retried.finished_at is None
    again = client.wait(job.id, timeout_s=30)
    assert (again.status, again.dead) == ("failed", 2)
    assert [i.attempts for i in client.items(job.id)] == [1, 1]


def test_jobs_pages_newest_first_and_filters(client: workq.Client) -> None:
    # Given five jobs, two of another type
    ids = [client.submit("Fibonacci", {"iterations": n}).id for n in range(3)]
    ids += [client.submit("Sleep", {"seconds": 0}).id for _ in range(2)]
    for job_id in ids:
        client.wait(job_id, timeout_s=30)

    # When listed two at a time, then by type and status
    listed = [job.id for job in client.jobs(page_size=2)]
    fibonacci_jobs = [job.id for job in client.jobs(job_type="Fibonacci")]

    # Then every job comes once, newest first, and the filters hold
    assert listed == ids[::-1]
    assert fibonacci_jobs == ids[:3][::-1]
    assert [job.id for job in client.jobs(status="failed")] == []


def test_a_missing_job_is_job_not_found(client: workq.Client) -> None:
    for call in (
        client.job,
        client.cancel,
        client.retry_dead,
        lambda job_id: list(client.items(job_id)),
        lambda job_id: client.wait(job_id, timeout_s=1),
    ):
        with pytest.raises(workq.JobNotFound) as missing:
            call("00000000-0000-4000-8000-000000000000")
        assert missing.value.job_id == "00000000-0000-4000-8000-000000000000"
        assert missing.value.field == "id"
        assert "does not exist or is not yours" in str(missing.value)


def test_someone_elses_job_reads_as_missing(running: Running, client: workq.Client) -> None:
    job = client.submit("Fibonacci", {"iterations": 1})
    with workq.Client(running.jobs_url, running.auth_url) as other:
        other.create_user("other-" + job.id[:8] + "@example.com", "S3cret!pass-other")
        other.login("other-" + job.id[:8] + "@example.com", "S3cret!pass-other")
        with pytest.raises(workq.JobNotFound):
            other.job(job.id)
        with pytest.raises(workq.JobNotFound):
            other.cancel(job.id)


def test_to_dict_is_the_api_record(client: workq.Client) -> None:
    job = client.wait(client.submit("Fibonacci", {"iterations": 2}).id, timeout_s=30)
    record = job.to_dict()
    assert record["name"] == "Fibonacci" and record["createdAt"].endswith("Z")
    assert workq.Job.from_dict(record) == job
    document = "query ($id: ID!) { job(id: $id) { " + workq.Job.selection() + " } }"
    assert client.execute(document, {"id": job.id})["job"] == record


def test_run_at_holds_a_job_back_and_its_items_say_why(client: workq.Client) -> None:
    # Given a job to run in an hour, with a priority
    run_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    job = client.submit("Fibonacci", [{"iterations": 1}] * 2, run_at=run_at, priority=-3)

    # Then it is scheduled until then, and each item waits for exactly that
    assert (job.status, job.run_at, job.priority) == ("scheduled", run_at, -3)
    reasons = {(i.waiting_for.reason, i.waiting_for.until) for i in client.items(job.id)}
    assert reasons == {("SCHEDULED", run_at)}
    # And it can be cancelled while it waits
    assert client.cancel(job.id).status == "cancelled"
    assert {i.waiting_for.reason for i in client.items(job.id)} == {"CANCELLED"}


def test_a_short_delay_runs_the_job_after_it(client: workq.Client) -> None:
    job = client.submit("Fibonacci", {"iterations": 5}, delay_ms=300)

    done = client.wait(job.id, timeout_s=30, poll_s=0.1)

    [item] = client.items(job.id)
    assert done.status == "completed" and item.waiting_for is None
    assert job.run_at is not None and item.started_at is not None
    assert item.started_at >= job.run_at


def test_a_naive_run_at_is_refused_before_any_request(client: workq.Client) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.submit("Fibonacci", {"iterations": 1}, run_at=dt.datetime(2030, 1, 1))
    with pytest.raises(workq.BadInput) as refused:
        client.submit("Fibonacci", {"iterations": 1}, priority=99)
    assert refused.value.field == "priority"
