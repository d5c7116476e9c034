"""Firing on a real database: missed-run and overlap policies, idempotent runs, and skips.

Times are arranged by moving a schedule's ``next_run_at`` into the past, as
a scheduler finds it after downtime; the firing itself is the real code
path (row lock, submit_job, the advance in one transaction).
"""

from __future__ import annotations

import threading
from typing import Any

import peewee

from tests.jobs_service.conftest import EchoJob
from workq_core.config.sections import JobsSettings
from workq_core.db import connect
from workq_core.db.sql import now_ms, rows, run
from workq_core.jobs.quotas import QuotaGate
from workq_core.schedules import store
from workq_core.schedules.firing import Submitter, fire_due, fire_one
from workq_core.schedules.spec import schedule_spec
from workq_core.validation import validate_items

GRACE_MS = 5_000
MINUTE = 60_000


def echo_submitter(
    db: peewee.Database, installed: bool = True, gate: QuotaGate | None = None
) -> Submitter:
    """The jobs service's submitter for Echo: its checks, and a quota gate on ``db`` (the
    default quotas unless ``gate`` is given)."""

    def prepare(name: str, items: list[dict[str, Any]]) -> int:
        if not installed or name != "Echo":
            from workq_core.errors import JobTypeNotFound

            raise JobTypeNotFound(f"Unknown job type {name!r}; available: none.")
        validate_items(EchoJob(), items)
        return 2

    return Submitter(prepare, gate or QuotaGate(db, JobsSettings()))


def user(db: peewee.Database, email: str = "owner@example.com") -> int:
    run(db, "INSERT INTO users (email, password_hash) VALUES (?, 'x')", (email,))
    return int(rows(db, "SELECT id FROM users WHERE email = ?", (email,))[0]["id"])


def schedule(db: peewee.Database, owner: int, **fields: Any) -> store.ScheduleRecord:
    definition: dict[str, Any] = {"name": "s", "job_type": "Echo", "items": [{"text": "x"}]}
    definition.update(fields)
    if "cron" not in definition:
        definition.setdefault("interval_s", 60)
    return store.insert(db, owner, schedule_spec(**definition))


_used: set[int] = set()


def rewind(db: peewee.Database, record: store.ScheduleRecord, by_ms: int) -> int:
    """Make the schedule's next run about ``by_ms`` ago; returns that run time.

    Each call picks another millisecond, so two rewinds in a row are two runs.
    """
    at = now_ms() - by_ms
    while at in _used:
        at -= 1
    _used.add(at)
    run(db, "UPDATE schedules SET next_run_at = ? WHERE id = ?", (at, record.id))
    return at


def jobs_of(db: peewee.Database, record: store.ScheduleRecord) -> list[dict[str, Any]]:
    return rows(
        db,
        "SELECT id, user_id, type, size, idempotency_key FROM jobs WHERE idempotency_key LIKE ?"
        " ORDER BY idempotency_key",
        (f"schedule:{record.id}:%",),
    )


def run_times(db: peewee.Database, record: store.ScheduleRecord) -> list[int]:
    return sorted(int(job["idempotency_key"].rsplit(":", 1)[1]) for job in jobs_of(db, record))


def finish(db: peewee.Database, job_id: str) -> None:
    run(db, "UPDATE items SET status = 'completed' WHERE job_id = ?", (job_id,))


def test_a_due_run_submits_one_job_queued_for_admission_and_advances(db):
    owner = user(db)
    record = schedule(db, owner, items=[{"text": "a"}, {"text": "b"}])
    due = rewind(db, record, 1000)

    outcome = fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert len(outcome.submitted) == 1
    [job] = jobs_of(db, record)
    assert (job["user_id"], job["type"], job["size"]) == (owner, "Echo", 2)
    assert job["idempotency_key"] == f"schedule:{record.id}:{due}"
    # the job is the queue entry: admission publishes it (none of it is published yet)
    assert rows(db, "SELECT id FROM jobs WHERE published < size") == [{"id": job["id"]}]
    after = store.get(db, record.id)
    assert after is not None
    assert (after.last_run_at, after.last_job_id, after.runs) == (due, job["id"], 1)
    assert after.next_run_at == due + MINUTE  # the next run of the interval grid


def test_firing_again_or_concurrently_submits_each_run_once(db, database_url):
    record = schedule(db, user(db))
    rewind(db, record, 1000)
    others = [connect(database_url) for _ in range(4)]
    outcomes: list[Any] = []

    def fire(database: peewee.Database) -> None:
        with database.connection_context():
            outcomes.append(fire_one(database, echo_submitter(database), record.id, GRACE_MS))

    threads = [threading.Thread(target=fire, args=(d,)) for d in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(len(o.submitted) for o in outcomes) == [0, 0, 0, 1]
    assert len(jobs_of(db, record)) == 1
    assert fire_one(db, echo_submitter(db), record.id, GRACE_MS).submitted == []


def test_a_double_fire_of_the_same_run_is_one_job(db):
    """Even if next_run_at were set back to a run already fired, its key makes it one job."""
    record = schedule(db, user(db), overlap="ALLOW")
    due = rewind(db, record, 1000)
    first = fire_one(db, echo_submitter(db), record.id, GRACE_MS).submitted
    run(db, "UPDATE schedules SET next_run_at = ? WHERE id = ?", (due, record.id))

    second = fire_one(db, echo_submitter(db), record.id, GRACE_MS).submitted

    assert len(first) == 1 and second == [] and len(jobs_of(db, record)) == 1
    after = store.get(db, record.id)
    assert after is not None and after.runs == 1 and after.last_job_id == first[0]


def test_missed_runs_skip_fires_nothing_for_a_backlog_and_moves_to_the_future(db):
    record = schedule(db, user(db), missed="SKIP")
    rewind(db, record, 5 * MINUTE + 30_000)  # six runs missed, the newest 30 s ago

    outcome = fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert outcome.submitted == [] and outcome.skipped == 6
    after = store.get(db, record.id)
    assert after is not None and after.next_run_at > now_ms()
    assert after.skipped_runs == 6 and "missed" in (after.last_skip_reason or "")


def test_missed_runs_skip_still_fires_the_newest_run_if_within_the_grace_period(db):
    record = schedule(db, user(db), missed="SKIP")
    oldest = rewind(db, record, 2 * MINUTE + 1000)  # runs 121 s, 61 s and 1 s ago

    outcome = fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert (len(outcome.submitted), outcome.skipped) == (1, 2)
    assert run_times(db, record) == [oldest + 2 * MINUTE]


def test_missed_runs_run_once_fires_the_latest_missed_run_once(db):
    record = schedule(db, user(db), missed="RUN_ONCE")
    oldest = rewind(db, record, 5 * MINUTE + 30_000)

    fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert run_times(db, record) == [oldest + 5 * MINUTE]


def test_missed_runs_run_all_fires_each_missed_run_up_to_the_bound(db):
    record = schedule(db, user(db), missed="RUN_ALL", max_catch_up=4, overlap="ALLOW")
    oldest = rewind(db, record, 5 * MINUTE + 30_000)  # six runs due

    fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert run_times(db, record) == [oldest + k * MINUTE for k in (2, 3, 4, 5)]  # newest four
    after = store.get(db, record.id)
    assert after is not None and after.runs == 4 and after.next_run_at == oldest + 6 * MINUTE


def test_overlap_skip_waits_for_the_previous_runs_job_to_finish(db):
    record = schedule(db, user(db), overlap="SKIP")
    rewind(db, record, 1000)
    [first] = fire_one(db, echo_submitter(db), record.id, GRACE_MS).submitted

    rewind(db, record, 1000)
    skipped = fire_one(db, echo_submitter(db), record.id, GRACE_MS)
    finish(db, first)
    rewind(db, record, 1000)
    after_finish = fire_one(db, echo_submitter(db), record.id, GRACE_MS)

    assert skipped.submitted == [] and skipped.skipped == 1
    assert skipped.reason == f"the previous run's job {first} is unfinished"
    assert len(after_finish.submitted) == 1
    state = store.get(db, record.id)
    assert state is not None and (state.runs, state.skipped_runs) == (2, 1)
    assert state.last_skip_reason == skipped.reason  # kept by the runs after it


def test_overlap_allow_runs_beside_an_unfinished_job(db):
    record = schedule(db, user(db), overlap="ALLOW")
    for _ in range(2):
        rewind(db, record, 1000)
        fire_one(db, echo_submitter(db), record.id, GRACE_MS)
    assert len(jobs_of(db, record)) == 2


def test_a_paused_schedule_does_not_fire_and_resumes_from_now(db):
    owner = user(db)
    record = schedule(db, owner)
    viewer = store.Viewer(owner)
    store.set_paused(db, viewer, record.id, True)
    rewind(db, record, 10 * MINUTE)

    assert fire_due(db, echo_submitter(db), GRACE_MS) == 0
    resumed = store.set_paused(db, viewer, record.id, False)

    assert resumed.next_run_at > now_ms() and jobs_of(db, record) == []


def test_a_run_whose_job_type_is_gone_or_items_invalid_is_skipped_with_the_reason(db):
    record = schedule(db, user(db))
    rewind(db, record, 1000)

    outcome = fire_one(db, echo_submitter(db, installed=False), record.id, GRACE_MS)

    assert outcome.submitted == [] and "Unknown job type 'Echo'" in (outcome.reason or "")
    run(db, "UPDATE schedules SET data = ? WHERE id = ?", ('[{"text": 7}]', record.id))
    rewind(db, record, 1000)
    invalid = fire_one(db, echo_submitter(db), record.id, GRACE_MS)
    assert invalid.submitted == [] and "field 'text'" in (invalid.reason or "")
    after = store.get(db, record.id)
    assert after is not None and after.skipped_runs == 2 and after.next_run_at > now_ms()


def test_fire_due_fires_every_due_schedule_of_every_owner(db):
    alice, bob = user(db, "a@example.com"), user(db, "b@example.com")
    mine, theirs = schedule(db, alice), schedule(db, bob)
    not_due = schedule(db, bob, name="later")
    for record in (mine, theirs):
        rewind(db, record, 1000)

    assert fire_due(db, echo_submitter(db), GRACE_MS) == 2
    assert [j["user_id"] for j in jobs_of(db, mine)] == [alice]
    assert [j["user_id"] for j in jobs_of(db, theirs)] == [bob]
    assert jobs_of(db, not_due) == []
