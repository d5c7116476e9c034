"""Retention on both engines: old finished jobs go with everything that points at them; live and
recent ones stay; small batches; one purger at a time; the background task and ``workq purge``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import peewee
import pytest

from tests.executor.conftest import wait_for
from workq_core.config import RetentionSettings
from workq_core.db import leases, migrate
from workq_core.db.sql import now_ms, rows, run
from workq_core.errors import ConfigError
from workq_core.jobs.outbox import OutboxEntry, enqueue
from workq_core.jobs.submission import submit_job
from workq_core.retention.purge import purge_finished
from workq_core.retention.task import LEASE, RetentionTask, purge_once

DAY_MS = 86_400_000


@pytest.fixture
def store(db: peewee.Database) -> peewee.Database:
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES ('r@example.com', 'x')")
    return db


def make_job(
    db: peewee.Database,
    statuses: Sequence[str],
    age_days: float,
    finished_days: float | None = None,
) -> str:
    """A job with one item per status, submitted ``age_days`` ago, its items finished then too."""
    created = now_ms() - int(age_days * DAY_MS)
    finished = now_ms() - int((age_days if finished_days is None else finished_days) * DAY_MS)
    with db.connection_context():
        job_id = submit_job(
            db, user_id=1, job_type="Fibonacci", items=[{"n": i} for i in range(len(statuses))],
            max_attempts=3,
        ).job_id  # fmt: skip
        run(db, "UPDATE jobs SET created_at = ? WHERE id = ?", (created, job_id))
        run(db, "DELETE FROM outbox WHERE job_id = ?", (job_id,))  # published long ago
        for index, status in enumerate(statuses):
            done = finished if status in ("completed", "dead", "cancelled") else None
            run(
                db,
                "UPDATE items SET status = ?, finished_at = ? WHERE job_id = ? AND idx = ?",
                (status, done, job_id, index),
            )
    return job_id


def count(db: peewee.Database, sql: str, params: Sequence[Any] = ()) -> int:
    with db.connection_context():
        return int(rows(db, sql, params)[0]["n"])


def jobs_left(db: peewee.Database) -> set[str]:
    with db.connection_context():
        return {r["id"] for r in rows(db, "SELECT id FROM jobs")}


def test_old_finished_jobs_go_with_their_items_and_live_or_recent_ones_stay(store) -> None:
    # Given old finished jobs, an old job still running, and a recently finished one
    old = [
        make_job(store, ["completed", "completed", "completed"], age_days=40),
        make_job(store, ["dead", "cancelled", "completed"], age_days=31),
    ]
    live = make_job(store, ["completed", "queued", "retrying"], age_days=45)
    running = make_job(store, ["running"], age_days=60)
    recent = make_job(store, ["completed"], age_days=40, finished_days=2)  # finished lately
    # and an old job's retry row still in the outbox
    with store.connection_context():
        item = rows(store, "SELECT id FROM items WHERE job_id = ?", (old[1],))[0]["id"]
        enqueue(store, [OutboxEntry(old[1], "Fibonacci", now_ms(), item)], now_ms())

    # When finished jobs older than 30 days are purged, two items per transaction
    with store.connection_context():
        result = purge_finished(store, now_ms() - 30 * DAY_MS, batch_size=2)

    # Then exactly the old finished jobs are gone, with every row that pointed at them
    assert (result.jobs, result.items) == (2, 6)
    assert jobs_left(store) == {live, running, recent}
    marks = ", ".join("?" * len(old))
    assert count(store, f"SELECT COUNT(*) AS n FROM items WHERE job_id IN ({marks})", old) == 0
    assert count(store, "SELECT COUNT(*) AS n FROM outbox") == 0
    assert count(store, "SELECT COUNT(*) AS n FROM items") == 5
    # And a second purge finds nothing more
    with store.connection_context():
        assert purge_finished(store, now_ms() - 30 * DAY_MS).jobs == 0


def test_rows_of_other_tables_that_reference_items_or_jobs_are_deleted_first(store) -> None:
    # Given a table another feature added, pointing at items and jobs with foreign keys
    with store.connection_context():
        run(
            store,
            "CREATE TABLE item_notes (job_id VARCHAR(36) REFERENCES jobs (id),"
            " item_id BIGINT REFERENCES items (id), note TEXT)",
        )
    old = make_job(store, ["completed", "dead"], age_days=90)
    kept = make_job(store, ["completed"], age_days=1)
    with store.connection_context():
        for job_id in (old, kept):
            for item in rows(store, "SELECT id FROM items WHERE job_id = ?", (job_id,)):
                run(
                    store,
                    "INSERT INTO item_notes (job_id, item_id, note) VALUES (?, ?, 'n')",
                    (job_id, item["id"]),
                )

    # When old jobs are purged (the foreign keys would refuse to orphan the notes)
    with store.connection_context():
        assert purge_finished(store, now_ms() - 30 * DAY_MS, batch_size=1).jobs == 1

    # Then the old job's notes went with it; the kept job's note stays
    assert count(store, "SELECT COUNT(*) AS n FROM item_notes WHERE job_id = ?", (old,)) == 0
    assert count(store, "SELECT COUNT(*) AS n FROM item_notes WHERE job_id = ?", (kept,)) == 1


def test_a_purged_jobs_item_events_go_with_it(store) -> None:
    from workq_core.jobs import event_log
    from workq_core.jobs.event_log import NewEvent

    # Given an old and a recent finished job, each with its items' events
    old = make_job(store, ["completed", "dead"], age_days=90)
    kept = make_job(store, ["completed"], age_days=1)
    with store.connection_context():
        events = [NewEvent(old, i, event_log.STARTED, 1, now_ms()) for i in range(2)]
        event_log.append(store, [*events, NewEvent(kept, 0, event_log.STARTED, 1, now_ms())])

    # When old jobs are purged
    with store.connection_context():
        assert purge_finished(store, now_ms() - 30 * DAY_MS).jobs == 1

    # Then the event log keeps only the kept job's events: it does not grow without bound
    with store.connection_context():
        left = rows(store, "SELECT job_id FROM item_events")
    assert left == [{"job_id": kept}]


def test_only_one_purger_at_a_time_holds_the_retention_lease(store) -> None:
    make_job(store, ["completed"], age_days=40)
    settings = RetentionSettings()
    # Given another replica holds the retention lease
    with store.connection_context():
        assert leases.acquire(store, LEASE, "other-replica", 60_000)
    # Then a purge here does nothing
    assert purge_once(store, settings, settings.max_age_ms, "me") is None
    assert len(jobs_left(store)) == 1
    # Once it is released, the purge runs and gives the lease back
    with store.connection_context():
        leases.release(store, LEASE, "other-replica")
    result = purge_once(store, settings, settings.max_age_ms, "me")
    assert result is not None and result.jobs == 1
    with store.connection_context():
        assert leases.acquire(store, LEASE, "third", 1000)


def test_max_age_zero_keeps_everything() -> None:
    settings = RetentionSettings(max_age="0")
    assert settings.max_age_ms == 0


@pytest.mark.parametrize("bad", ["30 days", "-1d", "d", "1y"])
def test_a_bad_max_age_is_a_config_error_naming_the_setting(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"retention\.max_age: expected a duration"):
        RetentionSettings(max_age=bad)


def test_the_background_task_purges_on_start(store) -> None:
    old = make_job(store, ["completed"], age_days=40)
    live = make_job(store, ["queued"], age_days=40)
    task = RetentionTask(store, RetentionSettings(max_age="30d", interval_s=3600)).start()
    try:
        wait_for(lambda: old not in jobs_left(store), timeout_s=20)
    finally:
        task.stop()
    assert jobs_left(store) == {live}


def test_workq_purge_deletes_old_finished_jobs_and_reports(tmp_path) -> None:
    # Given a SQLite database with an old finished job and a recent one
    url = f"sqlite:///{tmp_path / 'workq.db'}"
    from workq_core.db import connect

    db = connect(url)
    migrate(db)
    with db.connection_context():
        run(db, "INSERT INTO users (email, password_hash) VALUES ('r@example.com', 'x')")
    old = make_job(db, ["completed", "dead"], age_days=10)
    recent = make_job(db, ["completed"], age_days=0.5)
    db.close()

    # When an operator purges what finished more than a week ago
    done = purge_command(url, "--older-than", "7d")

    # Then it says what it deleted, and only the recent job is left
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deleted 1 finished jobs (2 items) finished before ")
    assert jobs_left(connect(url)) == {recent}
    assert old not in jobs_left(connect(url))

    # And a malformed duration is refused, naming the flag
    bad = purge_command(url, "--older-than", "a week")
    assert bad.returncode == 2
    assert "--older-than: expected a duration such as 30d" in bad.stderr


def purge_command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", "purge", "--log-level", "WARNING", *args],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_workq_config_shows_the_retention_settings(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workq_entrypoints", "config", "--json"],
        env={"PATH": "/usr/bin:/bin", "WORKQ_RETENTION_MAX_AGE": "14d"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shown = {row["key"]: row for row in json.loads(done.stdout)}
    assert shown["retention.max_age"]["value"] == "14d"
    assert shown["retention.max_age"]["source"] == "env WORKQ_RETENTION_MAX_AGE"
    assert shown["retention.interval_s"]["value"] == 3600.0


def test_a_job_revived_during_the_purge_is_left_alone(store) -> None:
    # Given an old finished job whose dead item a user re-runs just as the purge reaches it
    revived = make_job(store, ["dead", "completed"], age_days=40)

    def rerun_then_keep_lease() -> bool:
        run(store, "UPDATE items SET status = 'queued' WHERE job_id = ? AND idx = 0", (revived,))
        return True

    # When the purge gets to it
    with store.connection_context():
        result = purge_finished(store, now_ms() - 30 * DAY_MS, renew=rerun_then_keep_lease)

    # Then the job and both its items are still there
    assert result.jobs == 0
    assert count(store, "SELECT COUNT(*) AS n FROM items WHERE job_id = ?", (revived,)) == 2


def test_a_purge_that_lost_its_lease_stops_before_deleting_more(store) -> None:
    make_job(store, ["completed"], age_days=40)
    with store.connection_context():
        result = purge_finished(store, now_ms() - 30 * DAY_MS, renew=lambda: False)
    assert result.jobs == 0 and len(jobs_left(store)) == 1
