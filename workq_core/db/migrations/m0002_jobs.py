"""Jobs, their items, the outbox the relay publishes from, and the shared dedup keys."""

from __future__ import annotations

import peewee

from workq_core.db.connect import is_postgres

VERSION = 2
NAME = "jobs"

_ID = {"postgresql": "BIGSERIAL PRIMARY KEY", "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT"}

# Times are integer milliseconds since the epoch: exact, comparable, the same on both engines.
_STATEMENTS = [
    """
    CREATE TABLE jobs (
        id VARCHAR(36) PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id),
        type VARCHAR(64) NOT NULL,
        size INTEGER NOT NULL,
        idempotency_key VARCHAR(200),
        created_at BIGINT NOT NULL,
        cancelled_at BIGINT
    )
    """,
    "CREATE UNIQUE INDEX jobs_user_idempotency_key ON jobs (user_id, idempotency_key)",
    "CREATE INDEX jobs_user_created ON jobs (user_id, created_at)",
    """
    CREATE TABLE items (
        id {id},
        job_id VARCHAR(36) NOT NULL REFERENCES jobs (id),
        idx INTEGER NOT NULL,
        data TEXT NOT NULL,
        status VARCHAR(16) NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        result TEXT,
        error_type VARCHAR(200),
        last_error TEXT,
        next_attempt_at BIGINT,
        lease_expires_at BIGINT,
        dead_lettered_at BIGINT,
        started_at BIGINT,
        finished_at BIGINT,
        updated_at BIGINT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX items_job_idx ON items (job_id, idx)",
    "CREATE INDEX items_job_status ON items (job_id, status)",
    "CREATE INDEX items_status_lease ON items (status, lease_expires_at)",
    """
    CREATE TABLE outbox (
        id {id},
        job_id VARCHAR(36) NOT NULL REFERENCES jobs (id),
        item_id BIGINT REFERENCES items (id),
        job_type VARCHAR(64) NOT NULL,
        due_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        claimed_by VARCHAR(64),
        claimed_until BIGINT
    )
    """,
    "CREATE INDEX outbox_due ON outbox (due_at)",
    "CREATE INDEX outbox_item ON outbox (item_id)",
    """
    CREATE TABLE dedup_keys (
        key VARCHAR(200) PRIMARY KEY,
        expires_at BIGINT NOT NULL
    )
    """,
    "CREATE INDEX dedup_keys_expires ON dedup_keys (expires_at)",
]


def apply(db: peewee.Database) -> None:
    id_column = _ID["postgresql" if is_postgres(db) else "sqlite"]
    for statement in _STATEMENTS:
        db.execute_sql(statement.replace("{id}", id_column))
