"""The outbox: what the relay is to publish, and when; the one way rows get into it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from workq_core.db.sql import run_many

_INSERT_SQL = (
    "INSERT INTO outbox"
    " (job_id, item_id, job_type, due_at, created_at, trace_context, first_idx, end_idx)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class OutboxEntry:
    """Publish one item (``item_id``) at ``due_at``, or the job's queued items whose
    index is in ``first_idx`` up to ``end_idx`` (exclusive): admission's share of a job."""

    job_id: str
    job_type: str
    due_at: int
    item_id: int | None = None
    trace_context: str | None = None  # JSON message properties (telemetry.tracing)
    first_idx: int | None = None
    end_idx: int | None = None


def _params(entry: OutboxEntry, now: int) -> tuple[object, ...]:
    e = entry
    return (e.job_id, e.item_id, e.job_type, e.due_at, now, e.trace_context, e.first_idx, e.end_idx)


def enqueue(db: peewee.Database, entries: Sequence[OutboxEntry], now: int) -> None:
    """Add ``entries`` in the caller's transaction: published if and only if it commits."""
    run_many(db, _INSERT_SQL, [_params(e, now) for e in entries])
