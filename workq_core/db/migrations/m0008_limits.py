"""Concurrency and rate limits: run-time overrides, per-key state, and parked items' reasons."""

from __future__ import annotations

import peewee

VERSION = 8
NAME = "limits"

_STATEMENTS = [
    # An operator's limits for a job type; a row overrides what the job type declares.
    """
    CREATE TABLE job_type_limits (
        job_type VARCHAR(64) PRIMARY KEY,
        limits TEXT NOT NULL,
        updated_by BIGINT,
        updated_at BIGINT NOT NULL
    )
    """,
    # One row per limited key: the row every claim of the key locks, and the
    # limit in force when it was last claimed (what record() wakes against).
    """
    CREATE TABLE limit_scopes (
        scope VARCHAR(400) PRIMARY KEY,
        job_type VARCHAR(64) NOT NULL,
        concurrency INTEGER,
        rate INTEGER,
        per_ms BIGINT
    )
    """,
    # Which attempt of which item holds a concurrency slot of a key; it only
    # counts while that attempt runs under a live lease, so a dead executor's
    # slot frees itself when the lease runs out.
    """
    CREATE TABLE limit_slots (
        scope VARCHAR(400) NOT NULL,
        item_id BIGINT NOT NULL,
        attempt INTEGER NOT NULL
    )
    """,
    "CREATE INDEX limit_slots_scope ON limit_slots (scope)",
    "CREATE INDEX limit_slots_item ON limit_slots (item_id)",
    # When attempts of a key started, for its rate limit (a sliding window).
    "CREATE TABLE limit_starts (scope VARCHAR(400) NOT NULL, at BIGINT NOT NULL)",
    "CREATE INDEX limit_starts_scope_at ON limit_starts (scope, at)",
    # A parked item: over a limit of ``limit_scope`` since ``limited_since``
    # (its place in the key's queue), for ``limit_reason``, until about ``limited_until``.
    "ALTER TABLE items ADD COLUMN limit_scope VARCHAR(400)",
    "ALTER TABLE items ADD COLUMN limit_reason VARCHAR(20)",
    "ALTER TABLE items ADD COLUMN limited_since BIGINT",
    "ALTER TABLE items ADD COLUMN limited_until BIGINT",
    "CREATE INDEX items_parked ON items (limit_scope, limited_since, id)",
]


def apply(db: peewee.Database) -> None:
    for statement in _STATEMENTS:
        db.execute_sql(statement)
