"""The item event log: what happened to which item, appended with the change, read by cursor.

Writers append in the transaction of the state change the event describes
(claim, outcome, progress, cancel, re-run), so the log and the items never
disagree. Readers page through it in ``(txid, id)`` order and only up to
the *frontier*: on PostgreSQL, rows of transactions older than every
transaction still running (``pg_snapshot_xmin``), since a younger one may
still commit rows with a smaller ``id``; on SQLite, where writers commit
one at a time in ``id`` order, every committed row. So a reader that
resumes after the last cursor it saw never skips an event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db import is_postgres
from workq_core.db.sql import insert_rows, placeholders, rows, run
from workq_core.errors import InvalidPayload

STARTED = "started"
PROGRESS = "progress"
SUCCEEDED = "succeeded"
FAILED = "failed"  # an attempt failed and the item waits for a retry
DEAD = "dead"
CANCELLED = "cancelled"
RERUN = "rerun"
KINDS = (STARTED, PROGRESS, SUCCEEDED, FAILED, DEAD, CANCELLED, RERUN)

MAX_DETAIL = 4000
_COLUMNS = (
    "job_id",
    "item_index",
    "kind",
    "attempt",
    "detail",
    "progress_done",
    "progress_total",
    "at",
)
_SELECT = "SELECT id, txid, " + ", ".join(_COLUMNS) + " FROM item_events"  # noqa: S608
_INSERT = "INSERT INTO item_events (" + ", ".join(_COLUMNS) + ") VALUES"
_INSERT_FOR_ITEMS = (
    "INSERT INTO item_events (" + ", ".join(_COLUMNS) + ")"  # noqa: S608 - constant columns
    " SELECT job_id, idx, ?, attempts, NULL, NULL, NULL, ? FROM items"
    " WHERE job_id = ? AND status IN ({marks})"
)
_PG_FRONTIER = " AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_CURSOR = re.compile(r"^(\d{1,19})\.(\d{1,19})$")


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the log; events are ordered by ``(txid, id)``."""

    txid: int = 0
    id: int = 0

    def encode(self) -> str:
        return f"{self.txid}.{self.id}"

    @classmethod
    def decode(cls, text: str, field: str = "after") -> Cursor:
        """A cursor this API returned; anything else is the client's error, naming ``field``."""
        match = _CURSOR.match(text) if isinstance(text, str) else None
        if match is None or max(int(match[1]), int(match[2])) > 2**63 - 1:
            raise InvalidPayload(f"{field} is not an event cursor this API returned.", field=field)
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class NewEvent:
    """An event to append: which item, what happened in which attempt, and its details."""

    job_id: str
    item_index: int
    kind: str
    attempt: int
    at: int
    detail: str | None = None
    progress_done: int | None = None
    progress_total: int | None = None

    def row(self) -> tuple[Any, ...]:
        detail = None if self.detail is None else self.detail[:MAX_DETAIL]
        return (
            self.job_id,
            self.item_index,
            self.kind,
            self.attempt,
            detail,
            self.progress_done,
            self.progress_total,
            self.at,
        )


@dataclass(frozen=True)
class LoggedEvent(NewEvent):
    """An event as read back, with its place in the log."""

    cursor: Cursor = Cursor()


def append(db: peewee.Database, events: Sequence[NewEvent]) -> None:
    """Add ``events`` in the caller's transaction, in one multi-row statement."""
    insert_rows(db, _INSERT, [event.row() for event in events])


def append_for_items(
    db: peewee.Database, kind: str, at: int, job_id: str, statuses: Sequence[str]
) -> None:
    """One ``kind`` event for each item of the job in one of ``statuses`` (before an UPDATE)."""
    sql = _INSERT_FOR_ITEMS.format(marks=placeholders(len(statuses)))
    run(db, sql, [kind, at, job_id, *statuses])


def read(
    db: peewee.Database, after: Cursor, job_ids: Sequence[str], limit: int = 500
) -> list[LoggedEvent]:
    """Up to ``limit`` events of these jobs after ``after``, up to the frontier."""
    where = f"job_id IN ({placeholders(len(job_ids))}) AND (txid > ? OR (txid = ? AND id > ?))"
    params: list[Any] = [*job_ids, after.txid, after.txid, after.id]
    frontier = _PG_FRONTIER if is_postgres(db) else ""
    sql = f"{_SELECT} WHERE {where}{frontier} ORDER BY txid, id LIMIT ?"
    return [_logged(row) for row in rows(db, sql, [*params, limit])]


def tail(db: peewee.Database) -> Cursor:
    """A cursor at or after every event behind the frontier: where a live reader starts.

    On PostgreSQL that is ``(xmin, 0)``: every row behind the frontier has a
    smaller ``txid``. No table is read either way.
    """
    if is_postgres(db):
        found = rows(db, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x")
        return Cursor(int(found[0]["x"]), 0)
    found = rows(db, "SELECT MAX(id) AS id FROM item_events")
    return Cursor(0, int(found[0]["id"] or 0))


def _logged(row: dict[str, Any]) -> LoggedEvent:
    cursor = Cursor(int(row.pop("txid")), int(row.pop("id")))
    return LoggedEvent(**row, cursor=cursor)
