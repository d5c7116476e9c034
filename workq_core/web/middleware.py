"""Falcon middleware shared by the services."""

from __future__ import annotations

from typing import Any

import falcon
import peewee


class CloseDatabase:
    """Hand the request thread's connection back (to the pool) when the response is done.

    Connections open lazily on first query, so requests that never touch the
    database never connect.
    """

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool
    ) -> None:
        if not self.db.is_closed():
            self.db.close()
