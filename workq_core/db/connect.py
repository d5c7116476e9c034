"""Open the one database a process uses, from a ``sqlite:///`` or ``postgresql://`` URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee

from workq_core.db import deadline
from workq_core.db.pool import PooledPostgres
from workq_core.errors import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_MAX_CONNECTIONS = 32
PG_STALE_TIMEOUT_S = 300
PG_CONNECT_TIMEOUT_S = 5
PG_OPERATION_TIMEOUT_S = 30.0  # database.timeout_s
# A process frozen inside a transaction (SIGSTOP, a paused VM) keeps its row
# locks until the server ends the transaction; claims and sweeps skip locked
# rows, so its items would wait until it thawed. Workq's transactions never
# wait on anything but the database, so a minute idle in one means a frozen
# holder: the server ends it and the items move again.
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def connect(url: str, timeout_s: float = PG_OPERATION_TIMEOUT_S) -> peewee.Database:
    """A peewee database for ``url``; connections open lazily, one per thread.

    peewee keeps connection state per thread, so a threaded WSGI server can
    share the returned object; PostgreSQL connections come from a pool, and
    each PostgreSQL operation waits at most ``timeout_s`` (workq_core/db/deadline.py).
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme in ("postgresql", "postgres"):
        deadline.install(timeout_s)
        return _postgres(url)
    raise ConfigError(
        f"database.url: unsupported scheme {scheme!r}; use sqlite:///PATH or postgresql://..."
    )


def close_database(db: peewee.Database) -> None:
    """Close this thread's connection and, for a pool, every pooled one (service shutdown)."""
    if not db.is_closed():
        db.close()
    close_all = getattr(db, "close_all", None)
    if close_all is not None:
        close_all()


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def _sqlite(url: str) -> peewee.SqliteDatabase:
    # SQLAlchemy's convention: sqlite:///relative.db and sqlite:////absolute/path.db
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.startswith(prefix) else ""
    if not path:
        raise ConfigError(
            "database.url: sqlite URL needs a file path, e.g. sqlite:///data/workq.db"
        )
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return peewee.SqliteDatabase(
        path,
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "synchronous": "normal",
        },
        check_same_thread=False,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
    )


def _postgres(url: str) -> peewee.PostgresqlDatabase:
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError("database.url: postgresql URL needs a database name")
    params: dict[str, object] = {
        "connect_timeout": PG_CONNECT_TIMEOUT_S,
        "options": f"-c idle_in_transaction_session_timeout={PG_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
    }
    params.update(dict(parse_qsl(parts.query)))
    if parts.hostname:
        params["host"] = parts.hostname
    if parts.port:
        params["port"] = parts.port
    if parts.username:
        params["user"] = unquote(parts.username)
    if parts.password:
        params["password"] = unquote(parts.password)
    return PooledPostgres(
        name,
        max_connections=PG_MAX_CONNECTIONS,
        stale_timeout=PG_STALE_TIMEOUT_S,
        timeout=PG_CONNECT_TIMEOUT_S,
        **params,
    )
