"""Schedules' runs are charged to their owner's quotas, in the firing transaction.

The firing is the real code path on both engines (row lock, quota charge,
submit_job, the advance in one transaction); the quota gate has a clock the
tests hold still, so the per-minute window does not turn over mid-test.
"""

from __future__ import annotations

import logging
from pathlib import Path

import peewee
import pytest

from tests.jobs_service.conftest import submit
from tests.schedules.conftest import FAST
from tests.schedules.test_firing import (
    GRACE_MS,
    MINUTE,
    echo_submitter,
    jobs_of,
    rewind,
    schedule,
    user,
)
from tests.schedules.test_scheduler import every_second, wait_until
from workq_core.config.sections import JobsSettings
from workq_core.db.sql import now_ms, rows, run
from workq_core.jobs.quotas import MINUTE_MS, QuotaGate
from workq_core.jobs_service.quota_admin import UserRef, set_override
from workq_core.schedules import store
from workq_core.schedules.firing import fire_one

DOCS_PAGES = ("quotas.md", "schedules.md")
START = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE_MS + 1_000  # just inside a minute
ITEMS = [{"text": "x"}, {"text": "y"}]
DOCS = [(Path(__file__).parents[2] / "docs" / page).read_text() for page in DOCS_PAGES]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


def gate(db: peewee.Database, clock: Clock, per_minute: int = 0, waiting: int = 0) -> QuotaGate:
    settings = JobsSettings(quota_items_per_minute=per_minute, quota_items_waiting=waiting)
    return QuotaGate(db, settings, clock=clock)


def backlog(db: peewee.Database, owner: int, runs: int, items: list | None = None):
    """A schedule of ``items`` with ``runs`` runs due, each of which RUN_ALL fires."""
    record = schedule(
        db, owner, items=items or ITEMS, missed="RUN_ALL", max_catch_up=runs, overlap="ALLOW"
    )
    rewind(db, record, (runs - 1) * MINUTE + 1000)
    return record


def usage(db: peewee.Database, user_id: int) -> dict:
    found = rows(
        db, "SELECT window_items, waiting_bound FROM user_quotas WHERE user_id = ?", (user_id,)
    )
    return found[0] if found else {"window_items": 0, "waiting_bound": 0}


def test_runs_beyond_the_owners_items_waiting_are_skipped_naming_the_quota(db, caplog):
    # Given an owner who may have 5 items waiting, and a schedule of 2 items with 4 runs due
    owner, other = user(db, "owner@example.com"), user(db, "other@example.com")
    quotas = gate(db, Clock(), waiting=5)
    record = backlog(db, owner, runs=4)

    # When it fires
    caplog.set_level(logging.WARNING, logger="workq_core.schedules.firing")
    outcome = fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)

    # Then the two runs that fit are submitted, the other two skipped with the reason
    assert (len(outcome.submitted), outcome.skipped) == (2, 2)
    assert [job["size"] for job in jobs_of(db, record)] == [2, 2]
    reason = "quota itemsWaiting exceeded (the owner's limit: 5 items not finished);"
    assert outcome.reason == f"{reason} this run's 2 items were not submitted"
    assert all(outcome.reason in doc for doc in DOCS)  # the example the docs show
    [logged] = [r for r in caplog.records if r.getMessage() == "schedule runs skipped"]
    assert (logged.schedule_id, logged.skipped, logged.reason) == (record.id, 2, outcome.reason)
    after = store.get(db, record.id)
    assert after is not None and (after.runs, after.skipped_runs) == (2, 2)
    assert after.last_skip_reason == outcome.reason and after.next_run_at > now_ms()
    assert after.last_job_id == outcome.submitted[-1]
    assert usage(db, owner)["waiting_bound"] == 4  # charged exactly the runs stored
    # and another user's submissions are charged to their own quota
    with quotas.charged(other, 5) as spent:
        spent.keep = True


def test_runs_beyond_the_owners_items_per_minute_wait_for_the_next_minute(db):
    owner = user(db)
    clock = Clock()
    quotas = gate(db, clock, per_minute=3)
    record = backlog(db, owner, runs=4, items=[{"text": "x"}])

    outcome = fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)

    assert (len(outcome.submitted), outcome.skipped) == (3, 1)
    assert "quota itemsPerMinute exceeded (the owner's limit: 3 items per minute)" in (
        outcome.reason or ""
    )
    rewind(db, record, 1000)
    assert fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS).skipped == 1
    clock.now += MINUTE_MS  # a new minute: the next run fits
    rewind(db, record, 1000)
    assert len(fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS).submitted) == 1
    after = store.get(db, record.id)
    assert after is not None and (after.runs, after.skipped_runs) == (4, 2)


def test_an_admins_raised_quota_lets_the_next_runs_through(db):
    owner = user(db)
    admin = user(db, "admin@example.com")
    run(db, "UPDATE users SET role = 'admin' WHERE id = ?", (admin,))
    settings = JobsSettings(quota_items_waiting=2)
    quotas = QuotaGate(db, settings, clock=Clock())
    record = backlog(db, owner, runs=3)
    assert fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS).skipped == 2

    set_override(db, settings, admin, UserRef(user_id=str(owner)), {"items_waiting": 6})
    rewind(db, record, MINUTE + 1000)  # two runs due
    outcome = fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)

    assert (len(outcome.submitted), outcome.skipped) == (2, 0)
    assert [job["size"] for job in jobs_of(db, record)] == [2, 2, 2]


def test_a_run_not_stored_leaves_nothing_charged(db):
    """A repeat of a stored run, or a firing transaction rolled back, is no charge."""
    owner = user(db)
    quotas = gate(db, Clock(), per_minute=1_000)  # executeJob would reserve 10 ahead
    record = schedule(db, owner, items=ITEMS, overlap="ALLOW")
    due = rewind(db, record, 1000)

    with db.atomic() as outer:  # the firing's transaction, then rolled back
        assert len(fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS).submitted)
        outer.rollback()
    assert usage(db, owner) == {"window_items": 0, "waiting_bound": 0}
    assert jobs_of(db, record) == []

    fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)
    run(db, "UPDATE schedules SET next_run_at = ? WHERE id = ?", (due, record.id))
    repeat = fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)

    assert repeat.submitted == [] and len(jobs_of(db, record)) == 1
    assert usage(db, owner) == {"window_items": 2, "waiting_bound": 2}  # the one run, exactly


def test_a_refused_run_is_not_retried_and_the_schedule_moves_on(db):
    owner = user(db)
    quotas = gate(db, Clock(), per_minute=1)
    record = schedule(db, owner, items=ITEMS)  # 2 items: more than the whole minute's quota
    rewind(db, record, 1000)

    outcome = fire_one(db, echo_submitter(db, gate=quotas), record.id, GRACE_MS)

    assert (outcome.submitted, outcome.skipped) == ([], 1)
    assert outcome.reason is not None and outcome.reason.endswith("no run of it can fit)")
    assert jobs_of(db, record) == []
    after = store.get(db, record.id)
    assert after is not None and after.next_run_at > now_ms() and after.skipped_runs == 1
    assert quotas.charge(owner, 1).items == 1  # the refused run used none of the quota


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_running_jobs_services_scheduler_charges_the_owners_quota(make_stack):
    # Given a jobs service (no executor: items stay waiting) where each user may have 2 waiting
    stack = make_stack(**FAST, WORKQ_JOBS_QUOTA_ITEMS_WAITING="2")
    alice, bob = stack.user(), stack.user()

    # When alice's schedule of 2 items runs every second
    schedule_id = every_second(alice, "flood", data=[{"text": "a"}, {"text": "b"}])

    # Then its first run is submitted and the next ones are skipped, naming the quota
    def skipped() -> dict | None:
        found = stack.sql(
            "SELECT runs, skipped_runs, last_skip_reason FROM schedules WHERE id = ?",
            (schedule_id,),
        )[0]
        return found if found["skipped_runs"] >= 2 else None

    state = wait_until(skipped, 10, "two runs skipped")
    assert state["runs"] == 1
    assert "quota itemsWaiting exceeded (the owner's limit: 2 items" in state["last_skip_reason"]
    assert stack.count("items") == 2
    submit(bob, "Echo", [{"text": "b"}, {"text": "b"}])  # bob's quota is his own
