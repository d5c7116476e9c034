"""The usage rows of the submission quotas (``user_quotas``): charge, refund, count.

SQL only; the decisions (reservations, refusals) are ``workq_core.jobs.quotas``.
``defaults`` is always ``(items_per_minute, items_waiting)`` as configured,
which a user's own (non-NULL) columns override; 0 is unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee

from workq_core.db import is_postgres
from workq_core.db.sql import rows, run
from workq_core.jobs.states import FINAL

Defaults = tuple[int, int]

# One statement charges both quotas or neither. The usage is advisory (a lost
# charge only gives a user back some quota), so on PostgreSQL it commits
# without waiting for the WAL flush: the row lock that orders one user's
# charges is held for microseconds, not for a disk write.
_CHARGE_SQL = (
    "UPDATE user_quotas SET"
    " window_items = CASE WHEN window_start = ? THEN window_items ELSE 0 END + ?,"
    " window_start = ?, waiting_bound = waiting_bound + ?"
    " WHERE user_id = ?"
    " AND (COALESCE(items_per_minute, ?) = 0"
    "  OR CASE WHEN window_start = ? THEN window_items ELSE 0 END + ?"
    "   <= COALESCE(items_per_minute, ?))"
    " AND (COALESCE(items_waiting, ?) = 0 OR waiting_bound + ? <= COALESCE(items_waiting, ?))"
    " RETURNING COALESCE(items_per_minute, ?) AS per_minute, COALESCE(items_waiting, ?) AS waiting"
)
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF; "
_CREATE_SQL = "INSERT INTO user_quotas (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING"
_ROW_SQL = (
    "SELECT COALESCE(items_per_minute, ?) AS per_minute, COALESCE(items_waiting, ?) AS waiting,"
    " window_start, window_items, waiting_bound, waiting_counted_at"
    " FROM user_quotas WHERE user_id = ?"
)
_WAITING_SQL = (
    "SELECT COUNT(*) AS n FROM items JOIN jobs ON jobs.id = items.job_id"
    " WHERE jobs.user_id = ? AND items.status NOT IN (?, ?, ?)"
)
_RECOUNTED_SQL = (
    "UPDATE user_quotas SET waiting_bound = ?, waiting_counted_at = ?"
    " WHERE user_id = ? AND waiting_counted_at < ?"
)
_OVERRIDES_SQL = (
    "SELECT 1 AS x FROM user_quotas"
    " WHERE items_per_minute IS NOT NULL OR items_waiting IS NOT NULL LIMIT 1"
)
_REFUND_SQL = (
    "UPDATE user_quotas SET"
    " window_items = CASE WHEN window_start = ? AND window_items > ? THEN window_items - ?"
    "  WHEN window_start = ? THEN 0 ELSE window_items END,"
    " waiting_bound = CASE WHEN waiting_bound > ? THEN waiting_bound - ? ELSE 0 END"
    " WHERE user_id = ?"
)


@dataclass(frozen=True)
class Limits:
    """A user's quotas in force: the configured ones or their own; 0 is unlimited."""

    per_minute: int
    waiting: int


def charge(
    db: peewee.Database, user_id: int, items: int, window: int, defaults: Defaults
) -> Limits | None:
    """Count ``items`` in the user's minute ``window`` and waiting bound if both fit.

    The user's limits if charged; None (nothing charged) if a quota would be
    exceeded or the user has no row yet.
    """
    per_minute, waiting = defaults
    params = [window, items, window, items, user_id, per_minute, window, items, per_minute]
    params += [waiting, items, waiting, per_minute, waiting]
    autocommit = is_postgres(db) and not db.in_transaction()
    found = run(db, _ASYNC_COMMIT + _CHARGE_SQL if autocommit else _CHARGE_SQL, params).fetchone()
    return None if found is None else Limits(int(found[0]), int(found[1]))


def refund(db: peewee.Database, user_id: int, items: int, window: int) -> None:
    """Give back ``items`` charged in minute ``window`` (the window counts only if current)."""
    run(db, _REFUND_SQL, (window, items, items, window, items, items, user_id))


def create(db: peewee.Database, user_id: int) -> None:
    run(db, _CREATE_SQL, (user_id,))


def usage(db: peewee.Database, user_id: int, defaults: Defaults) -> dict[str, Any] | None:
    """The user's row with their limits in force, or None if they have none yet."""
    found = rows(db, _ROW_SQL, (*defaults, user_id))
    return found[0] if found else None


def waiting_items(db: peewee.Database, user_id: int) -> int:
    """The exact number of the user's items not finished yet (one count over their jobs)."""
    return int(rows(db, _WAITING_SQL, (user_id, *sorted(FINAL)))[0]["n"])


def recount(db: peewee.Database, user_id: int, now: int, every_ms: int) -> None:
    """Replace the waiting bound by the exact count, unless it was counted within ``every_ms``."""
    run(db, _RECOUNTED_SQL, (waiting_items(db, user_id), now, user_id, now - every_ms))


def has_overrides(db: peewee.Database) -> bool:
    """Whether an admin set any user's own quota."""
    return bool(rows(db, _OVERRIDES_SQL))
