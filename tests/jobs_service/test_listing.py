"""``myJobs``: the user's jobs, newest first, keyset pages, filtered by status and type."""

from __future__ import annotations

from tests.jobs_service.conftest import submit
from tests.jobs_service.test_tracking import _set

PAGE = (
    "query ($first: Int, $after: String, $status: String, $type: String) {"
    " myJobs(first: $first, after: $after, status: $status, type: $type)"
    " { nodes { id name status } nextCursor } }"
)


def _page(client, **variables):
    response = client.post(PAGE, variables)
    assert "errors" not in response.json, response.json
    return response.json["data"]["myJobs"]


def _all_ids(client, **filters) -> list[str]:
    ids, after = [], None
    while True:
        page = _page(client, first=2, after=after, **filters)
        ids += [node["id"] for node in page["nodes"]]
        after = page["nextCursor"]
        if after is None:
            return ids


def test_pages_walk_every_job_newest_first_and_only_the_users_own(stack):
    alice, bob = stack.user(), stack.user()
    mine = [submit(alice, "Fibonacci", {"iterations": n}) for n in range(5)]
    submit(bob, "Fibonacci", {"iterations": 1})

    first = _page(alice, first=2)

    assert [n["id"] for n in first["nodes"]] == mine[::-1][:2]
    assert _all_ids(alice) == mine[::-1]
    assert _page(alice, first=5)["nextCursor"] is None
    assert len(_page(bob)["nodes"]) == 1


def test_filters_by_type_and_by_status(stack):
    client = stack.user()
    fib = [submit(client, "Fibonacci", [{"iterations": 1}, {"iterations": 2}]) for _ in range(5)]
    echo = submit(client, "Echo", {"text": "hi"})
    queued, running, completed, failed, cancelled = fib
    _set(stack, running, [0], status="running")
    _set(stack, completed, [0, 1], status="completed")
    _set(stack, failed, [0], status="completed")
    _set(stack, failed, [1], status="dead")
    client.post("mutation ($id: ID!) { cancelJob(id: $id) { id } }", {"id": cancelled})

    assert _all_ids(client, type="Echo") == [echo]
    assert _all_ids(client, type="Fibonacci") == fib[::-1]
    expected = {
        "queued": [echo, queued],
        "running": [running],
        "completed": [completed],
        "failed": [failed],
        "cancelled": [cancelled],
        "cancelling": [],
    }
    for status, ids in expected.items():
        assert _all_ids(client, status=status) == ids, status
        assert {n["status"] for n in _page(client, status=status)["nodes"]} <= {status}
    assert _all_ids(client, status="queued", type="Fibonacci") == [queued]


def test_bad_arguments_are_the_clients_error(stack):
    client = stack.user()

    for variables in (
        {"status": "sleeping"},
        {"after": "not-a-cursor"},
        {"first": 0},
        {"first": 101},
    ):
        response = client.post(PAGE, variables)
        assert response.code == "BAD_USER_INPUT", variables
