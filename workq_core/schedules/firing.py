"""Firing due schedules: each run is one submission, committed with the schedule's advance.

Due schedules are fired a batch per transaction. For each, the transaction
locks its row, re-reads it (another scheduler may have fired it meanwhile),
decides which runs to submit (the missed-run and overlap policies), charges
each to the owner's quotas and submits it through
:func:`workq_core.jobs.submission.submit_job` with the idempotency key
``schedule:<id>:<run ms>``, and moves ``next_run_at`` past now. Jobs, items,
outbox rows, quota charges and the advance commit together, or none of them
does, and a run fired twice anyway is one job (charged once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from workq_core.db.sql import now_ms, rows, run, write_transaction
from workq_core.errors import InvalidPayload, JobTypeNotFound, QuotaExceeded
from workq_core.faults import IN_SCHEDULE_FIRE, fault_point
from workq_core.jobs.quotas import PER_MINUTE, QuotaGate
from workq_core.jobs.states import FINAL
from workq_core.jobs.submission import submit_job
from workq_core.schedules import store
from workq_core.schedules.spec import ALLOW, RUN_ALL, RUN_ONCE, ScheduleRecord

logger = logging.getLogger(__name__)

BATCH = 20
# SKIP counts the runs it skips by walking back over them: at most this many per outage.
SKIP_COUNT_LIMIT = 1000
MISSED_REASON = "missed while no scheduler ran (missedRuns SKIP)"
_DUE_SQL = (
    "SELECT id FROM schedules WHERE paused_at IS NULL AND next_run_at <= ?"
    " ORDER BY next_run_at LIMIT ?"
)
_UNFINISHED_SQL = "SELECT 1 AS x FROM items WHERE job_id = ? AND status NOT IN (?, ?, ?) LIMIT 1"
_ADVANCE_SQL = (
    "UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_job_id = ?, runs = runs + ?,"
    " skipped_runs = skipped_runs + ?, last_skip_reason = COALESCE(?, last_skip_reason),"
    " updated_at = ? WHERE id = ?"
)


@dataclass(frozen=True)
class Submitter:
    """How a run becomes a job: the job type's checks, its attempts and the owner's quotas.

    ``prepare(job_type, items)`` validates the items against the installed job
    type and returns ``max_attempts``, raising JobTypeNotFound or InvalidPayload.
    ``quotas`` is the jobs service's quota gate; each run is charged to the
    owner in the firing transaction, exactly (``reserve=False``), so that a
    rollback of the transaction takes the charge back with the run.
    """

    prepare: Callable[[str, list[dict[str, Any]]], int]
    quotas: QuotaGate


@dataclass
class Outcome:
    """What one schedule's turn did: the jobs it submitted, the runs it skipped and why."""

    submitted: list[str] = field(default_factory=list)
    skipped: int = 0
    reason: str | None = None
    schedule: ScheduleRecord | None = None  # None: not due any more when its turn came
    runs: list[int] = field(default_factory=list)
    fired_at: int = 0


def fire_due(db: peewee.Database, submitter: Submitter, grace_ms: int) -> int:
    """Fire every due schedule, a batch per transaction; returns how many jobs were submitted."""
    submitted = 0
    while True:
        due = [r["id"] for r in rows(db, _DUE_SQL, (now_ms(), BATCH))]
        if due:
            submitted += sum(len(o.submitted) for o in fire_batch(db, submitter, due, grace_ms))
        if len(due) < BATCH:
            return submitted


def next_due_at(db: peewee.Database) -> int | None:
    """When the earliest unpaused schedule is due, or None when there is none."""
    found = rows(db, "SELECT MIN(next_run_at) AS at FROM schedules WHERE paused_at IS NULL")
    at = found[0]["at"] if found else None
    return None if at is None else int(at)


def fire_one(db: peewee.Database, submitter: Submitter, schedule_id: str, grace_ms: int) -> Outcome:
    """One schedule's due runs, in a transaction of its own."""
    return fire_batch(db, submitter, [schedule_id], grace_ms)[0]


def fire_batch(
    db: peewee.Database, submitter: Submitter, schedule_ids: Sequence[str], grace_ms: int
) -> list[Outcome]:
    """Several schedules' due runs in one transaction: one commit, however many runs.

    Commits dominate the cost of a run on PostgreSQL, so schedules due at
    the same moment fire together rather than one commit after another.
    """
    with write_transaction(db):
        outcomes = [_fire_locked(db, submitter, sid, grace_ms) for sid in schedule_ids]
    for outcome in outcomes:
        _log(outcome)
    return outcomes


def _fire_locked(
    db: peewee.Database, submitter: Submitter, schedule_id: str, grace_ms: int
) -> Outcome:
    """In the caller's transaction: lock, re-read, submit the runs, advance (module docstring)."""
    now = now_ms()
    record = store.locked_if_due(db, schedule_id, now)
    if record is None:
        return Outcome()  # fired by another scheduler, paused or deleted meanwhile
    runs, following, missed = _runs_to_fire(record, now, grace_ms)
    outcome = Outcome(skipped=missed, reason=MISSED_REASON if missed else None)
    outcome.schedule, outcome.runs, outcome.fired_at = record, runs, now
    last_run, last_job = record.last_run_at, record.last_job_id
    for run_at in runs:
        job_id = _submit_run(db, submitter, record, run_at, last_job, outcome)
        if job_id is not None:
            last_run, last_job = run_at, job_id
    fault_point(IN_SCHEDULE_FIRE)
    params = (following, last_run, last_job, len(outcome.submitted), outcome.skipped)
    run(db, _ADVANCE_SQL, (*params, outcome.reason, now, schedule_id))
    return outcome


def _runs_to_fire(record: ScheduleRecord, now: int, grace_ms: int) -> tuple[list[int], int, int]:
    """``(runs, next run, runs skipped as missed)`` by the missed-run policy.

    A run is missed when it is older than ``grace_ms`` at firing time. SKIP
    fires only a run that is not missed; RUN_ONCE fires the latest due run
    once for the whole backlog; RUN_ALL fires each due run, the newest
    ``max_catch_up`` of them.
    """
    limit = {RUN_ALL: record.max_catch_up, RUN_ONCE: 1}.get(record.missed, SKIP_COUNT_LIMIT)
    runs, following = record.cadence.due(record.next_run_at, now, limit)
    if record.missed in (RUN_ALL, RUN_ONCE):
        return runs, following, 0
    on_time = [at for at in runs[-1:] if now - at <= grace_ms]
    return on_time, following, len(runs) - len(on_time)


def _submit_run(
    db: peewee.Database,
    submitter: Submitter,
    record: ScheduleRecord,
    run_at: int,
    previous_job: str | None,
    outcome: Outcome,
) -> str | None:
    """Submit one run, or count it skipped (overlap, job type gone, items no longer valid,
    the owner's quota full)."""
    if record.overlap != ALLOW and previous_job is not None and _unfinished(db, previous_job):
        outcome.skipped += 1
        outcome.reason = f"the previous run's job {previous_job} is unfinished"
        return None
    try:
        max_attempts = submitter.prepare(record.job_type, record.data)
        with submitter.quotas.charged(record.user_id, len(record.data), reserve=False) as spent:
            submitted = submit_job(
                db,
                user_id=record.user_id,
                job_type=record.job_type,
                items=record.data,
                max_attempts=max_attempts,
                idempotency_key=f"schedule:{record.id}:{run_at}",
            )
            spent.keep = submitted.created
    except (JobTypeNotFound, InvalidPayload) as exc:
        outcome.skipped += 1
        outcome.reason = exc.message[:200]
        return None
    except QuotaExceeded as exc:
        outcome.skipped += 1
        outcome.reason = _quota_reason(exc, len(record.data))
        return None
    if submitted.created:  # else this run was submitted before (a double fire): counted once
        outcome.submitted.append(submitted.job_id)
    return submitted.job_id


def _quota_reason(refused: QuotaExceeded, items: int) -> str:
    """The skip reason of a run the owner's quota refused: which quota, its limit, the run."""
    per_minute = refused.quota == PER_MINUTE
    unit = "items per minute" if per_minute else "items not finished"
    never = " (more than the limit: no run of it can fit)" if items > refused.limit else ""
    return (
        f"quota {refused.quota} exceeded (the owner's limit: {refused.limit} {unit});"
        f" this run's {items} items were not submitted{never}"
    )


def _unfinished(db: peewee.Database, job_id: str) -> bool:
    return bool(rows(db, _UNFINISHED_SQL, (job_id, *sorted(FINAL))))


def _log(outcome: Outcome) -> None:
    record = outcome.schedule
    if record is None:
        return
    extra = {"schedule_id": record.id, "job_type": record.job_type}
    for job_id in outcome.submitted:
        logger.info("schedule fired", extra={**extra, "job_id": job_id})
    if outcome.skipped:
        logger.warning(
            "schedule runs skipped",
            extra={**extra, "skipped": outcome.skipped, "reason": outcome.reason},
        )
    if outcome.runs:
        lateness = outcome.fired_at - outcome.runs[-1]
        logger.debug("schedule lateness", extra={**extra, "lateness_ms": lateness})
