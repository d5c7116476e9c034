"""Reading jobs and items: one user's jobs, their item counts, and pages of items."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db.sql import now_ms, placeholders, rows
from workq_core.jobs.filters import job_status_clause
from workq_core.jobs.states import FINAL, QUEUED, job_status

_JOB_COLUMNS = (
    "j.id, j.user_id, j.type, j.size, j.created_at, j.cancelled_at, j.run_at, j.priority,"
    " j.published"
)
_ITEM_COLUMNS = (
    "idx, status, attempts, max_attempts, result, error_type, last_error,"
    # A running item's handler start is marked only after a crash; else its claim's time.
    " COALESCE(started_at, claimed_at) AS started_at, finished_at,"
    " limit_scope, limit_reason, limited_until,"
    " progress_done, progress_total, progress_message, progress_at,"
    " job_id, next_attempt_at, published_at"
)


@dataclass(frozen=True)
class JobRecord:
    """A job row and its item counts by status (counted, never stored)."""

    id: str
    user_id: int
    type: str
    size: int
    created_at: int
    cancelled_at: int | None
    counts: dict[str, int]
    run_at: int | None = None
    priority: int = 0
    published: int = 0  # items admission has published so far, in index order

    @classmethod
    def just_submitted(
        cls,
        job_id: str,
        user_id: int,
        job_type: str,
        size: int,
        at: int,
        *,
        run_at: int | None = None,
        priority: int = 0,
    ) -> JobRecord:
        """The job as its submission committed it, every item queued: no need to read it back."""
        counts = {QUEUED: size}
        return cls(job_id, user_id, job_type, size, at, None, counts, run_at, priority)

    @property
    def status(self) -> str:
        scheduled = self.run_at is not None and self.run_at > now_ms()
        return job_status(self.counts, self.size, self.cancelled_at is not None, scheduled)

    @property
    def finished(self) -> bool:
        return sum(self.counts.get(s, 0) for s in FINAL) >= self.size


@dataclass(frozen=True)
class ItemRecord:
    """One item as its owner sees it (its input data is not echoed back)."""

    index: int
    status: str
    attempts: int
    max_attempts: int
    result: str | None
    error_type: str | None
    last_error: str | None
    started_at: int | None
    finished_at: int | None
    limit_scope: str | None = None  # parked by a limit: its key, reason and expected end
    limit_reason: str | None = None
    limited_until: int | None = None
    progress_done: int | None = None  # the handler's last progress report, if any
    progress_total: int | None = None
    progress_message: str | None = None
    progress_at: int | None = None
    job_id: str = ""
    next_attempt_at: int | None = None
    published_at: int | None = None


def find_job(db: peewee.Database, user_id: int, job_id: str) -> JobRecord | None:
    """The user's job ``job_id``; another user's job is None, exactly like a missing one."""
    found = rows(
        db,
        f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE j.id = ? AND j.user_id = ?",  # noqa: S608 - constant columns and placeholders only
        (job_id, user_id),
    )
    return _with_counts(db, found)[0] if found else None


def list_jobs(
    db: peewee.Database,
    user_id: int,
    *,
    first: int,
    after: tuple[int, str] | None = None,
    status: str | None = None,
    job_type: str | None = None,
) -> tuple[list[JobRecord], bool]:
    """Newest first, keyset-paginated on ``(created_at, id)``; returns ``(page, more)``."""
    where = ["j.user_id = ?"]
    params: list[Any] = [user_id]
    if after is not None:
        where.append("(j.created_at < ? OR (j.created_at = ? AND j.id < ?))")
        params += [after[0], after[0], after[1]]
    if job_type is not None:
        where.append("j.type = ?")
        params.append(job_type)
    if status is not None:
        clause, status_params = job_status_clause(status)
        where.append(clause)
        params += status_params
    found = rows(
        db,
        f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE {' AND '.join(where)}"  # noqa: S608 - constant columns and placeholders only
        " ORDER BY j.created_at DESC, j.id DESC LIMIT ?",
        [*params, first + 1],
    )
    return _with_counts(db, found[:first]), len(found) > first


def item_counts(db: peewee.Database, job_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts by status for each job, in one GROUP BY over the items_job_status index."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if not job_ids:
        return counts
    for row in rows(
        db,
        "SELECT job_id, status, COUNT(*) AS n FROM items"  # noqa: S608 - constant columns and placeholders only
        f" WHERE job_id IN ({placeholders(len(job_ids))}) GROUP BY job_id, status",
        list(job_ids),
    ):
        counts[row["job_id"]][row["status"]] = int(row["n"])
    return counts


def job_times(db: peewee.Database, job_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
    """``(last item update, last item finish)`` per job; read only when a client asks."""
    if not job_ids:
        return {}
    found = rows(
        db,
        "SELECT job_id, MAX(updated_at) AS updated, MAX(finished_at) AS finished FROM items"  # noqa: S608 - constant columns and placeholders only
        f" WHERE job_id IN ({placeholders(len(job_ids))}) GROUP BY job_id",
        list(job_ids),
    )
    return {row["job_id"]: (int(row["updated"]), row["finished"]) for row in found}


def list_items(
    db: peewee.Database, job_id: str, *, first: int, offset: int = 0, status: str | None = None
) -> list[ItemRecord]:
    """A page of one job's items in index order (the caller has checked ownership)."""
    where, params = "job_id = ?", [job_id]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    found = rows(
        db,
        f"SELECT {_ITEM_COLUMNS} FROM items WHERE {where}"  # noqa: S608 - constant columns and placeholders only
        " ORDER BY idx LIMIT ? OFFSET ?",
        [*params, first, offset],
    )
    return [ItemRecord(index=row.pop("idx"), **row) for row in found]


def _with_counts(db: peewee.Database, found: list[dict[str, Any]]) -> list[JobRecord]:
    counts = item_counts(db, [row["id"] for row in found])
    return [JobRecord(**row, counts=counts.get(row["id"], {})) for row in found]
