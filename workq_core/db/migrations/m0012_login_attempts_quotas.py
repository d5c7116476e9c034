"""Login attempts shared by every auth replica, and per-user submission quotas.

``login_attempts`` replaces the per-process counters of failed logins: all
replicas of the auth service count in one place, so N replicas allow no more
attempts than one. ``user_quotas`` holds, per user, an admin's overrides of
the configured quotas (NULL: the configured one) and the usage the quota
check keeps: items submitted in the current minute, and an upper bound of
the user's unfinished items (exact at ``waiting_counted_at``, plus what was
submitted since).
"""

from __future__ import annotations

import peewee

from workq_core.db.connect import is_postgres

VERSION = 12
NAME = "login_attempts_quotas"

_ID = {"postgresql": "BIGSERIAL PRIMARY KEY", "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT"}

_STATEMENTS = [
    # One row per counted login attempt of a key (SHA-256 of ``email:...`` or ``addr:...``).
    """
    CREATE TABLE login_attempts (
        id {id},
        key CHAR(64) NOT NULL,
        at BIGINT NOT NULL
    )
    """,
    "CREATE INDEX login_attempts_key_at ON login_attempts (key, at)",
    "CREATE INDEX login_attempts_at ON login_attempts (at)",
    """
    CREATE TABLE user_quotas (
        user_id BIGINT PRIMARY KEY REFERENCES users (id),
        items_per_minute INTEGER,
        items_waiting INTEGER,
        window_start BIGINT NOT NULL DEFAULT 0,
        window_items BIGINT NOT NULL DEFAULT 0,
        waiting_bound BIGINT NOT NULL DEFAULT 0,
        waiting_counted_at BIGINT NOT NULL DEFAULT 0,
        updated_by BIGINT,
        updated_at BIGINT NOT NULL DEFAULT 0
    )
    """,
]


def apply(db: peewee.Database) -> None:
    id_column = _ID["postgresql" if is_postgres(db) else "sqlite"]
    for statement in _STATEMENTS:
        db.execute_sql(statement.replace("{id}", id_column))
