"""Trace context on outbox rows (traces cross the relay), and an index retention walks."""

from __future__ import annotations

import peewee

VERSION = 10
NAME = "telemetry_retention"


def apply(db: peewee.Database) -> None:
    # JSON of the W3C trace context (traceparent, tracestate, previous attempt) its messages carry.
    db.execute_sql("ALTER TABLE outbox ADD COLUMN trace_context TEXT")
    # Retention looks for old jobs oldest first, across all users.
    db.execute_sql("CREATE INDEX jobs_created ON jobs (created_at, id)")
