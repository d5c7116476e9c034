"""Executor heartbeats: which are alive, for which job types, when they last got work."""

from __future__ import annotations

import peewee

VERSION = 3
NAME = "executors"


def apply(db: peewee.Database) -> None:
    db.execute_sql(
        """
        CREATE TABLE executors (
            id VARCHAR(64) PRIMARY KEY,
            job_types TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            heartbeat_at BIGINT NOT NULL,
            last_delivery_at BIGINT NOT NULL
        )
        """
    )
    db.execute_sql("CREATE INDEX executors_heartbeat ON executors (heartbeat_at)")
