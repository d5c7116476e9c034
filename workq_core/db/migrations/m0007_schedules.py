"""Schedules: durable recurring submissions that the jobs service's scheduler fires."""

from __future__ import annotations

import peewee

VERSION = 7
NAME = "schedules"

# Times are integer milliseconds since the epoch, as everywhere else.
# ``data`` is the JSON list of items each run submits; exactly one of
# ``cron`` (with ``timezone``) and ``interval_ms`` is set. ``source`` names
# the plugin whose job type declared a default schedule, NULL for a user's.
_STATEMENTS = [
    """
    CREATE TABLE schedules (
        id VARCHAR(36) PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id),
        name VARCHAR(100) NOT NULL,
        job_type VARCHAR(64) NOT NULL,
        data TEXT NOT NULL,
        cron VARCHAR(200),
        timezone VARCHAR(64),
        interval_ms BIGINT,
        missed_policy VARCHAR(16) NOT NULL,
        max_catch_up INTEGER NOT NULL,
        overlap_policy VARCHAR(16) NOT NULL,
        next_run_at BIGINT NOT NULL,
        paused_at BIGINT,
        last_run_at BIGINT,
        last_job_id VARCHAR(36),
        runs INTEGER NOT NULL DEFAULT 0,
        skipped_runs INTEGER NOT NULL DEFAULT 0,
        last_skip_reason VARCHAR(200),
        source VARCHAR(100),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX schedules_user_name ON schedules (user_id, name)",
    "CREATE INDEX schedules_due ON schedules (next_run_at)",
]


def apply(db: peewee.Database) -> None:
    for statement in _STATEMENTS:
        db.execute_sql(statement)
