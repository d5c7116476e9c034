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
# (outbox rows are only of stored jobs; the relay deletes them as it publishes)
TABLES = ("jobs", "items")


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_job_larger_than_the_per_minute_quota_says_to_split_it(make_stack):
    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_PER_MINUTE="5")
    alice = stack.user()

    refused = execute(alice, "Fibonacci", [ITEM] * 6).json["errors"][0]

    assert refused["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert "smaller jobs" in refused["message"]
    assert stack.count("jobs") == 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
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
        mine = client.my_quota()

    assert refused.value.code == "QUOTA_EXCEEDED"
    assert refused.value.quota == "itemsWaiting"
    assert refused.value.limit == 2
    assert refused.value.retry_after_s == 1
    assert isinstance(refused.value, workq.RateLimited)  # a caller that backs off on those
    assert (mine.items_waiting, mine.items_waiting_source, mine.waiting) == (2, "CONFIGURED", 2)


QUOTA_FIELDS = (
    "userId itemsPerMinute itemsWaiting itemsPerMinuteSource itemsWaitingSource"
    " usedThisMinute waiting"
)
MY_QUOTA = "{ myQuota { " + QUOTA_FIELDS + " } }"
SET_QUOTA = (
    "mutation ($user: ID!, $perMinute: Int, $waiting: Int) {"
    " setUserQuota(userId: $user, itemsPerMinute: $perMinute, itemsWaiting: $waiting) { "
    + QUOTA_FIELDS
    + " } }"
)


def _my_quota(client) -> dict:
    response = client.post(MY_QUOTA)
    assert "errors" not in response.json, response.json
    return response.json["data"]["myQuota"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_gives_one_user_quotas_of_their_own(make_stack):
    from tests.jobs_service.test_limits import admin

    stack = make_stack(WORKQ_JOBS_QUOTA_ITEMS_WAITING="100")
    _away_from_a_minute_boundary()
    boss, alice, bob = admin(stack), stack.user(), stack.user()
    submit(alice, "Fibonacci", [ITEM] * 2)
    alice_id = _my_quota(alice)["userId"]

    # When an admin lowers alice's waiting quota (and leaves her per-minute one alone)
    changed = boss.post(SET_QUOTA, {"user": alice_id, "waiting": 3}).json
    assert changed["data"]["setUserQuota"] == {
        "userId": alice_id,
        "itemsPerMinute": 1_000_000,
        "itemsWaiting": 3,
        "itemsPerMinuteSource": "CONFIGURED",
        "itemsWaitingSource": "USER",
        "usedThisMinute": 2,
        "waiting": 2,
    }

    # Then her next two items do not fit, while bob keeps the configured quota
    refused = execute(alice, "Fibonacci", [ITEM] * 2).json["errors"][0]["extensions"]
    assert (refused["quota"], refused["limit"]) == ("itemsWaiting", 3)
    submit(bob, "Fibonacci", [ITEM] * 50)
    # and null gives her the configured quota back
    reset = boss.post(SET_QUOTA, {"user": alice_id, "waiting": None}).json["data"]
    assert reset["setUserQuota"]["itemsWaitingSource"] == "CONFIGURED"
    time.sleep(1.1)  # the refusal's recount is at most once a second
    submit(alice, "Fibonacci", [ITEM] * 2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_admins_change_or_read_others_quotas(make_stack):
    stack = make_stack()
    alice, mallory = stack.user(), stack.user()
    alice_id = _my_quota(alice)["userId"]

    changed = mallory.post(SET_QUOTA, {"user": alice_id, "waiting": 0}).json["errors"][0]
    read = mallory.post(
        "query ($u: ID!) { userQuota(userId: $u) { waiting } }", {"u": alice_id}
    ).json["errors"][0]

    by_email = mallory.post('{ userQuota(email: "nobody@example.com") { waiting } }').json

    assert changed["extensions"]["code"] == "FORBIDDEN"
    assert changed["message"] == "Only an admin may change quotas."
    assert read["extensions"]["code"] == "FORBIDDEN"
    # not BAD_USER_INPUT: who has an account is not told to a non-admin
    assert by_email["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stack.count("user_quotas") == 0  # nothing changed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_admin_is_told_what_was_wrong_with_an_override(make_stack):
    from tests.jobs_service.test_limits import admin

    stack = make_stack()
    boss = admin(stack)

    negative = boss.post(SET_QUOTA, {"user": _my_quota(boss)["userId"], "perMinute": -1})
    missing = boss.post(SET_QUOTA, {"user": "999999", "waiting": 5})
    garbage = boss.post(SET_QUOTA, {"user": "1 OR 1=1", "waiting": 5})

    assert negative.json["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "items_per_minute",
    }
    read_missing = boss.post('{ userQuota(userId: "999999") { waiting } }')
    both = boss.post('{ userQuota(userId: "1", email: "a@example.com") { waiting } }')
    neither = boss.post("{ userQuota { waiting } }")
    unknown_email = boss.post(
        'mutation { setUserQuota(email: "nobody@example.com", itemsWaiting: 5) { waiting } }'
    )

    for refused in (missing, garbage, read_missing, both, neither):
        assert refused.json["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "userId",
        }
    assert "exactly one of userId and email" in both.json["errors"][0]["message"]
    assert unknown_email.json["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "email",
    }
    assert stack.count("user_quotas") == 0
