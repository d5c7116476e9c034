"""Live progress: each item's last reported progress, and the item event log streams resume from.

``item_events`` is append-only; each row is written in the transaction of
the state change it describes, so a reader never sees a change without its
event or the other way round. Its cursor is ``(txid, id)``: on PostgreSQL a
serial ``id`` is taken at insert time, not at commit, so rows can become
visible out of ``id`` order; ``txid`` (the writing transaction's id) lets a
reader take only rows of transactions older than every one still running
(see workq_core/jobs/events.py). SQLite commits one writer at a time, so
there ``txid`` is 0 and ``id`` alone is the order.
"""

from __future__ import annotations

import peewee

from workq_core.db.connect import is_postgres

VERSION = 5
NAME = "live_progress"

_ID = {"postgresql": "BIGSERIAL PRIMARY KEY", "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT"}
_TXID = {
    "postgresql": "BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)",
    "sqlite": "BIGINT NOT NULL DEFAULT 0",
}

_STATEMENTS = [
    "ALTER TABLE items ADD COLUMN progress_done BIGINT",
    "ALTER TABLE items ADD COLUMN progress_total BIGINT",
    "ALTER TABLE items ADD COLUMN progress_message TEXT",
    "ALTER TABLE items ADD COLUMN progress_at BIGINT",
    """
    CREATE TABLE item_events (
        id {id},
        txid {txid},
        job_id VARCHAR(36) NOT NULL REFERENCES jobs (id),
        item_index INTEGER NOT NULL,
        kind VARCHAR(16) NOT NULL,
        attempt INTEGER NOT NULL,
        detail TEXT,
        progress_done BIGINT,
        progress_total BIGINT,
        at BIGINT NOT NULL
    )
    """,
    "CREATE INDEX item_events_job ON item_events (job_id, txid, id)",
]


def apply(db: peewee.Database) -> None:
    engine = "postgresql" if is_postgres(db) else "sqlite"
    for statement in _STATEMENTS:
        db.execute_sql(statement.replace("{id}", _ID[engine]).replace("{txid}", _TXID[engine]))
