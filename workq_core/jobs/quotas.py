"""Per-user submission quotas: items per clock minute and items not yet finished.

So that one account cannot fill the queue for everyone. A submission is
charged before it is stored and refunded if it is not stored (an error, or
an idempotent repeat that returns the earlier job); a refused one writes
nothing. The usage lives in ``user_quotas``, shared by every jobs replica.

The hot path is one conditional UPDATE of the user's row. Items waiting are
kept as an upper bound: the exact count when it was last taken plus every
item charged since (items only leave that state, when they finish). Only a
submission the bound would refuse pays for the exact count, at most once per
``RECOUNT_EVERY_MS`` per user; a refusal that follows it is exact. Submissions
racing a recount may slip past the limit by their own sizes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import peewee

from workq_core.config.sections import JobsSettings
from workq_core.db import is_postgres
from workq_core.db.sql import now_ms, rows, run
from workq_core.errors import QuotaExceeded
from workq_core.jobs.states import FINAL

MINUTE_MS = 60_000
RECOUNT_EVERY_MS = 1_000
PER_MINUTE = "itemsPerMinute"
WAITING = "itemsWaiting"

# One statement charges both quotas or neither (0 = unlimited). The usage is
# advisory (a lost charge only gives a user back some quota), so on PostgreSQL
# it commits without waiting for the WAL flush: the row lock that serialises
# one user's charges is held for microseconds, not for a disk write.
_CHARGE_SQL = (
    "UPDATE user_quotas SET"
    " window_items = CASE WHEN window_start = ? THEN window_items ELSE 0 END + ?,"
    " window_start = ?, waiting_bound = waiting_bound + ?"
    " WHERE user_id = ?"
    " AND (COALESCE(items_per_minute, ?) = 0"
    "  OR CASE WHEN window_start = ? THEN window_items ELSE 0 END + ?"
    "   <= COALESCE(items_per_minute, ?))"
    " AND (COALESCE(items_waiting, ?) = 0 OR waiting_bound + ? <= COALESCE(items_waiting, ?))"
    " RETURNING user_id"
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


@dataclass
class Charge:
    """What :func:`charge` counted; refunded unless ``keep`` is set (the job was stored)."""

    user_id: int
    items: int
    window_start: int
    keep: bool = False


@contextlib.contextmanager
def charged(
    db: peewee.Database, settings: JobsSettings, user_id: int, items: int
) -> Iterator[Charge]:
    """Charge ``items`` around storing a submission; set ``keep`` once it is stored.

    Raises QuotaExceeded (nothing charged, nothing runs) when a quota would be
    exceeded; refunds the charge when the block raises or leaves ``keep`` unset.
    """
    spent = charge(db, settings, user_id, items)
    try:
        yield spent
    finally:
        if not spent.keep:
            refund(db, spent)


def charge(db: peewee.Database, settings: JobsSettings, user_id: int, items: int) -> Charge:
    """Count ``items`` against the user's quotas, or raise QuotaExceeded counting nothing."""
    now = now_ms()
    window = now - now % MINUTE_MS
    defaults = (settings.quota_items_per_minute, settings.quota_items_waiting)
    if defaults == (0, 0) and not _has_overrides(db):
        return Charge(user_id, 0, window)
    for _ in range(3):  # a missing row, then a recount, may each need one more try
        if _try_charge(db, user_id, items, window, defaults):
            return Charge(user_id, items, window)
        usage = _usage(db, user_id, defaults)
        if usage is None:
            run(db, _CREATE_SQL, (user_id,))
            continue
        _refuse_per_minute(usage, items, window, now)
        if usage["waiting_counted_at"] > now - RECOUNT_EVERY_MS:
            break
        _recount(db, user_id, now)
    raise _waiting_exceeded(_usage(db, user_id, defaults), items)


def refund(db: peewee.Database, spent: Charge) -> None:
    """Give back a charge whose submission was not stored (or found an earlier job)."""
    if spent.items == 0:
        return
    n, window = spent.items, spent.window_start
    run(db, _REFUND_SQL, (window, n, n, window, n, n, spent.user_id))


def _has_overrides(db: peewee.Database) -> bool:
    """Whether an admin set a user's own quota; without one, unlimited defaults cost nothing."""
    return bool(rows(db, _OVERRIDES_SQL))


def _try_charge(
    db: peewee.Database, user_id: int, items: int, window: int, defaults: tuple[int, int]
) -> bool:
    per_minute, waiting = defaults
    params = [window, items, window, items, user_id, per_minute, window, items, per_minute]
    params += [waiting, items, waiting]
    sql = (
        _ASYNC_COMMIT + _CHARGE_SQL if is_postgres(db) and not db.in_transaction() else _CHARGE_SQL
    )
    cursor = run(db, sql, params)
    return cursor.fetchone() is not None


def _usage(db: peewee.Database, user_id: int, defaults: tuple[int, int]) -> dict | None:
    found = rows(db, _ROW_SQL, (*defaults, user_id))
    return found[0] if found else None


def _refuse_per_minute(usage: dict, items: int, window: int, now: int) -> None:
    limit = int(usage["per_minute"])
    used = int(usage["window_items"]) if usage["window_start"] == window else 0
    if limit == 0 or used + items <= limit:
        return
    retry_after_s = max(1, math.ceil((window + MINUTE_MS - now) / 1000))
    if items > limit:
        message = (
            f"Quota itemsPerMinute exceeded: a job of {items} items is more than the"
            f" {limit} items you may submit per minute; submit it in smaller jobs."
        )
    else:
        message = (
            f"Quota itemsPerMinute exceeded: {used} of your {limit} items this minute are"
            f" used, {items} more do not fit; try again in {retry_after_s} s."
        )
    raise QuotaExceeded(message, quota=PER_MINUTE, limit=limit, retry_after_s=retry_after_s)


def waiting_items(db: peewee.Database, user_id: int) -> int:
    """The exact number of the user's items not finished yet (one count over their jobs)."""
    return int(rows(db, _WAITING_SQL, (user_id, *sorted(FINAL)))[0]["n"])


def _recount(db: peewee.Database, user_id: int, now: int) -> None:
    """Replace the bound by the exact count (unless another replica just did)."""
    exact = waiting_items(db, user_id)
    run(db, _RECOUNTED_SQL, (exact, now, user_id, now - RECOUNT_EVERY_MS))


def _waiting_exceeded(usage: dict | None, items: int) -> QuotaExceeded:
    assert usage is not None
    limit, waiting = int(usage["waiting"]), int(usage["waiting_bound"])
    retry_after_s = math.ceil(RECOUNT_EVERY_MS / 1000)
    return QuotaExceeded(
        f"Quota itemsWaiting exceeded: {waiting} of your items are not finished yet and"
        f" at most {limit} may be; {items} more do not fit. Try again once some finish.",
        quota=WAITING,
        limit=limit,
        retry_after_s=retry_after_s,
    )
