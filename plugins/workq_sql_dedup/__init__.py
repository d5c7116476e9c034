"""The ``sql`` dedup store: completed keys in the Workq database, shared by every executor."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import peewee

from workq_core import ComponentContext, ConfigError, Registry, hookimpl

CLEANUP_EVERY = 1000


class SqlDedupStore:
    """Remembers completed keys in the ``dedup_keys`` table of the Workq database.

    Every executor that points at the same database sees the same keys, so a
    redelivery reaching any executor is acknowledged without running again,
    across processes and restarts. Expired keys are deleted every
    ``CLEANUP_EVERY`` marks, so the table stays bounded by the TTL.
    """

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self._marks = itertools.count(1)
        self._lock = threading.Lock()
        # Placeholder style is the driver's (? or %s); values always travel as parameters.
        sql = {
            "upsert": "INSERT INTO dedup_keys (key, expires_at) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
            "seen": "SELECT 1 FROM dedup_keys WHERE key = ? AND expires_at > ?",
            "expire": "DELETE FROM dedup_keys WHERE expires_at <= ?",
        }
        self._sql = {name: text.replace("?", db.param) for name, text in sql.items()}

    def seen(self, key: str) -> bool:
        with self.db.connection_context():
            cursor = self.db.execute_sql(self._sql["seen"], (key, _now_ms()))
            return cursor.fetchone() is not None

    def mark(self, key: str, ttl_s: float) -> None:
        with self.db.connection_context(), self.db.atomic():
            self.db.execute_sql(self._sql["upsert"], (key, _now_ms() + int(ttl_s * 1000)))
        with self._lock:
            due = next(self._marks) % CLEANUP_EVERY == 0
        if due:
            self.delete_expired()

    def delete_expired(self) -> int:
        with self.db.connection_context(), self.db.atomic():
            cursor = self.db.execute_sql(self._sql["expire"], (_now_ms(),))
            return int(cursor.rowcount)

    def close(self) -> None:
        """Nothing to release: the database belongs to the executor."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def create_store(ctx: ComponentContext) -> SqlDedupStore:
    if ctx.database is None:
        raise ConfigError("executor.dedup_store = sql needs the Workq database (database.url)")
    return SqlDedupStore(ctx.database)


@hookimpl
def workq_register_dedup_stores(registry: Registry[Any]) -> None:
    registry.add("sql", create_store)
