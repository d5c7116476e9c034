"""Tables that must not grow forever: heartbeat rows of executors that died without cleaning up."""

from __future__ import annotations

import peewee
import pytest

from workq_core.db import migrate
from workq_core.db.sql import now_ms, rows, run
from workq_core.executor.heartbeat import STALE_MS, Heartbeat


@pytest.fixture
def store(db: peewee.Database) -> peewee.Database:
    migrate(db)
    return db


def test_an_executor_start_removes_the_rows_of_executors_that_died_long_ago(store) -> None:
    # Given heartbeat rows of an executor killed an hour ago and of one alive a minute ago
    insert = (
        "INSERT INTO executors (id, job_types, started_at, heartbeat_at, ran_dry_at)"
        " VALUES (?, '[]', ?, ?, ?)"
    )
    long_dead = now_ms() - STALE_MS - 1000
    recent = now_ms() - 60_000
    with store.connection_context():
        run(store, insert, ("killed", long_dead, long_dead, long_dead))
        run(store, insert, ("paused", recent, recent, recent))

    # When an executor starts beating
    heartbeat = Heartbeat(store, ["Fibonacci"], now_ms).start()
    try:
        with store.connection_context():
            ids = {r["id"] for r in rows(store, "SELECT id FROM executors")}
    finally:
        heartbeat.stop()

    # Then the dead one's row is gone; the recent one's stays (the sweep judges it by age)
    assert ids == {"paused", heartbeat.id}
