"""A dead item whose dead letter was never sent and whose message the broker lost.

An item is committed dead before its dead letter is published. If its
executor dies in between and the broker never redelivers the message (a
pulsar-lite defect with SIGKILLed consumers), only the sweep can bring it
back: it re-publishes such an item once its lease ran out, and the claim
sends the dead letter, once.
"""

from __future__ import annotations

import time

import pytest

from tests.executor.conftest import wait_for
from tests.executor.test_dead_letter_faults import dead_letters
from tests.support.brokers import GENUINE, LITE
from workq_core.db import migrate
from workq_core.db.sql import now_ms, rows, run
from workq_core.jobs.submission import submit_job
from workq_core.jobs.sweeper import recover_expired_leases

LEASE_MS = 1000
_DEAD_SQL = (
    "UPDATE items SET status = 'dead', attempts = max_attempts, claimed_at = ?,"
    " error_type = 'RuntimeError', last_error = 'RuntimeError: boom', finished_at = ?,"
    " lease_expires_at = ?, dead_lettered_at = ?, updated_at = ? WHERE job_id = ? AND idx = ?"
)


def make_dead(db, job_id: str, index: int, *, lease_left_ms: int, recorded: bool) -> None:
    """Commit item ``index`` dead, as its last attempt's outcome did ``2 * LEASE_MS`` ago.

    Its lease ends ``lease_left_ms`` from now (negative: it ran out); a
    ``recorded`` one has its dead letter recorded, which clears the lease.
    """
    now = now_ms()
    then = now - 2 * LEASE_MS
    lease = None if recorded else now + lease_left_ms
    recorded_at = then if recorded else None
    run(db, _DEAD_SQL, (then - 10, then, lease, recorded_at, then, job_id, index))


def lost_job(db, user_id: int, size: int) -> str:
    """A committed Fibonacci job, admitted and published, whose messages the broker lost."""
    job_id = submit_job(
        db, user_id=user_id, job_type="Fibonacci", items=[{"iterations": 1}] * size, max_attempts=2
    ).job_id
    run(db, "UPDATE jobs SET published = size, admitted_at = ? WHERE id = ?", (now_ms(), job_id))
    run(db, "UPDATE items SET published_at = ? WHERE job_id = ?", (now_ms(), job_id))
    return job_id


def swept_items(db, job_id: str) -> list[int]:
    """Indices of the job's items the sweep queued for re-publishing."""
    found = rows(
        db,
        "SELECT i.idx FROM outbox o JOIN items i ON i.id = o.item_id WHERE i.job_id = ?"
        " ORDER BY i.idx",
        (job_id,),
    )
    return [int(r["idx"]) for r in found]


def test_the_sweep_queues_a_dead_item_only_while_its_dead_letter_is_unsent_and_unleased(db):
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES (?, ?)", ("d@example.com", "x"))
        (user,) = rows(db, "SELECT id FROM users")
        # Given dead items: unrecorded with the lease run out, recorded, and
        # unrecorded while an executor still holds its lease (sending it now)
        job_id = lost_job(db, int(user["id"]), 3)
        make_dead(db, job_id, 0, lease_left_ms=-LEASE_MS, recorded=False)
        make_dead(db, job_id, 1, lease_left_ms=0, recorded=True)
        make_dead(db, job_id, 2, lease_left_ms=60_000, recorded=False)

        # When the sweep looks for expired leases
        assert recover_expired_leases(db, LEASE_MS) == 1

        # Then only the first item is queued for re-publishing
        assert swept_items(db, job_id) == [0]
        # and once per lease: a sweep right after its publish leaves it alone
        run(db, "DELETE FROM outbox WHERE job_id = ?", (job_id,))  # as the relay does
        assert recover_expired_leases(db, LEASE_MS) == 0


CASES = [
    pytest.param(LITE, "sqlite", id="lite-sqlite"),
    pytest.param(LITE, "postgres", id="lite-postgres"),
    pytest.param(GENUINE, "postgres", id="pulsar-postgres"),
]


@pytest.mark.parametrize(("broker", "database_url"), CASES, indirect=True)
def test_a_dead_item_whose_message_was_lost_is_dead_lettered_exactly_once(make_pipeline):
    pipeline = make_pipeline(WORKQ_EXECUTOR_LEASE_S=str(LEASE_MS // 1000))
    # Given a dead item whose executor died before sending its dead letter,
    # the lease run out and no message in the broker, beside one recorded
    with pipeline.db.connection_context():
        job_id = lost_job(pipeline.db, pipeline.user_id, 2)
        make_dead(pipeline.db, job_id, 0, lease_left_ms=-LEASE_MS, recorded=False)
        make_dead(pipeline.db, job_id, 1, lease_left_ms=0, recorded=True)
    recorded_before = pipeline.items(job_id)[1]

    # When an executor and a sweeping relay run
    pipeline.start_executor()
    pipeline.start_relay()

    # Then the unsent dead letter is sent and recorded
    wait_for(lambda: pipeline.items(job_id)[0]["dead_lettered_at"], 30)
    time.sleep(3 * LEASE_MS / 1000)  # sweeps that could repeat it (one a second)
    unsent, recorded = pipeline.items(job_id)
    assert (unsent["status"], unsent["lease_expires_at"]) == ("dead", None)
    # and it is in the dead-letter topic once; the recorded one was never re-published
    assert dead_letters(pipeline) == [0]
    assert recorded == recorded_before  # a re-publish would have touched it
