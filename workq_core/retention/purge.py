"""Delete finished jobs older than a cutoff, with their items and every row that points at them.

A job is finished when every item is final (completed, dead or cancelled)
and old when it was submitted and its last item finished before the cutoff.
Nothing is deleted in one big transaction: each transaction removes at most
``batch_size`` items (and the rows referencing them), so locks are held for
milliseconds and submissions, executors and relays carry on meanwhile. The
job row goes last, once its items are gone; a purge interrupted half-way
leaves a finished job with fewer items, which the next purge finishes. If a
job is revived meanwhile (``retryDeadItems``), the purge leaves it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db.sql import placeholders, rows, run, write_transaction
from workq_core.jobs.states import FINAL
from workq_core.retention.references import Reference, delete_referencing, references
from workq_core.telemetry import metrics

logger = logging.getLogger(__name__)

_FINAL = tuple(sorted(FINAL))
# Placeholders only in every composed statement below.
_NOT_DONE = (
    "SELECT 1 FROM items i WHERE i.job_id = j.id"  # noqa: S608
    f" AND (i.status NOT IN ({placeholders(len(_FINAL))}) OR i.finished_at >= ?)"
)
_CANDIDATES_SQL = (
    "SELECT j.id, j.created_at FROM jobs j WHERE j.created_at < ?"  # noqa: S608
    " AND (j.created_at > ? OR (j.created_at = ? AND j.id > ?))"
    f" AND NOT EXISTS ({_NOT_DONE}) ORDER BY j.created_at, j.id LIMIT ?"
)
_STILL_FINISHED_SQL = f"SELECT 1 AS busy FROM jobs j WHERE j.id = ? AND EXISTS ({_NOT_DONE})"  # noqa: S608
_ITEM_IDS_SQL = "SELECT id FROM items WHERE job_id = ? ORDER BY id LIMIT ?"

Renew = Callable[[], bool]  # keep the lease; False means it was lost: stop


@dataclass(frozen=True)
class PurgeResult:
    jobs: int
    items: int


def purge_finished(
    db: peewee.Database,
    cutoff_ms: int,
    *,
    batch_size: int = 500,
    renew: Renew | None = None,
) -> PurgeResult:
    """Delete every job finished before ``cutoff_ms``; returns how many jobs and items went.

    ``renew`` is called between transactions (the caller's lease); when it
    answers False the purge stops where it is.
    """
    refs = references(db)
    jobs = items = 0
    after: tuple[int, str] = (-1, "")
    while True:
        page = _candidates(db, cutoff_ms, after, batch_size)
        if not page:
            break
        last = page[-1]
        after = (int(last["created_at"]), str(last["id"]))
        for row in page:
            if renew is not None and not renew():
                logger.warning("retention lease lost; purge stopped", extra={"jobs": jobs})
                return PurgeResult(jobs, items)
            deleted = _purge_job(db, str(row["id"]), cutoff_ms, batch_size, refs)
            if deleted is not None:
                jobs += 1
                items += deleted
    if jobs:
        logger.info("finished jobs purged", extra={"jobs": jobs, "items": items})
    return PurgeResult(jobs, items)


def _candidates(
    db: peewee.Database, cutoff_ms: int, after: tuple[int, str], limit: int
) -> list[dict[str, Any]]:
    params = (cutoff_ms, after[0], after[0], after[1], *_FINAL, cutoff_ms, limit)
    return rows(db, _CANDIDATES_SQL, params)


def _purge_job(
    db: peewee.Database, job_id: str, cutoff_ms: int, batch_size: int, refs: list[Reference]
) -> int | None:
    """Items in batches, then the job; None if the job came back to life meanwhile."""
    deleted = 0
    while True:
        with write_transaction(db):
            if rows(db, _STILL_FINISHED_SQL, (job_id, *_FINAL, cutoff_ms)):
                logger.warning("job revived during purge; left alone", extra={"job_id": job_id})
                return None
            ids = [r["id"] for r in rows(db, _ITEM_IDS_SQL, (job_id, batch_size))]
            if not ids:
                delete_referencing(db, refs, "jobs", [job_id])
                run(db, "DELETE FROM jobs WHERE id = ?", (job_id,))
                break
            delete_referencing(db, refs, "items", ids)
            run(db, f"DELETE FROM items WHERE id IN ({placeholders(len(ids))})", ids)  # noqa: S608
        deleted += len(ids)
        metrics.RETENTION_ITEMS.inc(len(ids))
    metrics.RETENTION_JOBS.inc()
    return deleted
