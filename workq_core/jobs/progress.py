"""Items' reported progress: storing it with its event, and what it adds up to for a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from workq_core.db.sql import for_update, placeholders, rows, run_many, write_transaction
from workq_core.jobs import event_log
from workq_core.jobs.states import FINAL, RUNNING

_OWNER_SQL = "SELECT id, status, attempts, claimed_at FROM items WHERE id IN ({marks})"
_STORE_SQL = (
    "UPDATE items SET progress_done = ?, progress_total = ?, progress_message = ?,"
    " progress_at = ?, updated_at = ? WHERE id = ?"
)
_FINAL = sorted(FINAL)
_REPORTING_SQL = (
    "SELECT job_id, progress_done, progress_total FROM items"
    " WHERE job_id IN ({marks}) AND progress_at IS NOT NULL AND status NOT IN ({final})"
)


@dataclass(frozen=True)
class ProgressReport:
    """One attempt's progress as its handler last reported it.

    ``attempt`` and ``claimed_at`` name the claim that reported it, as every
    ownership check does: a recovered item runs again under the same
    attempt number, so the number alone cannot tell its old claimer's
    reports from the new one's.
    """

    item_id: int
    job_id: str
    item_index: int
    attempt: int
    claimed_at: int
    done: int
    total: int | None
    message: str | None
    at: int

    def event(self) -> event_log.NewEvent:
        return event_log.NewEvent(
            self.job_id,
            self.item_index,
            event_log.PROGRESS,
            self.attempt,
            self.at,
            detail=self.message,
            progress_done=self.done,
            progress_total=self.total,
        )


def store(db: peewee.Database, reports: Sequence[ProgressReport]) -> int:
    """Write reports whose claim still runs the item, in one transaction; returns how many.

    A report that lost the race with its attempt's outcome is dropped: the
    outcome's transaction wrote the attempt's last report already. So is one
    from a claimer that was paused past its lease and replaced (same attempt
    number, another ``claimed_at``): it must not overwrite the new run's.
    """
    if not reports:
        return 0
    with write_transaction(db):
        ids = [r.item_id for r in reports]
        sql = _OWNER_SQL.format(marks=placeholders(len(ids))) + for_update(db)
        running = {
            int(r["id"]): (int(r["attempts"]), r["claimed_at"])
            for r in rows(db, sql, ids)
            if r["status"] == RUNNING
        }
        owned = [r for r in reports if running.get(r.item_id) == (r.attempt, r.claimed_at)]
        store_owned(db, owned)
        return len(owned)


def store_owned(db: peewee.Database, reports: Sequence[ProgressReport]) -> None:
    """Write reports and their events in the caller's transaction, which owns their items."""
    store_columns(db, reports)
    event_log.append(db, [r.event() for r in reports])


def store_columns(db: peewee.Database, reports: Sequence[ProgressReport]) -> None:
    """Write reports onto their items (no events) in the caller's transaction."""
    run_many(db, _STORE_SQL, [(r.done, r.total, r.message, r.at, r.at, r.item_id) for r in reports])


def job_fractions(
    db: peewee.Database,
    job_ids: Sequence[str],
    counts: dict[str, dict[str, int]],
    sizes: dict[str, int],
) -> dict[str, float]:
    """How much of each job is done, 0 to 1: a final item counts 1, an unfinished one its
    reported ``done / total`` (0 without a total), the rest 0.

    Reads only unfinished items that reported progress (at most the running
    ones), so its cost follows concurrency, not job size.
    """
    partial: dict[str, float] = dict.fromkeys(job_ids, 0.0)
    if job_ids:
        sql = _REPORTING_SQL.format(
            marks=placeholders(len(job_ids)), final=placeholders(len(_FINAL))
        )
        found = rows(db, sql, [*job_ids, *_FINAL])
        for row in found:
            total = row["progress_total"]
            if total:
                partial[row["job_id"]] += min(row["progress_done"] / total, 1.0)
    fractions = {}
    for job_id in job_ids:
        size = sizes[job_id]
        final = sum(counts.get(job_id, {}).get(status, 0) for status in FINAL)
        fractions[job_id] = min((final + partial[job_id]) / size, 1.0) if size else 1.0
    return fractions
