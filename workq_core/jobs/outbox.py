"""The outbox: what the relay is to publish, and when; the one way rows get into it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from workq_core.db.sql import Statement, run_many

_INSERT_SQL = (
    "INSERT INTO outbox (job_id, item_id, job_type, due_at, created_at) VALUES (?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class OutboxEntry:
    """Publish one item (``item_id``), or every waiting item of the job (None), at ``due_at``."""

    job_id: str
    job_type: str
    due_at: int
    item_id: int | None = None


def insert_statement(entry: OutboxEntry, now: int) -> Statement:
    """``entry``'s INSERT, for callers that commit it together with other statements."""
    return _INSERT_SQL, (entry.job_id, entry.item_id, entry.job_type, entry.due_at, now)


def enqueue(db: peewee.Database, entries: Sequence[OutboxEntry], now: int) -> None:
    """Add ``entries`` in the caller's transaction: published if and only if it commits."""
    run_many(db, _INSERT_SQL, [insert_statement(e, now)[1] for e in entries])
