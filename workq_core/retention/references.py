"""Which tables point at jobs or items: their rows go before the rows they reference.

Found from the schema's foreign keys rather than listed here, so a table a
later migration or another feature adds (progress events, schedules...) is
purged with its jobs as long as it declares its foreign key.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from workq_core.db import is_postgres
from workq_core.db.sql import rows

TARGETS = ("jobs", "items")
_PG_SQL = (
    "SELECT src.relname AS source, att.attname AS column_name, dst.relname AS target"
    " FROM pg_constraint c"
    " JOIN pg_class src ON src.oid = c.conrelid"
    " JOIN pg_class dst ON dst.oid = c.confrelid"
    " JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = c.conkey[1]"
    " WHERE c.contype = 'f' AND src.relnamespace = to_regnamespace(current_schema())"
    " AND dst.relname IN ('jobs', 'items')"
)


@dataclass(frozen=True, order=True)
class Reference:
    """``table.column`` holds the id of a row of ``target`` (jobs or items)."""

    table: str
    column: str
    target: str


def references(db: peewee.Database) -> list[Reference]:
    """Every foreign key into jobs or items, except items' own key to its job."""
    found = _postgres(db) if is_postgres(db) else _sqlite(db)
    return sorted(r for r in found if (r.table, r.target) != ("items", "jobs"))


def _postgres(db: peewee.Database) -> list[Reference]:
    return [Reference(r["source"], r["column_name"], r["target"]) for r in rows(db, _PG_SQL)]


def _sqlite(db: peewee.Database) -> list[Reference]:
    tables = [r["name"] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    found = []
    for table in tables:
        for key in rows(db, f"PRAGMA foreign_key_list({_quoted(table)})"):
            if key["table"] in TARGETS:
                found.append(Reference(table, key["from"], key["table"]))
    return found


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
