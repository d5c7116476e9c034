"""Migrations: applied once, recorded, idempotent, atomic, and safe under concurrent starts."""

from __future__ import annotations

import threading

import peewee
import pytest

from workq_core import Unavailable
from workq_core.db import applied_versions, connect, migrate
from workq_core.db.migrations import MIGRATIONS


def test_migrate_creates_the_schema_and_records_every_version(db):
    assert applied_versions(db) == []

    applied = migrate(db)

    assert applied == [m.VERSION for m in MIGRATIONS]
    assert applied_versions(db) == applied
    with db.connection_context():
        assert {"users", "schema_migrations"} <= set(db.get_tables())


def test_migrate_twice_applies_nothing_the_second_time(db):
    migrate(db)

    assert migrate(db) == []
    assert applied_versions(db) == [m.VERSION for m in MIGRATIONS]


def test_concurrent_starts_apply_each_migration_once(database_url):
    """Given four processes' worth of connections starting at once, the schema is built once."""
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def start() -> None:
        database = connect(database_url)
        try:
            results.append(migrate(database))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            if hasattr(database, "close_all"):
                database.close_all()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results, key=len) == [[], [], [], [m.VERSION for m in MIGRATIONS]]


def test_a_failing_migration_leaves_no_trace(db):
    """A migration that fails half-way rolls back with everything else in its transaction."""

    class Broken:
        VERSION = 999
        NAME = "broken"

        @staticmethod
        def apply(database: peewee.Database) -> None:
            database.execute_sql("CREATE TABLE half_done (id INTEGER)")
            database.execute_sql("THIS IS NOT SQL")

    with pytest.raises(peewee.DatabaseError):
        migrate(db, [*MIGRATIONS, Broken])

    assert applied_versions(db) == []
    with db.connection_context():
        assert "half_done" not in db.get_tables()
        assert "users" not in db.get_tables()


def test_unreachable_postgres_is_unavailable_without_driver_text():
    db = connect("postgresql://postgres@127.0.0.1:1/nothing")

    with pytest.raises(Unavailable) as caught:
        migrate(db)

    assert caught.value.message == "The database is unavailable; try again later."
