"""``workq.Client`` reading and (as an admin) changing limits that a real executor obeys."""

from __future__ import annotations

import itertools

import pytest

import workq
from tests.client.conftest import Running, make_admin


def test_an_admins_limit_holds_items_back_one_at_a_time(
    running: Running, email: str, client: workq.Client
) -> None:
    # Given an admin limits Sleep to one running item
    make_admin(running, email)
    shown = client.set_limits("Sleep", [workq.Limit(concurrency=1)])
    assert shown.source == "override" and shown.limits == (workq.Limit(concurrency=1),)
    assert client.limits("Sleep") == [shown]

    # When three items are submitted
    job = client.submit("Sleep", [{"seconds": 0.2}] * 3)
    client.wait(job.id, timeout_s=30)

    # Then they ran one after the other, each once
    items = sorted(client.items(job.id), key=lambda i: i.started_at)
    assert [i.attempts for i in items] == [1, 1, 1]
    for before, after in itertools.pairwise(items):
        assert before.finished_at <= after.started_at

    # And resetting them gives the declared limits (none) back
    reset = client.set_limits("Sleep", None)
    assert (reset.source, reset.limits, reset.updated_at) == ("declared", (), None)


def test_only_an_admin_may_change_limits(client: workq.Client) -> None:
    with pytest.raises(workq.Forbidden):
        client.set_limits("Sleep", [workq.Limit(concurrency=1)])
    assert client.limits("Sleep")[0].source == "declared"


def test_a_limit_the_server_refuses_is_bad_input_on_limits(
    running: Running, email: str, client: workq.Client
) -> None:
    make_admin(running, email)
    with pytest.raises(workq.BadInput) as refused:
        client.set_limits("Sleep", [workq.Limit(key="seconds", concurrency=1)])
    assert refused.value.field == "limits" and "JSON pointer" in str(refused.value)
