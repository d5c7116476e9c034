"""Claiming a batch in the database: one counted attempt per item, whatever the batch holds.

A crash charges an attempt only to the items whose handler was running.
"""

from __future__ import annotations

import time

from workq_core.db import migrate
from workq_core.db.sql import now_ms, rows, run
from workq_core.executor.attempts import (
    Outcome,
    Verdict,
    claim,
    mark_running,
    mark_started,
    record,
)
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
        mark_started(db, [first])  # it was running
        time.sleep(0.01)

        # When one batch holds two copies of its message (a redelivery beside a re-publish)
        ref = ItemRef(job_id, int(item["id"]), 0, 1)
        claims = claim(db, [ref, ref], lease_ms=60_000)

        # Then the first runs it and the second is settled: one more attempt, not two
        assert [c.verdict for c in claims] == [Verdict.RUN, Verdict.SETTLED]
        assert claims[0].attempt == 2
        (after,) = rows(db, "SELECT status, attempts FROM items WHERE id = ?", (item["id"],))
        assert after == {"status": "running", "attempts": 2}


def _batch(db, size: int) -> tuple[str, list[ItemRef]]:
    migrate(db)
    run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", ("b@example.com", "x"))
    (user,) = rows(db, "SELECT id FROM users")
    items = [{"n": n} for n in range(size)]
    job_id = submit_job(db, user_id=user["id"], job_type="Echo", items=items, max_attempts=2).job_id
    found = rows(db, "SELECT id, idx FROM items WHERE job_id = ? ORDER BY idx", (job_id,))
    return job_id, [ItemRef(job_id, int(i["id"]), int(i["idx"]), 0) for i in found]


def _attempts(db, job_id: str) -> list[int]:
    found = rows(db, "SELECT attempts FROM items WHERE job_id = ? ORDER BY idx", (job_id,))
    return [int(i["attempts"]) for i in found]


def _crash(db, refs, lease_ms=1):
    """Claim ``refs`` under a lease that runs out at once, as an executor that then dies."""
    claims = claim(db, refs, lease_ms=lease_ms)
    time.sleep(0.01)
    return claims


def test_a_first_crash_charges_no_item_and_marks_the_recovered_ones(db):
    with db.connection_context():
        # Given a batch of four claimed by an executor that died running item 1
        job_id, refs = _batch(db, 4)
        first = _crash(db, refs)
        assert [(c.attempt, c.recovered) for c in first] == [(1, False)] * 4

        # When another executor claims them
        again = claim(db, refs, lease_ms=60_000)

        # Then none was charged (nothing says which one ran), and each is now recovered
        assert [(c.verdict, c.attempt, c.recovered) for c in again] == [(Verdict.RUN, 1, True)] * 4
        assert _attempts(db, job_id) == [1, 1, 1, 1]


def test_a_crash_among_recovered_items_charges_only_the_one_running(db):
    with db.connection_context():
        # Given a recovered batch of four whose thread ran item 0, then started item 1
        job_id, refs = _batch(db, 4)
        _crash(db, refs)
        claims = _crash(db, refs)
        mark_running(db, claims[0], None, now_ms())
        mark_running(db, claims[1], claims[0], now_ms())

        # When its executor dies there too (nothing committed)
        again = claim(db, refs, lease_ms=60_000)

        # Then only item 1 runs as attempt 2; the finished and the waiting ones keep attempt 1
        assert [c.verdict for c in again] == [Verdict.RUN] * 4
        assert [c.attempt for c in again] == [1, 2, 1, 1]
        assert _attempts(db, job_id) == [1, 2, 1, 1]


def test_an_item_that_crashes_its_executor_every_time_is_still_dead_lettered(db):
    with db.connection_context():
        # Given an item of two attempts whose handler kills its executor each time
        _job_id, refs = _batch(db, 1)
        verdicts = []
        for _ in range(4):
            (c,) = _crash(db, refs)
            verdicts.append(c.verdict)
            if c.verdict is Verdict.RUN:
                mark_running(db, c, None, now_ms())

        # Then after one free crash it ran its two counted attempts and is dead
        assert verdicts == [Verdict.RUN, Verdict.RUN, Verdict.RUN, Verdict.DEAD_LETTER]
        (item,) = rows(db, "SELECT status, attempts FROM items WHERE id = ?", (refs[0].item_id,))
        assert item == {"status": "dead", "attempts": 2}


def test_an_attempt_marked_started_counts_when_it_is_taken_over(db):
    with db.connection_context():
        # Given an attempt whose stalled handler the renewer gave up on (or released at shutdown)
        job_id, refs = _batch(db, 2)
        claims = _crash(db, refs)
        mark_started(db, claims[:1])

        # When another executor takes the items over, the marked one's attempt counted
        assert [c.attempt for c in claim(db, refs, lease_ms=60_000)] == [2, 1]
        assert _attempts(db, job_id) == [2, 1]


def test_a_frozen_claimer_cannot_commit_over_the_claim_that_replaced_it(db):
    with db.connection_context():
        # Given an item claimed, then frozen before its handler ran until its lease ran out
        job_id, refs = _batch(db, 1)
        (frozen,) = claim(db, refs, lease_ms=1)
        time.sleep(0.01)
        # and claimed again by another executor, under the same attempt number
        (taken,) = claim(db, refs, lease_ms=60_000)
        assert taken.attempt == frozen.attempt == 1
        assert taken.claimed_at != frozen.claimed_at

        # When the frozen one wakes and commits its outcome
        owned = record(db, [Outcome(frozen, result_json="1")])

        # Then it does not own the item; the new claim still does
        assert owned == [False]
        assert record(db, [Outcome(taken, result_json="2")]) == [True]
        (item,) = rows(db, "SELECT status, result FROM items WHERE job_id = ?", (job_id,))
        assert item == {"status": "completed", "result": "2"}
