"""What the services that hold a database run after each request: connections back to the pool."""

from __future__ import annotations

import peewee

from workq_core.db.connect import is_postgres


class CloseDatabase:
    """Hand the request thread's PostgreSQL connection back to the pool after its operation.

    ``create_app`` calls it on the thread that ran the operation (``cleanup``).

    Connections open lazily on first query, so requests that never touch the
    database never connect. A SQLite connection stays with its (pooled,
    long-lived) request thread: reopening the file per request costs more
    than the request itself.
    """

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def __call__(self) -> None:
        if is_postgres(self.db) and not self.db.is_closed():
            self.db.close()
