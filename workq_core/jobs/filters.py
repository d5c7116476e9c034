"""A job's status as a SQL predicate, so lists can filter on it without stored counters.

Each predicate mirrors :func:`workq_core.jobs.states.job_status` and uses only
``EXISTS`` probes with ``status IN (...)`` on the ``items_job_status`` index:
every probe stops at the first matching item, however large the job.
"""

from __future__ import annotations

from typing import Any

from workq_core.db.sql import now_ms
from workq_core.errors import InvalidPayload
from workq_core.jobs.states import (
    CANCELLED,
    COMPLETED,
    DEAD,
    ITEM_STATES,
    QUEUED,
    RETRYING,
    RUNNING,
)

ACTIVE = (QUEUED, RUNNING, RETRYING)
STARTED = tuple(s for s in ITEM_STATES if s != QUEUED)
JOB_STATUSES = (
    "scheduled",
    "queued",
    "running",
    "cancelling",
    "completed",
    "failed",
    "cancelled",
)


def _any(states: tuple[str, ...]) -> tuple[str, list[str]]:
    marks = ", ".join("?" * len(states))
    sql = f"EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id AND i.status IN ({marks}))"  # noqa: S608 - constant columns and placeholders only
    return sql, list(states)


def job_status_clause(status: str) -> tuple[str, list[Any]]:
    """``(sql, params)`` true for the jobs ``j`` whose status is ``status``."""
    active, p_active = _any(ACTIVE)
    started, p_started = _any(STARTED)
    cancelled_item, p_cancelled = _any((CANCELLED,))
    dead, p_dead = _any((DEAD,))
    not_done, p_not_done = _any(tuple(s for s in ITEM_STATES if s != COMPLETED))
    live = "j.cancelled_at IS NULL"
    now = now_ms()
    clauses: dict[str, tuple[str, list[Any]]] = {
        "scheduled": (f"{live} AND j.run_at > ? AND NOT {started}", [now, *p_started]),
        "queued": (
            f"{live} AND (j.run_at IS NULL OR j.run_at <= ?) AND NOT {started}",
            [now, *p_started],
        ),
        "running": (f"{live} AND {active} AND {started}", p_active + p_started),
        "cancelling": (f"j.cancelled_at IS NOT NULL AND {active}", p_active),
        "cancelled": (
            f"NOT {active} AND (j.cancelled_at IS NOT NULL OR {cancelled_item})",
            p_active + p_cancelled,
        ),
        "failed": (
            f"NOT {active} AND {live} AND NOT {cancelled_item} AND {dead}",
            p_active + p_cancelled + p_dead,
        ),
        "completed": (f"{live} AND NOT {not_done}", p_not_done),
    }
    if status not in clauses:
        raise InvalidPayload(
            f"Unknown job status {status!r}; use one of: {', '.join(JOB_STATUSES)}.",
            field="status",
        )
    sql, params = clauses[status]
    return f"({sql})", params
