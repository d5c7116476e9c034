"""Falcon middleware of the services that hold a database: connections back to the pool."""

from __future__ import annotations

from typing import Any

import falcon
import peewee

from workq_core.db.connect import is_postgres


class CloseDatabase:
    """Hand the request thread's PostgreSQL connection back to the pool after the response.

    Connections open lazily on first query, so requests that never touch the
    database never connect. A SQLite connection stays with its (pooled,
    long-lived) request thread: reopening the file per request costs more
    than the request itself.
    """

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool
    ) -> None:
        if is_postgres(self.db) and not self.db.is_closed():
            self.db.close()
