"""Named leases: which process holds a singleton duty (scheduler, retention) until when."""

from __future__ import annotations

import peewee

VERSION = 4
NAME = "leases"


def apply(db: peewee.Database) -> None:
    db.execute_sql(
        """
        CREATE TABLE leases (
            name VARCHAR(100) PRIMARY KEY,
            holder VARCHAR(64) NOT NULL,
            expires_at BIGINT NOT NULL
        )
        """
    )
