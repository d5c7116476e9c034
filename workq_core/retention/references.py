"""Which tables point at jobs or items: their rows go before the rows they reference.

Found from the schema's foreign keys (peewee's introspection, on SQLite and
PostgreSQL alike) rather than listed here, so a table a later migration or
another feature adds (progress events, schedules...) is purged with its jobs
as long as it declares its foreign key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

TARGETS = ("jobs", "items")


@dataclass(frozen=True, order=True)
class Reference:
    """``table.column`` holds the id of a row of ``target`` (jobs or items)."""

    table: str
    column: str
    target: str


def references(db: peewee.Database) -> list[Reference]:
    """Every foreign key into jobs or items, except items' own key to its job."""
    found = [
        Reference(key.table, key.column, key.dest_table)
        for table in db.get_tables()
        for key in db.get_foreign_keys(table)
        if key.dest_table in TARGETS
    ]
    return sorted(r for r in found if (r.table, r.target) != ("items", "jobs"))


def delete_referencing(
    db: peewee.Database, refs: Sequence[Reference], target: str, ids: Sequence[object]
) -> None:
    """Delete the rows of ``refs`` that point at these ``target`` rows.

    peewee's query builder quotes the table and column names (they come from
    the schema, not from users); the ids travel as parameters.
    """
    for ref in refs:
        if ref.target == target:
            table = peewee.Table(ref.table)
            table.delete().where(peewee.Column(table, ref.column).in_(list(ids))).execute(db)
