"""The outbox: what the relay is to publish, and when; the one way rows get into it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from workq_core.db.sql import run_many

INSERT_SQL = (
    "INSERT INTO outbox (job_id, item_id, job_type, due_at, created_at, trace_context)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class OutboxEntry:
    """Publish one item (``item_id``), or every waiting item of the job (None), at ``due_at``."""

    job_id: str
    job_type: str
    due_at: int
    item_id: int | None = None
    trace_context: str | None = None  # JSON message properties (telemetry.tracing)


def insert_params(entry: OutboxEntry, now: int) -> tuple[object, ...]:
    """``entry``'s values for :data:`INSERT_SQL`, for callers that build one statement of it."""
    e = entry
    return (e.job_id, e.item_id, e.job_type, e.due_at, now, e.trace_context)


def enqueue(db: peewee.Database, entries: Sequence[OutboxEntry], now: int) -> None:
    """Add ``entries`` in the caller's transaction: published if and only if it commits."""
    run_many(db, INSERT_SQL, [insert_params(e, now) for e in entries])
