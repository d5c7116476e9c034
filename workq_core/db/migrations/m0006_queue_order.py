"""Queue order: due times and priorities of jobs, and how far each job has been published.

The database is the queue; the broker carries only a window of items per job
type that executors can start soon (see ``workq_core.jobs.admission``).
``jobs.published`` counts the job's items (in index order) handed to the
broker so far; ``items.published_at`` marks each of them, so the window's
fill is a count over a small partial index. Jobs submitted before this
migration were published whole; a whole-job outbox row still pending is
turned back into unpublished items, which admission then publishes.
"""

from __future__ import annotations

import peewee

VERSION = 6
NAME = "queue_order"

_STATEMENTS = [
    "ALTER TABLE jobs ADD COLUMN run_at BIGINT",
    "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN published INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN admitted_at BIGINT",
    # The submitting request's trace context (JSON, telemetry.tracing), copied
    # into each outbox row admission writes, so attempts join the request's trace.
    "ALTER TABLE jobs ADD COLUMN trace_context TEXT",
    "ALTER TABLE items ADD COLUMN published_at BIGINT",
    "ALTER TABLE outbox ADD COLUMN first_idx INTEGER",
    "ALTER TABLE outbox ADD COLUMN end_idx INTEGER",
    "UPDATE jobs SET published = size"
    " WHERE id NOT IN (SELECT job_id FROM outbox WHERE item_id IS NULL)",
    "UPDATE items SET published_at = updated_at WHERE status = 'queued'"
    " AND job_id NOT IN (SELECT job_id FROM outbox WHERE item_id IS NULL)",
    "DELETE FROM outbox WHERE item_id IS NULL",
    # The frontier: jobs with items not yet published, found per type and priority.
    "CREATE INDEX jobs_unpublished ON jobs (type, priority) WHERE published < size",
    # The window's fill: published items no executor has started yet.
    "CREATE INDEX items_in_broker ON items (job_id)"
    " WHERE status = 'queued' AND published_at IS NOT NULL",
]


def apply(db: peewee.Database) -> None:
    for statement in _STATEMENTS:
        db.execute_sql(statement)
