"""Apply versioned schema migrations once, in one transaction, safe under concurrent starts."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import ModuleType, TracebackType

import peewee

from workq_core.db.connect import is_postgres
from workq_core.db.errors import database_errors
from workq_core.db.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

# One advisory lock key for the whole schema: concurrent starts queue behind it.
_PG_LOCK_KEY = zlib.crc32(b"workq.schema_migrations")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


def migrate(db: peewee.Database, migrations: Sequence[ModuleType] | None = None) -> list[int]:
    """Apply every pending migration; returns the versions applied now (often none).

    Everything runs in one transaction that first takes a schema-wide lock
    (PostgreSQL: ``pg_advisory_xact_lock``; SQLite: ``BEGIN IMMEDIATE``), so
    two processes starting together apply each migration exactly once and a
    failed migration leaves the schema as it was. Call it with no connection
    open in this thread (it opens and closes its own).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    _check_order(migrations)
    with database_errors(), db.connection_context(), _locked_transaction(db):
        db.execute_sql(_CREATE_TABLE)
        done = _applied(db)
        applied_now = []
        for module in migrations:
            if module.VERSION in done:
                continue
            logger.info(
                "applying migration", extra={"version": module.VERSION, "migration": module.NAME}
            )
            module.apply(db)
            db.execute_sql(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)"
                if is_postgres(db)
                else "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (module.VERSION, module.NAME),
            )
            applied_now.append(module.VERSION)
    return applied_now


def applied_versions(db: peewee.Database) -> list[int]:
    """Versions recorded in ``schema_migrations`` (empty before the first migrate)."""
    with database_errors(), db.connection_context():
        if "schema_migrations" not in db.get_tables():
            return []
        return sorted(_applied(db))


def _applied(db: peewee.Database) -> set[int]:
    return {row[0] for row in db.execute_sql("SELECT version FROM schema_migrations")}


def _locked_transaction(db: peewee.Database) -> AbstractContextManager[object]:
    if is_postgres(db):
        txn = db.atomic()
        return _WithLock(txn, db)
    return db.atomic(lock_type="IMMEDIATE")


class _WithLock:
    """A transaction that takes the schema advisory lock first (released at commit)."""

    def __init__(self, txn: peewee._atomic, db: peewee.Database) -> None:
        self.txn = txn
        self.db = db

    def __enter__(self) -> None:
        self.txn.__enter__()
        self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.txn.__exit__(exc_type, exc, tb)


def _check_order(migrations: Sequence[ModuleType]) -> None:
    versions = [m.VERSION for m in migrations]
    if versions != sorted(set(versions)):
        raise RuntimeError(f"migrations must have unique, increasing versions: {versions}")
