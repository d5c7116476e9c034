"""Per-user submission quotas: one account cannot fill the queue for everyone.

Real auth and jobs services, no executor (items stay queued, so they count as
waiting until cancelled). A refused submission writes nothing; other users
are unaffected; the refusal names the quota, the limit and when to retry,
and the Python client raises workq.QuotaExceeded with the same.
"""

from __future__ import annotations

import time

import pytest

import workq
from tests.auth.conftest import PASSWORD
from tests.jobs_service.conftest import execute, submit

ITEM = {"iterations": 1}
TABLES = ("jobs", "items", "outbox")


def _tables(stack) -> dict[str, int]:
    return {table: stack.count(table) for table in TABLES}


def _away_from_a_minute_boundary() -> None:
    """The per-minute window is a clock minute: start a test well inside one."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def test_items_per_minute_refuses_the_submission_that_would_exceed_it(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_PER_MINUTE="5")
    _away_from_a_minute_boundary()
    alice, bob = stack.user(), stack.user()
    submit(alice, "Fibonacci", [ITEM] * 3)
    submit(alice, "Fibonacci", [ITEM] * 2)
    before = _tables(stack)

    refused = execute(alice, "Fibonacci", ITEM).json["errors"][0]

    assert refused["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert refused["extensions"]["quota"] == "itemsPerMinute"
    assert refused["extensions"]["limit"] == 5
    assert 0 < refused["extensions"]["retryAfterS"] <= 60
    assert "itemsPerMinute" in refused["message"]
    assert f"try again in {refused['extensions']['retryAfterS']} s" in refused["message"]
    assert _tables(stack) == before  # nothing of it stored
    submit(bob, "Fibonacci", [ITEM] * 5)  # another user has a quota of their own


def test_a_job_larger_than_the_per_minute_quota_says_to_split_it(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_PER_MINUTE="5")
    alice = stack.user()

    refused = execute(alice, "Fibonacci", [ITEM] * 6).json["errors"][0]

    assert refused["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert "smaller jobs" in refused["message"]
    assert stack.count("jobs") == 0


def test_items_waiting_frees_up_as_items_finish(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_WAITING="4")
    alice = stack.user()
    first = submit(alice, "Fibonacci", [ITEM] * 3)
    submit(alice, "Fibonacci", ITEM)
    before = _tables(stack)

    refused = execute(alice, "Fibonacci", ITEM).json["errors"][0]
    assert refused["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert refused["extensions"]["quota"] == "itemsWaiting"
    assert refused["extensions"]["limit"] == 4
    assert refused["extensions"]["retryAfterS"] >= 1
    assert _tables(stack) == before

    # When the first job's three items are cancelled (finished), after the retry time
    alice.post("mutation ($id: ID!) { cancelJob(id: $id) { id } }", {"id": first})
    time.sleep(refused["extensions"]["retryAfterS"] + 0.1)

    # Then three more fit, and no more
    submit(alice, "Fibonacci", [ITEM] * 3)
    assert execute(alice, "Fibonacci", ITEM).json["errors"][0]["extensions"]["code"] == (
        "QUOTA_EXCEEDED"
    )


def test_refused_and_repeated_submissions_use_no_quota(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_PER_MINUTE="4", WORKQ_JOBS_QUOTA_ITEMS_WAITING="4")
    _away_from_a_minute_boundary()
    alice = stack.user()
    submit(alice, "Fibonacci", [ITEM] * 2, key="once")

    bad = execute(alice, "Fibonacci", [ITEM, {"iterations": -1}]).json["errors"][0]
    again = execute(alice, "Fibonacci", [ITEM] * 2, key="once").json

    assert bad["extensions"]["code"] == "BAD_USER_INPUT"
    assert "errors" not in again  # the same job, charged once
    submit(alice, "Fibonacci", [ITEM] * 2)  # so exactly two more fit
    assert execute(alice, "Fibonacci", ITEM).json["errors"][0]["extensions"]["code"] == (
        "QUOTA_EXCEEDED"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_python_client_raises_quota_exceeded(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_WAITING="2")
    email = "quota@example.com"
    jobs_url = f"http://127.0.0.1:{stack.jobs.port}/graphql"
    auth_url = f"http://127.0.0.1:{stack.auth.http_port}/graphql"
    with workq.Client(jobs_url, auth_url) as client:
        client.create_user(email, PASSWORD)
        client.login(email, PASSWORD)
        client.submit("Fibonacci", [ITEM] * 2)
        with pytest.raises(workq.QuotaExceeded) as refused:
            client.submit("Fibonacci", ITEM)

    assert refused.value.code == "QUOTA_EXCEEDED"
    assert refused.value.quota == "itemsWaiting"
    assert refused.value.limit == 2
    assert refused.value.retry_after_s == 1
    assert isinstance(refused.value, workq.RateLimited)  # a caller that backs off on those
