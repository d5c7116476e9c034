"""One user against another's job: every answer matches a missing id, and nothing changes.

tests/jobs_service/test_access.py shows job, cancelJob and retryDeadItems on
another user's queued job answer like a missing id. Here the victim's job has
dead and completed items (so a re-run or a cancel would change rows), the
attacker also tries listings, filters, cursors and item pages, and the whole
jobs/items/outbox state is compared before and after.
"""

from __future__ import annotations

import uuid

from tests.executor.conftest import wait_for
from tests.jobs_service.conftest import JOB_FIELDS, submit
from workq_core.db.sql import run

OPERATIONS = {
    "job": "query ($id: ID!) { job(id: $id) { "
    + JOB_FIELDS
    + " items { index status result lastError } } }",
    "cancelJob": "mutation ($id: ID!) { cancelJob(id: $id) { id status } }",
    "retryDeadItems": "mutation ($id: ID!) { retryDeadItems(id: $id) { id status } }",
}


def _snapshot(stack) -> list[list[dict]]:
    return [
        stack.sql("SELECT * FROM jobs ORDER BY id"),
        stack.sql("SELECT * FROM items ORDER BY job_id, idx"),
        stack.sql("SELECT job_id, item_id, job_type FROM outbox ORDER BY id"),
    ]


def test_another_users_job_is_invisible_and_unchangeable(stack):
    # Given alice's job with a completed, a dead and a queued item
    alice, mallory = stack.user(), stack.user()
    job_id = submit(alice, "Fibonacci", [{"iterations": 1}, {"iterations": 2}, {"iterations": 3}])
    # admitted by the relay (all of it published), so nothing changes the rows but mallory
    wait_for(lambda: stack.sql("SELECT id FROM jobs WHERE published = size") != [])
    with stack.db.connection_context(), stack.db.atomic():
        run(
            stack.db,
            "UPDATE items SET status = 'completed', result = '{\"value\": \"1\"}'"
            " WHERE job_id = ? AND idx = 0",
            (job_id,),
        )
        run(
            stack.db,
            "UPDATE items SET status = 'dead', attempts = 5, last_error = 'secret'"
            " WHERE job_id = ? AND idx = 1",
            (job_id,),
        )
        run(stack.db, "DELETE FROM outbox")
    before = _snapshot(stack)
    missing = str(uuid.uuid4())

    # When mallory reads, cancels and re-runs it, and the same for a missing id
    theirs = {name: mallory.post(doc, {"id": job_id}).json for name, doc in OPERATIONS.items()}
    absent = {name: mallory.post(doc, {"id": missing}).json for name, doc in OPERATIONS.items()}
    upper = {
        name: mallory.post(doc, {"id": job_id.upper()}).json for name, doc in OPERATIONS.items()
    }
    listed = mallory.post("{ myJobs(first: 100) { nodes { id } nextCursor } }").json
    by_type = mallory.post('{ myJobs(type: "Fibonacci", status: "failed") { nodes { id } } }').json

    # Then every answer is the missing-id answer, and not one row changed
    assert theirs == absent == upper
    assert theirs["job"] == {"data": {"job": None}}
    assert theirs["cancelJob"]["errors"][0]["message"] == "No such job."
    assert listed == {"data": {"myJobs": {"nodes": [], "nextCursor": None}}}
    assert by_type == {"data": {"myJobs": {"nodes": []}}}
    assert "secret" not in str([theirs, absent, listed, by_type])
    assert _snapshot(stack) == before
    # And alice still sees and controls her job (the probe is not vacuous)
    mine = alice.post(OPERATIONS["retryDeadItems"], {"id": job_id}).json
    assert mine["data"]["retryDeadItems"]["id"] == job_id
