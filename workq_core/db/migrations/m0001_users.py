"""Users: normalised unique email, bcrypt hash, role, and a token version for revocation."""

from __future__ import annotations

import peewee

from workq_core.db.connect import is_postgres

VERSION = 1
NAME = "users"

_ID = {"postgresql": "BIGSERIAL PRIMARY KEY", "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT"}


def apply(db: peewee.Database) -> None:
    dialect = "postgresql" if is_postgres(db) else "sqlite"
    db.execute_sql(
        f"""
        CREATE TABLE users (
            id {_ID[dialect]},
            email VARCHAR(254) NOT NULL,
            password_hash VARCHAR(100) NOT NULL,
            role VARCHAR(20) NOT NULL DEFAULT 'user',
            token_version INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
        )
        """
    )
    # Emails are stored normalised (lower case); the index on lower() also
    # guards rows written by anything that forgets to normalise.
    db.execute_sql("CREATE UNIQUE INDEX users_email_key ON users (lower(email))")
