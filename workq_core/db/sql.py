"""Small helpers so one SQL text runs on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

import peewee

from workq_core.db import is_postgres


def now_ms() -> int:
    return int(time.time() * 1000)


def run(db: peewee.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    """Execute ``sql`` written with ``?`` placeholders on either engine."""
    if is_postgres(db):
        sql = sql.replace("?", "%s")
    return db.execute_sql(sql, tuple(params))


def unsynced(db: peewee.Database, sql: str, params: Sequence[Any] = ()) -> None:
    """Execute and commit ``sql`` without waiting for it to reach disk (PostgreSQL).

    For marks that must survive the writer's death but may be lost with the
    database server itself: PostgreSQL's ``synchronous_commit`` off for this
    transaction alone, sent with it in one round trip. SQLite in WAL mode
    with ``synchronous=normal`` commits without a sync already. Inside a
    transaction, the statement simply joins it.
    """
    if not is_postgres(db) or db.in_transaction():
        run(db, sql, params)
        return
    statement = f"BEGIN; SET LOCAL synchronous_commit TO OFF; {sql.replace('?', '%s')}; COMMIT"
    with peewee.__exception_wrapper__:  # type: ignore[attr-defined]  # driver errors as peewee's
        cursor = db.cursor()
        try:
            cursor.execute(statement, params)
        except Exception:
            # Leave no aborted transaction behind (autocommit: the driver will not end it).
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise


def run_many(db: peewee.Database, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """Execute one statement for many parameter rows in as few round trips as the driver allows."""
    if not params:
        return
    cursor = db.cursor()
    if is_postgres(db):
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql.replace("?", "%s"), params, page_size=200)
    else:
        cursor.executemany(sql, params)


def insert_rows(db: peewee.Database, sql: str, values: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` (``INSERT INTO t (a, b) VALUES``) for ``values``, many rows per statement."""
    if not values:
        return
    if is_postgres(db):
        from psycopg2.extras import execute_values

        execute_values(db.cursor(), sql + " %s", values, page_size=500)
        return
    row = "(" + ", ".join("?" * len(values[0])) + ")"
    per_statement = max(1, 900 // len(values[0]))  # SQLite allows 999 parameters per statement
    for start in range(0, len(values), per_statement):
        page = values[start : start + per_statement]
        flat = [value for item in page for value in item]
        db.execute_sql(sql + " " + ", ".join([row] * len(page)), flat)


def rows(db: peewee.Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = run(db, sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def for_update(db: peewee.Database, *, skip_locked: bool = False) -> str:
    """Row locks where the engine has them; SQLite serialises writers instead."""
    if not is_postgres(db):
        return ""
    return " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"


def write_transaction(db: peewee.Database) -> Any:
    """A transaction that takes SQLite's write lock up front, avoiding upgrade deadlocks."""
    return db.atomic() if is_postgres(db) else db.atomic(lock_type="IMMEDIATE")
