"""Claiming a batch in the database: one counted attempt per item, whatever the batch holds."""

from __future__ import annotations

import time

from workq_core.db import migrate
from workq_core.db.sql import rows, run
from workq_core.executor.attempts import Verdict, claim
from workq_core.jobs.messages import ItemRef
from workq_core.jobs.submission import submit_job


def test_two_copies_of_one_items_message_in_a_batch_count_one_attempt(db):
    # Given an item whose executor died mid-attempt: running, its lease run out
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", ("c@example.com", "x"))
        (user,) = rows(db, "SELECT id FROM users")
        job_id = submit_job(
            db, user_id=user["id"], job_type="Echo", items=[{"n": 1}], max_attempts=3
        ).job_id
        (item,) = rows(db, "SELECT id FROM items WHERE job_id = ?", (job_id,))
        (first,) = claim(db, [ItemRef(job_id, int(item["id"]), 0, 0)], lease_ms=1)
        assert first.verdict is Verdict.RUN
        time.sleep(0.01)

        # When one batch holds two copies of its message (a redelivery beside a re-publish)
        ref = ItemRef(job_id, int(item["id"]), 0, 1)
        claims = claim(db, [ref, ref], lease_ms=60_000)

        # Then the first runs it and the second is settled: one more attempt, not two
        assert [c.verdict for c in claims] == [Verdict.RUN, Verdict.SETTLED]
        assert claims[0].attempt == 2
        (after,) = rows(db, "SELECT status, attempts FROM items WHERE id = ?", (item["id"],))
        assert after == {"status": "running", "attempts": 2}
